#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The balloon: a VM without a GPU gets a virtio-balloon device, `vmctl
# balloon NAME SIZE` sets its target over QMP and waits until the guest
# (the busybox test guest, which loads virtio_balloon) has moved it.
# QEMU's own query-balloon, read here on the QMP socket, must agree, and
# so must `vmctl status`.  Refused: a VM created with balloon: false, a
# stopped VM, a size above the VM's memory or below 64M.
TEST_NAME=lifecycle-balloon
. "$(dirname "$0")/lib.sh"
lc_setup balloon

MiB=$((1 << 20))

# query-balloon's actual, straight from QEMU.
actual() {
	qmp "$(lc_vmdir "$1")/qmp.sock" query-balloon | jq -r .return.actual
}

# qemu_args NAME: the command line of NAME's QEMU, one line.
qemu_args() {
	tr '\0' ' ' < "/proc/$(lc_status "$1" | jq -r .pid)/cmdline"
}

# expect_refused RC PATTERN CMD...: CMD exits RC and says PATTERN.
expect_refused() {
	local want=$1 pattern=$2 out rc
	shift 2
	set +e
	out=$("$@" 2>&1)
	rc=$?
	set -e
	[ "$rc" = "$want" ] || fail "$*: exit $rc, not $want: $out"
	grep -q -- "$pattern" <<<"$out" || fail "$*: no \"$pattern\" in: $out"
	say "refused ($rc): $out"
}

sed -i 's/^memory: 128M$/memory: 256M/' "$(lc_spec bal)"
vmc create "$LC_TMP/bal.yaml" >/dev/null 2>&1 || fail "create bal failed"
lc_wait_ready bal
grep -q -- "-device virtio-balloon-pci,id=balloon0,deflate-on-oom=on " \
	<<<"$(qemu_args bal)" || fail "QEMU has no balloon device: $(qemu_args bal)"
[ "$(actual bal)" = $((256 * MiB)) ] || fail "balloon not at 256M: $(actual bal)"
[ "$(lc_status bal | jq -r .balloon)" = $((256 * MiB)) ] ||
	fail "status does not show the balloon: $(lc_status bal)"

# 1. Inflate: the guest keeps 128M.
out=$(vmc balloon bal 128M --timeout 60 2>&1) || fail "balloon 128M failed: $out"
say "$out"
[ "$out" = "VM bal: the guest has 128 MiB of its 256 MiB" ] ||
	fail "unexpected output: $out"
a=$(actual bal)
[ $((a > 127 * MiB && a <= 129 * MiB)) = 1 ] ||
	fail "QEMU's query-balloon says $a, not 128M"
s=$(lc_status bal | jq -r .balloon)
[ $((s > 127 * MiB && s <= 129 * MiB)) = 1 ] || fail "status says balloon $s"
vmc status bal | grep -q "^balloon:    128M" ||
	fail "status (human) does not show 128M: $(vmc status bal)"

# 2. Deflate, with --json.
out=$(vmc balloon bal 192M --json --timeout 60) || fail "balloon 192M failed"
[ "$(jq -c '[.name, .memory, .target]' <<<"$out")" = \
	"[\"bal\",$((256 * MiB)),$((192 * MiB))]" ] || fail "--json: $out"
a=$(actual bal)
[ $((a > 191 * MiB && a <= 193 * MiB)) = 1 ] ||
	fail "QEMU's query-balloon says $a, not 192M"
[ "$(jq -r .balloon <<<"$out")" = "$a" ] || fail "--json balloon: $out vs $a"
say "inflated to 128M and deflated to 192M, as QEMU reports"

# 3. Refusals that leave the balloon where it is.
expect_refused 64 "more than VM bal's memory (256 MiB)" vmc balloon bal 257M
expect_refused 64 "less than 64 MiB" vmc balloon bal 63M
expect_refused 64 "invalid size" vmc balloon bal 12X
a2=$(actual bal)
[ "$a2" = "$a" ] || fail "a refused balloon moved it: $a -> $a2"

# 4. A VM without a balloon device.
sed -i 's/^memory: 128M$/memory: {size: 128M, balloon: false}/' "$(lc_spec flat)"
vmc create "$LC_TMP/flat.yaml" >/dev/null 2>&1 || fail "create flat failed"
! grep -q virtio-balloon <<<"$(qemu_args flat)" ||
	fail "balloon: false, yet QEMU has a balloon device: $(qemu_args flat)"
expect_refused 1 "VM flat has no balloon device" vmc balloon flat 100M
[ "$(lc_status flat | jq -r .balloon)" = null ] ||
	fail "status of a VM without a balloon: $(lc_status flat)"

# 5. A stopped VM.
vmc stop bal --timeout 0 >/dev/null 2>&1 || fail "stop bal failed"
expect_refused 1 "VM bal is stopped" vmc balloon bal 128M
[ "$(lc_status bal | jq -r .balloon)" = null ] ||
	fail "status of a stopped VM shows a balloon: $(lc_status bal)"
say "PASS"
