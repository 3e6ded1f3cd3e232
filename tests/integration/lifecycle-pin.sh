#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# CPU pinning on this machine's real cores: a VM with `cpus.pin` gets its
# vCPU thread (as QMP's query-cpus-fast names it) on its host CPU and
# every other QEMU thread on the remaining ones, read back from
# /proc/PID/task/*/status (Cpus_allowed_list); the guest boots. A second
# VM asking for the same core is refused (exit 1) without touching the
# first; one whose pinning would leave QEMU's emulator threads no core is
# refused too. Stop, and a crash found by the next command, give the core
# back.
TEST_NAME=lifecycle-pin
. "$(dirname "$0")/lib.sh"
lc_setup pin

ncpu=$(getconf _NPROCESSORS_ONLN)
[ "$ncpu" -ge 2 ] || skip "needs 2 online CPUs, this host has $ncpu"
last=$((ncpu - 1))
others=$( [ "$last" = 1 ] && echo 0 || echo "0-$((last - 1))")

# pinned NAME PIN: a one-vCPU VM spec with cpus.pin PIN.
pinned() {
	local f
	f=$(lc_spec "$1")
	sed -i "s/^cpus: 1$/cpus: {sockets: 1, cores: 1, threads: 1, pin: $2}/" "$f"
	printf '%s\n' "$f"
}
allowed() { awk '/^Cpus_allowed_list:/ { print $2 }' "$1/status"; }

vmc create "$(pinned a "\"$last\"")" >/dev/null 2>&1 || fail "create a failed: $(vmc create "$LC_TMP/a.yaml" 2>&1)"
pid=$(jq -r .pid <<<"$(lc_status a)")
lc_is_qemu "$pid" || fail "a: pid $pid is not QEMU"

# 1. The vCPU thread QEMU names is on CPU $last; all others on $others.
vcpu=$(qmp "$(lc_vmdir a)/qmp.sock" query-cpus-fast | jq -r '.return[0]["thread-id"]')
[ -d "/proc/$pid/task/$vcpu" ] || fail "vCPU thread $vcpu is not in QEMU $pid"
[ "$(allowed "/proc/$pid/task/$vcpu")" = "$last" ] ||
	fail "vCPU thread $vcpu runs on $(allowed "/proc/$pid/task/$vcpu"), not $last"
n=0
for t in /proc/"$pid"/task/*; do
	[ "${t##*/}" = "$vcpu" ] && continue
	[ "$(allowed "$t")" = "$others" ] ||
		fail "QEMU thread ${t##*/} ($(cat "$t/comm")) runs on $(allowed "$t"), not $others"
	n=$((n + 1))
done
[ "$n" -ge 1 ] || fail "QEMU has no thread besides its vCPU"
say "vCPU thread $vcpu on CPU $last, $n other threads on $others"
lc_wait_ready a 180
st=$(lc_status a)
[ "$(jq -c .claim.vcpu_cpus <<<"$st")" = "[$last]" ] &&
	[ "$(jq -r .claim.emulator_cpus <<<"$st")" = "$others" ] &&
	[ "$(jq -r .claim.cpus <<<"$st")" = "$last" ] ||
	fail "status does not show the pinning: $(jq -c .claim <<<"$st")"
vmc status a | grep -q "^pinning:    vCPU 0 on CPU $last" ||
	fail "status's text does not show the pinning: $(vmc status a)"

# 2. Another VM on the same core: refused, nothing changes.
set +e
out=$(vmc create "$(pinned b "\"$last\"")" 2>&1)
rc=$?
set -e
[ "$rc" = 1 ] || fail "a second VM pinned to CPU $last: exit $rc: $out"
grep -q "CPU $last is on a core pinned to VM \"a\"" <<<"$out" ||
	fail "the refusal does not name the holder: $out"
[ "$(jq -r .pid <<<"$(lc_status a)")" = "$pid" ] && lc_is_qemu "$pid" &&
	[ "$(allowed "/proc/$pid/task/$vcpu")" = "$last" ] ||
	fail "the refusal touched VM a"
[ "$(vmc list --json | jq -r '[.[].name] | join(",")')" = a ] ||
	fail "the refused VM was left behind"
lc_assert_no_qemu "after the refusal" b
say "refused: $out"

# 3. pin: auto on what is left: only core(s) $others, so pinning there
# would leave QEMU's own threads nowhere: refused with the reason.
if [ "$ncpu" = 2 ]; then
	set +e
	out=$(vmc create "$(pinned c auto)" 2>&1)
	rc=$?
	set -e
	[ "$rc" = 1 ] && grep -q "would leave no core for QEMU's emulator" <<<"$out" ||
		fail "auto pinning on the last free core: exit $rc: $out"
	say "refused: $out"
fi

# 4. Stop gives the core back: b starts on it now.
vmc stop a --timeout 0 >/dev/null 2>&1 || fail "stop a failed"
[ "$(jq -r .claim "$(lc_vmdir a)/vm.json")" = null ] || fail "stop kept a's claim"
vmc create "$LC_TMP/b.yaml" >/dev/null 2>&1 || fail "b refused after a stopped: $(vmc create "$LC_TMP/b.yaml" 2>&1)"
bpid=$(jq -r .pid <<<"$(lc_status b)")

# 5. A crash: the next command gives the core back, a starts again.
kill -9 "$bpid"
qemu_gone() { ! lc_is_qemu "$1"; }   # dead, or a zombie tmux has yet to reap
wait_for 30 qemu_gone "$bpid" || fail "QEMU $bpid survived SIGKILL"
out=$(vmc start a 2>&1) || fail "a refused after b crashed: $out"
[ "$(jq -r .state <<<"$(lc_status b)")" = crashed ] || fail "b is not crashed"
pid=$(jq -r .pid <<<"$(lc_status a)")
vcpu=$(qmp "$(lc_vmdir a)/qmp.sock" query-cpus-fast | jq -r '.return[0]["thread-id"]')
[ "$(allowed "/proc/$pid/task/$vcpu")" = "$last" ] || fail "a restarted unpinned"
say "stop and crash give the core back"
say "pinning ok"
