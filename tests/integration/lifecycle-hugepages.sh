#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Guest RAM from hugepages: `memory: {size: 128M, hugepages: 2M}` (and
# auto) turns into a hugetlb memfd backend in `vmctl cmdline`, and that
# very argv, run as it is (-runas, the sandbox and all), boots the test
# guest with its RAM taken from the host's hugepage pool up front
# (prealloc).  A few 2M pages are reserved for the test through
# /proc/sys/vm/nr_hugepages and the old count put back at exit.
#
# Then through `vmctl create`: the broker claims the pages (status shows
# the claim), QEMU takes them, a second VM for which too few are left is
# refused with the count and the command that reserves more, and destroy
# gives them back.
TEST_NAME=lifecycle-hugepages
. "$(dirname "$0")/lib.sh"
lc_setup hugepages

NR=/proc/sys/vm/nr_hugepages
[ -w "$NR" ] || skip "cannot reserve hugepages here ($NR not writable)"
[ "$(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo)" = 2048 ] ||
	skip "the default hugepage size is not 2M"
hp() { awk -v k="HugePages_$1:" '$1 == k { print $2 }' /proc/meminfo; }

old_nr=$(cat "$NR")
hp_cleanup() {
	local rc=$?
	set +e
	echo "$old_nr" > "$NR" 2>/dev/null
	(exit "$rc")
	lc_cleanup
}
trap hp_cleanup EXIT
echo $((old_nr + 80)) > "$NR"
[ "$(hp Free)" -ge 64 ] || skip "could not reserve 64 free 2M pages (have $(hp Free))"
say "reserved: $(hp Total) pages, $(hp Free) free"

# QEMU gives up root for vmctl's user; without one yet, it keeps root.
id vmctl-qemu >/dev/null 2>&1 || export VMCTL_QEMU_USER=root

# 1. The argv: a preallocated hugetlb memfd is the machine's RAM.
for mode in 2M auto; do
	sed -i "s/^memory: .*/memory: {size: 128M, hugepages: $mode}/" \
		"$(lc_spec huge)"
	argv=$(vmc cmdline --json "$LC_TMP/huge.yaml") ||
		fail "cmdline (hugepages: $mode) failed"
	obj=$(jq -r '. as $a | [range(length)] | map(select($a[.] == "-object"))
		| .[0] | $a[. + 1]' <<<"$argv")
	[ "$obj" = "memory-backend-memfd,id=ram0,size=134217728,hugetlb=on,hugetlbsize=2097152,prealloc=on" ] ||
		fail "hugepages: $mode: -object $obj"
	jq -e 'index("-machine") as $i | .[$i + 1] | endswith(",memory-backend=ram0")' \
		<<<"$argv" >/dev/null || fail "hugepages: $mode: -machine has no memory-backend: $argv"
	jq -e 'index("-m") as $i | .[$i + 1] == "128M"' <<<"$argv" >/dev/null ||
		fail "hugepages: $mode: -m is not 128M"
done
say "cmdline: memory-backend-memfd with 2M pages (2M and auto)"

# 2. QEMU runs that argv, as the launcher would (serial log on fd 3).
dir=$(lc_vmdir huge)
mkdir -p "$dir"
chmod 0700 "$dir"
mapfile -t words < <(jq -r '.[]' <<<"$argv")
free_before=$(hp Free)
"${words[@]}" < /dev/null > "$LC_TMP/qemu.out" 2>&1 3>> "$LC_TMP/serial.log" &
qpid=$!
LC_KILL+=("$qpid")
ready() { grep -q '^vmctl-test-guest: ready' "$LC_TMP/serial.log" 2>/dev/null; }
if ! wait_for 180 ready; then
	sed 's/^/  | /' "$LC_TMP/qemu.out" "$LC_TMP/serial.log" | tail -n 30
	fail "the guest did not boot on hugepages"
fi
used=$((free_before - $(hp Free)))
[ "$used" -ge 64 ] || fail "QEMU took $used hugepages, not 64"
mem=$(qmp "$dir/qmp.sock" query-memdev | jq -c '.return[0] | [.id, .size, .prealloc]')
[ "$mem" = '["ram0",134217728,true]' ] || fail "query-memdev: $mem"
say "the guest booted; QEMU holds $used hugepages: $mem"

lc_qmp_send "$dir/qmp.sock" quit || fail "QMP quit failed"
wait_for 20 sh -c "! kill -0 $qpid 2>/dev/null" || fail "QEMU did not quit"
wait "$qpid" 2>/dev/null || true
[ "$(hp Free)" -ge "$free_before" ] ||
	fail "the hugepages did not come back: $(hp Free) free, $free_before before"

# 3. vmctl create: the broker's claim, then QEMU's pages.
sed -i "s/^memory: .*/memory: {size: 128M, hugepages: 2M}/" "$(lc_spec hp1)"
free_before=$(hp Free)
out=$(vmc create "$LC_TMP/hp1.yaml" 2>&1) || fail "create hp1 failed: $out"
claim=$(lc_status hp1 | jq -c .claim.hugepages)
[ "$(jq -c '[.size, .count]' <<<"$claim")" = "[2097152,64]" ] ||
	fail "hp1's claim: $claim"
used=$((free_before - $(hp Free)))
[ "$used" -ge 64 ] || fail "hp1's QEMU took $used hugepages, not 64"
say "create: claimed $claim, QEMU holds $used pages"

# 4. Too few left: refused before anything starts, saying how to reserve.
left=$(hp Free)
if [ "$left" -lt 64 ]; then
	sed -i "s/^memory: .*/memory: {size: 128M, hugepages: 2M}/" "$(lc_spec hp2)"
	set +e
	out=$(vmc create "$LC_TMP/hp2.yaml" 2>&1)
	rc=$?
	set -e
	[ "$rc" = 1 ] || fail "hp2 with $left free pages: exit $rc: $out"
	grep -q "VM \"hp2\" needs 64 hugepages of 2M on NUMA node [0-9]*, but $left of its [0-9]* are free; reserve them with: echo [0-9]* > /sys/devices/system/node/node[0-9]*/hugepages/hugepages-2048kB/nr_hugepages" <<<"$out" ||
		fail "the refusal does not say how many are free and how to reserve: $out"
	! vmc list --json | jq -e '.[] | select(.name == "hp2")' >/dev/null ||
		fail "the refused VM was left behind"
	lc_assert_no_qemu "after the refusal" hp2
	say "refused: $out"
fi

# 5. Destroy gives the pages back.
vmc destroy hp1 --force >/dev/null 2>&1 || fail "destroy hp1 failed"
wait_for 10 sh -c "[ \$(awk '\$1 == \"HugePages_Free:\" { print \$2 }' /proc/meminfo) -ge $free_before ]" ||
	fail "hp1's pages did not come back: $(hp Free) free, $free_before before"
say "PASS"
