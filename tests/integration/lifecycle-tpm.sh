#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Windows 11's needs on the direct backend, with real QEMU (TCG):
#   - tpm: true: a swtpm runs beside the VM (vm.json records it, its state
#     in the VM's tpm/ directory), QMP query-tpm shows a tpm-crb device on
#     the emulator backend, the guest's kernel finds it; no swtpm is left
#     after stop, kill, a QEMU crash (also one the swtpm cannot notice:
#     it is frozen, so the next vmctl command must end it), a start that
#     fails after swtpm started, or destroy.
#   - firmware: uefi-secure: QEMU runs with smm=on and the secure flash,
#     the VM's variable store holds PK, KEK and db (Microsoft's keys) and
#     SecureBootEnable, and the guest's kernel reports Secure Boot enabled
#     (its EFI stub reads the firmware's SecureBoot variable); the same
#     kernel under plain uefi reports it disabled.
TEST_NAME=lifecycle-tpm
. "$(dirname "$0")/lib.sh"
need swtpm
lc_setup tpm

# swtpm processes of this test (its state dir in the command line), live
# ones only (a zombie waits for init to reap it: it runs no more).
swtpm_pids() {
	local d pid st
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[ "$(cat "$d/comm" 2>/dev/null)" = swtpm ] || continue
		tr '\0' '\n' 2>/dev/null < "$d/cmdline" |
			grep -q "^dir=$LC_TMP/" || continue
		st=$(sed 's/.*) //' "$d/stat" 2>/dev/null | cut -c1)
		[ "$st" != Z ] && [ "$st" != X ] || continue
		printf '%s\n' "$pid"
	done
}
no_swtpm() { [ -z "$(swtpm_pids)" ]; }
assert_no_swtpm() {
	wait_for "${2:-10}" no_swtpm ||
		fail "$1: swtpm left running: $(swtpm_pids | tr '\n' ' ')"
}
# The test's own cleanup first (a frozen swtpm must be thawed to go),
# then lib.sh's.
tpm_cleanup() {
	local rc=$? p
	for p in $(swtpm_pids); do
		kill -9 "$p" 2>/dev/null
	done
	(exit "$rc")
	lc_cleanup
}
trap tpm_cleanup EXIT

# efi_vars FILE: the variables of an OVMF variable store, one a line:
# NAME GUID SIZE [VALUE-IN-HEX for one byte] [ms: holds a Microsoft cert].
efi_vars() {
	python3 - "$1" <<'PY'
import struct, sys, uuid
data = open(sys.argv[1], "rb").read()
# Variable store header: the authenticated-variable GUID, then its size.
off = data.find(uuid.UUID("aaf32c78-947b-439a-a180-2e144ec37792").bytes_le)
if off < 0:
    sys.exit("no authenticated variable store")
size = struct.unpack_from("<I", data, off + 16)[0]
p, end = off + 28, off + size
while p + 60 <= end:
    # AUTHENTICATED_VARIABLE_HEADER: 60 bytes, then the UTF-16 name, data
    start, state = struct.unpack_from("<HB", data, p)
    if start != 0x55AA:
        break
    nsz, dsz = struct.unpack_from("<II", data, p + 36)
    guid = uuid.UUID(bytes_le=data[p + 44:p + 60])
    name = data[p + 60:p + 60 + nsz].decode("utf-16-le").rstrip("\0")
    value = data[p + 60 + nsz:p + 60 + nsz + dsz]
    if state == 0x3F:    # VAR_ADDED, not deleted
        ms = b"Microsoft Corporation" in value
        print(name, guid, dsz, value.hex() if dsz == 1 else "", "ms" if ms else "")
    p = (p + 60 + nsz + dsz + 3) & ~3
PY
}

vm=tpm
spec=$(lc_spec $vm "" "tpm: true")
dir=$(lc_vmdir $vm)

# ---- running: swtpm beside QEMU, recorded, query-tpm shows the device
vmc create "$spec" >/dev/null 2>&1 || fail "create with tpm: true failed"
pids=$(swtpm_pids)
[ "$(wc -w <<<"$pids")" = 1 ] || fail "expected one swtpm, got: $pids"
[ "$(jq -r .swtpm.pid "$dir/vm.json")" = "$pids" ] ||
	fail "vm.json does not record swtpm $pids: $(jq -c .swtpm "$dir/vm.json")"
[ -S "$dir/swtpm.sock" ] || fail "no swtpm.sock in the VM directory"
reply=$(qmp "$dir/qmp.sock" query-tpm) || fail "QMP query-tpm failed"
jq -e '.return | length == 1 and .[0].model == "tpm-crb" and
	.[0].options.type == "emulator"' <<<"$reply" >/dev/null ||
	fail "query-tpm: $reply"
lc_wait_ready $vm
grep -aq 'tpm_crb MSFT0101' "$dir/serial.log" ||
	fail "the guest kernel found no CRB TPM: $(grep -a -i tpm "$dir/serial.log")"
ls "$dir"/tpm/tpm2-* >/dev/null 2>&1 || fail "no TPM state in $dir/tpm"
say "running: swtpm $pids beside QEMU, query-tpm: tpm-crb on emulator"

# ---- stop, start, kill
vmc stop $vm >/dev/null 2>&1 || fail "stop failed"
assert_no_swtpm "after stop"
[ "$(jq -r .swtpm "$dir/vm.json")" = null ] || fail "vm.json keeps a swtpm after stop"
[ ! -e "$dir/swtpm.sock" ] && [ ! -e "$dir/swtpm.pid" ] ||
	fail "swtpm socket or pidfile left after stop"
vmc start $vm >/dev/null 2>&1 || fail "start failed"
[ -n "$(swtpm_pids)" ] || fail "no swtpm after start"
vmc kill $vm >/dev/null 2>&1 || fail "kill failed"
assert_no_swtpm "after kill"
say "stop and kill: no swtpm left"

# ---- QEMU crashes (kill -9); swtpm sees its socket close
vmc start $vm >/dev/null 2>&1 || fail "start after kill failed"
kill -9 "$(jq -r .pid "$dir/vm.json")"
assert_no_swtpm "after QEMU's kill -9"
[ "$(lc_status $vm | jq -r .state)" = crashed ] || fail "not crashed after kill -9"

# ---- QEMU crashes while its swtpm is frozen: vmctl must end it
vmc start $vm >/dev/null 2>&1 || fail "start after a crash failed"
sw=$(swtpm_pids)
[ -n "$sw" ] || fail "no swtpm after start from crashed"
kill -STOP "$sw"
kill -9 "$(jq -r .pid "$dir/vm.json")"
lc_assert_no_qemu "after kill -9" $vm
sleep 0.5
[ "$(swtpm_pids)" = "$sw" ] || fail "the frozen swtpm went by itself"
[ "$(lc_status $vm | jq -r .state)" = crashed ] || fail "not crashed after kill -9"
assert_no_swtpm "after vmctl status noticed the crash"
say "QEMU crash: swtpm gone (by itself, or ended by the next vmctl command)"

# ---- the same, noticed by start (the new swtpm is the only one)
vmc start $vm >/dev/null 2>&1 || fail "start failed"
sw=$(swtpm_pids)
kill -STOP "$sw"
kill -9 "$(jq -r .pid "$dir/vm.json")"
lc_assert_no_qemu "after kill -9" $vm
vmc start $vm >/dev/null 2>&1 || fail "start after a crash with a frozen swtpm failed"
now=$(swtpm_pids)
[ "$(wc -w <<<"$now")" = 1 ] && [ "$now" != "$sw" ] ||
	fail "after start: swtpm $now (the frozen one was $sw)"

# ---- destroy of a running VM
vmc destroy -f $vm >/dev/null 2>&1 || fail "destroy failed"
assert_no_swtpm "after destroy"
[ ! -e "$dir" ] || fail "VM directory left after destroy"
say "start after a crash and destroy: no swtpm left"

# ---- a start that fails after swtpm started: QEMU refuses its options
vm=tpmbad
if out=$(vmc create "$(lc_spec $vm "" "tpm: true
qemu: {extra_args: [-no-such-option]}")" 2>&1); then
	fail "create with a bad QEMU option succeeded"
fi
grep -q 'no-such-option' <<<"$out" || fail "failed create: $out"
assert_no_swtpm "after a failed start"
[ ! -e "$(lc_vmdir $vm)/swtpm.sock" ] || fail "swtpm.sock left after a failed start"
vmc destroy -f $vm >/dev/null 2>&1 || true
say "failed start: no swtpm left"

# ---- Secure Boot
ovmf=/usr/share/OVMF
if [ ! -r $ovmf/OVMF_CODE_4M.secboot.fd ] || [ ! -r $ovmf/OVMF_VARS_4M.ms.fd ]; then
	lc_assert_no_qemu "at the end"
	say "PASS (Secure Boot part skipped: Debian's ovmf is not installed)"
	exit 0
fi
# OVMF needs more than the tiny guest's 128M to load a kernel.
secure=$(lc_spec sb "" "firmware: uefi-secure")
plain=$(lc_spec nosb "" "firmware: uefi")
sed -i 's/^memory: 128M/memory: 512M/' "$secure" "$plain"
vmc create "$secure" >/dev/null 2>&1 || fail "create with uefi-secure failed"
dir=$(lc_vmdir sb)
pid=$(jq -r .pid "$dir/vm.json")
args=$(tr '\0' '\n' < "/proc/$pid/cmdline")
grep -q '^q35,accel=tcg,smm=on' <<<"$args" || fail "QEMU runs without smm=on"
grep -qx 'driver=cfi.pflash01,property=secure,value=on' <<<"$args" ||
	fail "QEMU runs without the secure flash"
grep -q '^driver=file,filename=.*OVMF_CODE_4M.secboot.fd,node-name=ovmf-code-file,read-only=on$' <<<"$args" ||
	fail "QEMU runs without the read-only Secure Boot build"
# The VM's own variable store (qcow2), as the firmware keeps it: its keys.
qemu-img convert -U -f qcow2 -O raw "$dir/OVMF_VARS.qcow2" "$LC_TMP/vars.raw" ||
	fail "cannot read the VM's qcow2 variable store"
vars=$(efi_vars "$LC_TMP/vars.raw") ||
	fail "cannot read the VM's variable store"
global=8be4df61-93ca-11d2-aa0d-00e098032b8c
imagesec=d719b2cb-3d3a-4596-a3bc-dad00e67656f
grep -q "^PK $global [1-9]" <<<"$vars" || fail "no PK enrolled: $vars"
grep -q "^KEK $global .* ms$" <<<"$vars" || fail "no Microsoft KEK: $vars"
grep -q "^db $imagesec .* ms$" <<<"$vars" || fail "no Microsoft db: $vars"
grep -q "^SecureBootEnable f0a30bc7-af08-4556-99c4-001009c93a44 1 01 " <<<"$vars" ||
	fail "SecureBootEnable is not 1: $vars"
lc_wait_ready sb 120
grep -aq 'secureboot: Secure boot enabled' "$dir/serial.log" ||
	fail "the guest does not see Secure Boot enabled: $(grep -ai secure "$dir/serial.log")"
vmc destroy -f sb >/dev/null 2>&1 || fail "destroy of the Secure Boot VM failed"
say "uefi-secure: smm=on, secure flash, PK/KEK/db enrolled, guest: Secure boot enabled"

# The same kernel under plain UEFI: Secure Boot off (the check above is
# the firmware's doing, not the kernel's).
vmc create "$plain" >/dev/null 2>&1 || fail "create with uefi failed"
lc_wait_ready nosb 120
grep -aq 'secureboot: Secure boot disabled' "$(lc_vmdir nosb)/serial.log" ||
	fail "plain uefi: $(grep -ai secure "$(lc_vmdir nosb)/serial.log")"
vmc destroy -f nosb >/dev/null 2>&1 || fail "destroy of the plain UEFI VM failed"
say "uefi: Secure boot disabled"

lc_assert_no_qemu "at the end"
assert_no_swtpm "at the end"
say PASS
