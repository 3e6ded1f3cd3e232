#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Windows 11's needs on the libvirt backend (--connect qemu:///system):
# a VM with tpm: true and firmware: uefi-secure runs with libvirt's swtpm
# (QMP query-tpm: tpm-crb on the emulator backend), QEMU has smm=on, the
# secure flash and the Secure Boot build of OVMF, and the busybox guest's
# kernel reports Secure Boot enabled and finds the CRB TPM.  destroy leaves
# no domain, no swtpm, no NVRAM and no TPM state.
TEST_NAME=libvirt-tpm
. "$(dirname "$0")/lib.sh"
need jq virsh swtpm swtpm_setup
[ -r /usr/share/OVMF/OVMF_CODE_4M.secboot.fd ] || skip "no Secure Boot OVMF"
unset VMCTL_SYSFS_ROOT VMCTL_PROC_ROOT VMCTL_DEV_ROOT VMCTL_CONNECT
URI=qemu:///system
virsh -q -c "$URI" version >/dev/null 2>&1 || skip "no libvirtd at $URI"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-lvtpm.XXXXXX")
export LC_ALL=C VMCTL_STATE_DIR=$TMP/state VMCTL_HOSTS_FILE=$TMP/hosts.yaml
vm=lvtpm$$
# the serial log is a volume of the pool (lvvm-logs.c)
log=/var/lib/libvirt/images/vmctl/$vm-serial.log
uuid=

vsh() { virsh -q -c "$URI" "$@"; }
cleanup() {
	set +e
	vsh destroy "$vm" >/dev/null 2>&1
	vsh undefine --nvram "$vm" >/dev/null 2>&1 || vsh undefine "$vm" >/dev/null 2>&1
	for v in "$vm.qcow2" "$vm-seed.iso" "$vm-serial.log"; do
		vsh vol-delete --pool vmctl "$v" >/dev/null 2>&1
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
guest=$(guest_dir) || skip "cannot build the test guest"

cat > "$TMP/spec.yaml" <<YAML
name: $vm
cpus: 1
memory: 512M
accel: tcg
firmware: uefi-secure
tpm: true
kernel:
  image: $guest/vmlinuz
  initrd: $guest/initrd.img
  cmdline: console=ttyS0 panic=-1 no_timer_check
network: {ssh_port: auto, ssh_listen: 127.0.0.1}
vnc: {listen: 127.0.0.1}
YAML
"$VMCTL" --connect "$URI" create "$TMP/spec.yaml" > "$TMP/out" 2>&1 ||
	fail "create failed: $(cat "$TMP/out")"
uuid=$(vsh domuuid "$vm")
reply=$(vsh qemu-monitor-command "$vm" '{"execute": "query-tpm"}') ||
	fail "query-tpm failed"
jq -e '.return | length == 1 and .[0].model == "tpm-crb" and
	.[0].options.type == "emulator"' <<<"$reply" >/dev/null ||
	fail "query-tpm: $reply"
pgrep -f "swtpm socket.*$uuid" >/dev/null || fail "no swtpm runs for $vm"
args=$(ps -o args= -C qemu-system-x86_64 | grep -F "guest=$vm," | tr ' ' '\n')
grep -q 'smm=on' <<<"$args" || fail "QEMU runs without smm=on"
grep -qx 'driver=cfi.pflash01,property=secure,value=on' <<<"$args" ||
	fail "QEMU runs without the secure flash"
grep -q 'OVMF_CODE_4M.secboot.fd' <<<"$args" || fail "not the Secure Boot OVMF"
guest_says() { tr -d '\r' < "$log" 2>/dev/null | grep -aq "$1"; }
wait_for 120 guest_says '^vmctl-test-guest: ready' ||
	fail "the guest did not boot: $(tail -n 5 "$log" 2>/dev/null)"
guest_says 'secureboot: Secure boot enabled' ||
	fail "the guest does not see Secure Boot: $(grep -ai secure "$log")"
guest_says 'tpm_crb MSFT0101' || fail "the guest found no CRB TPM"
say "running: tpm-crb on libvirt's swtpm, smm=on, secure flash, guest: Secure boot enabled"

"$VMCTL" --connect "$URI" destroy --force "$vm" > "$TMP/out" 2>&1 ||
	fail "destroy failed: $(cat "$TMP/out")"
! vsh dominfo "$vm" >/dev/null 2>&1 || fail "domain left after destroy"
gone() { ! pgrep -f "swtpm socket.*$uuid" >/dev/null; }
wait_for 10 gone || fail "swtpm left after destroy"
[ ! -e "/var/lib/libvirt/swtpm/$uuid" ] || fail "TPM state left after destroy"
[ ! -e "/var/lib/libvirt/qemu/nvram/${vm}_VARS.fd" ] || fail "NVRAM left after destroy"
say PASS
