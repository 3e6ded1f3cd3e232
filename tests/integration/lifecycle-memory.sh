#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The broker's memory rule: running VMs' RAM plus the host's reserve
# (max(10 %, 2 GiB)) may not pass the host's RAM.  A VM asking for more
# than is left is refused with the numbers, and the refusal changes
# nothing (the running VM keeps its QEMU, no VM is left behind); with
# overcommit: true it starts.  Its claim is recorded in vm.json and given
# back at stop, and when a command finds its QEMU dead.
TEST_NAME=lifecycle-memory
. "$(dirname "$0")/lib.sh"
lc_setup memory

# What is left, in MiB, once "small" (128M) runs: the broker's arithmetic.
total_m=$(( $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 1024 ))
reserve_m=$(( total_m / 10 > 2048 ? total_m / 10 : 2048 ))
left_m=$(( total_m - reserve_m - 128 ))
[ "$left_m" -gt 512 ] || skip "this host has too little RAM ($total_m MiB)"
big_m=$(( left_m + 256 ))   # more than is left, less than the host has
say "host $total_m MiB, reserve $reserve_m MiB, left $left_m MiB: asking $big_m MiB"

claim() { jq -c '.claim // empty' "$(lc_vmdir "$1")/vm.json"; }

vmc create "$(lc_spec small)" >/dev/null 2>&1 || fail "create small failed"
pid=$(jq -r .pid <<<"$(lc_status small)")
lc_is_qemu "$pid" || fail "small: pid $pid is not QEMU"
[ "$(claim small | jq -r .memory)" = $(( 128 << 20 )) ] ||
	fail "small's claim is not its 128 MiB: $(claim small)"

# 1. Too much: refused, with the numbers; nothing changes.
sed -i "s/^memory: 128M$/memory: ${big_m}M/" "$(lc_spec big)"
set +e
out=$(vmc create "$LC_TMP/big.yaml" 2>&1)
rc=$?
set -e
[ "$rc" = 1 ] || fail "a VM past the host's RAM: exit $rc: $out"
grep -q "VM \"big\" asks for .* of memory, but running VMs hold 128 MiB" <<<"$out" ||
	fail "the refusal does not say what is held: $out"
grep -q "overcommit: true allows it" <<<"$out" || fail "no hint at overcommit: $out"
say "refused: $out"
[ "$(jq -r .pid <<<"$(lc_status small)")" = "$pid" ] && lc_is_qemu "$pid" ||
	fail "the refusal touched the running VM"
[ "$(vmc list --json | jq -r '[.[].name] | join(",")')" = small ] ||
	fail "the refused VM was left behind: $(vmc list --json)"
lc_assert_no_qemu "after the refusal" big

# 2. The same with overcommit: true starts, and records its claim.
sed -i "s/^memory: 128M$/memory: ${big_m}M/" "$(lc_spec big "" "overcommit: true")"
out=$(vmc create "$LC_TMP/big.yaml" 2>&1) || fail "overcommit: true was refused: $out"
[ "$(jq -r .state <<<"$(lc_status big)")" = running ] || fail "big is not running"
[ "$(claim big | jq -r .memory)" = $(( big_m << 20 )) ] ||
	fail "big's claim is not its memory: $(claim big)"
say "overcommit: true: big runs beside small"

# 3. A stop gives the claim back.
vmc stop small --timeout 0 >/dev/null 2>&1 || fail "stop small failed"
[ -z "$(claim small)" ] || fail "stop left small's claim: $(claim small)"

# 4. So does the next command after QEMU dies on its own.
bpid=$(jq -r .pid <<<"$(lc_status big)")
kill -9 "$bpid"
qemu_gone() { ! lc_is_qemu "$1"; }   # dead, or a zombie tmux has yet to reap
wait_for 30 qemu_gone "$bpid" || fail "QEMU $bpid survived SIGKILL"
[ "$(jq -r .state <<<"$(lc_status big)")" = crashed ] || fail "big is not crashed"
[ -z "$(claim big)" ] || fail "a dead QEMU's claim was kept: $(claim big)"
say "claims given back at stop and after a crash"

# 5. The host reserve is configurable (vmctl host reserve, or
# VMCTL_HOST_RESERVE over it), and start plans with the configured one.
res_m=$(( total_m * 90 / 100 ))
ask_m=$(( total_m - res_m + 256 ))   # past what a 90 % reserve leaves
sed -i "s/^memory: 128M$/memory: ${ask_m}M/" "$(lc_spec roomy)"
set +e
out=$(VMCTL_HOST_RESERVE=90% vmc create "$LC_TMP/roomy.yaml" 2>&1)
rc=$?
set -e
[ "$rc" = 1 ] && grep -q "is reserved for the host" <<<"$out" ||
	fail "a 90 % reserve did not refuse $ask_m MiB: exit $rc: $out"
vmc host reserve 90% >/dev/null || fail "host reserve 90% failed"
set +e
out=$(vmc create "$LC_TMP/roomy.yaml" 2>&1)
rc=$?
set -e
[ "$rc" = 1 ] || fail "the stored 90 % reserve was not used: exit $rc: $out"
vmc host reserve default >/dev/null || fail "host reserve default failed"
out=$(vmc create "$LC_TMP/roomy.yaml" 2>&1) ||
	fail "$ask_m MiB refused under the default reserve: $out"
say "start plans with the configured reserve"
say "memory claims ok"
