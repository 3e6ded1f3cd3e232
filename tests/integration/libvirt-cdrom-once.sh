#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# boot: cdrom-once on a libvirt host (--connect qemu:///system, TCG), as
# lifecycle-cdrom.sh checks it on the direct backend: SeaBIOS's debug port
# (0x402, into a file through qemu.extra_args, <qemu:arg>s here) says which
# device the firmware tries first at each boot.  The disk (random bytes)
# and the ISO (random bytes) boot nothing, so every boot ends in "No
# bootable device" after trying both.  Checked:
#   - the definition create makes boots the CD-ROM first (<boot order>:
#     CD-ROM 1, disk 2, user aliases ua-cdrom0/ua-disk0), and so does the
#     first start;
#   - once it runs, the persistent definition has the disk first, and the
#     guest's own reboot (virsh reset: a reset of the same QEMU) boots the
#     disk first (the live bootindex moved by qom-set through libvirt);
#   - stop and start: the disk first;
#   - status (text, --json) says whether the once is done.
TEST_NAME=libvirt-cdrom-once
. "$(dirname "$0")/lib.sh"
need jq qemu-img python3
unset VMCTL_SYSFS_ROOT VMCTL_PROC_ROOT VMCTL_DEV_ROOT VMCTL_CONNECT
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-lvonce.XXXXXX")
export LC_ALL=C VMCTL_STATE_DIR=$TMP/state VMCTL_HOSTS_FILE=$TMP/hosts.yaml
URI=qemu:///system
VM=lvonce$$
digests=

. "$(dirname "$0")/lvtest-lib.sh"
lvt_cleanup_on_exit "$VM"

lvt_require
lvt_base
head -c 1M /dev/urandom > "$TMP/install.iso"
digests="$(sha256sum "$TMP/base.qcow2" "$TMP/install.iso" | cut -d' ' -f1 | tr '\n' ' ')"
DBG=$TMP/seabios.log
cat > "$TMP/$VM.yaml" <<YAML
name: $VM
cpus: 1
memory: 128M
accel: tcg
disk: {image: $TMP/base.qcow2}
cloud_init: false
cdrom: $TMP/install.iso
boot: cdrom-once
vnc: false
qemu:
  extra_args: [-chardev, "file,id=seabios,path=$DBG", -device, "isa-debugcon,iobase=0x402,chardev=seabios"]
YAML

# firmware's boot attempts after line $1 of its debug log
attempts() { tail -n +"$(($1 + 1))" "$DBG" 2>/dev/null | tr -d '\r' | sed -n 's/^Booting from \(.*\)\.\.\.$/\1/p'; }
first_attempt() { attempts "$1" | sed -n 1p; }
has_attempt() { [ -n "$(first_attempt "$1")" ]; }
dbg_lines() { wc -l < "$DBG" 2>/dev/null || echo 0; }
# "ALIAS=ORDER ..." of the domain's disks (dumpxml flags in $@)
orders() {
	vsh dumpxml "$@" "$VM" | python3 -c '
import sys, xml.etree.ElementTree as ET
d = ET.parse(sys.stdin).getroot()
print(" ".join("%s=%s" % (x.find("alias").get("name"), x.find("boot").get("order"))
               for x in d.findall("./devices/disk") if x.find("boot") is not None))'
}

# create --no-start: the definition boots the CD-ROM first
lv create --no-start "$TMP/$VM.yaml" > /dev/null 2> "$TMP/err" ||
	fail "create failed: $(cat "$TMP/err")"
[ "$(orders --inactive)" = "ua-disk0=2 ua-cdrom0=1" ] ||
	fail "the new definition's boot order: $(orders --inactive)"
[ "$(lv status --json "$VM" | jq -c .boot)" = '{"order":"cdrom-once","cdrom_booted":false}' ] ||
	fail "status --json boot before the first start: $(lv status --json "$VM" | jq -c .boot)"

# the first start: the CD-ROM first; then the definition has the disk first
t0=$SECONDS
lv start "$VM" > /dev/null 2> "$TMP/err" || fail "start failed: $(cat "$TMP/err")"
wait_for 120 has_attempt 0 || fail "SeaBIOS tried nothing: $(tail -n 5 "$DBG")"
[ "$(first_attempt 0)" = DVD/CD ] ||
	fail "the first start booted '$(first_attempt 0)' first, not the CD-ROM"
[ "$(orders --inactive)" = "ua-disk0=1 ua-cdrom0=2" ] ||
	fail "after the first start, the definition's boot order: $(orders --inactive)"
[ "$(lv status --json "$VM" | jq -c .boot)" = '{"order":"cdrom-once","cdrom_booted":true}' ] ||
	fail "status --json boot after the first start: $(lv status --json "$VM" | jq -c .boot)"
say "first start: the CD-ROM first ($((SECONDS - t0))s); definition now $(orders --inactive)"

# the guest's own reboot: a reset of the same QEMU, once the first boot
# has tried everything
wait_for 120 grep -q "No bootable device" "$DBG" ||
	fail "the first boot did not end: $(tail -n 5 "$DBG")"
mark=$(dbg_lines)
vsh reset "$VM" > /dev/null || fail "virsh reset failed"
wait_for 120 has_attempt "$mark" || fail "no boot after the reset: $(tail -n 5 "$DBG")"
[ "$(first_attempt "$mark")" = "Hard Disk" ] ||
	fail "after a reset the firmware booted '$(first_attempt "$mark")' first, not the disk"
say "reset: the disk first"

# stop and start: the disk first, and nothing more to swap
lv stop "$VM" --timeout 0 > /dev/null 2> "$TMP/err" || fail "stop failed: $(cat "$TMP/err")"
lv start "$VM" > /dev/null 2> "$TMP/err" || fail "second start failed: $(cat "$TMP/err")"
wait_for 120 has_attempt 0 || fail "SeaBIOS tried nothing after start: $(tail -n 5 "$DBG")"
[ "$(first_attempt 0)" = "Hard Disk" ] ||
	fail "after stop/start the firmware booted '$(first_attempt 0)' first, not the disk"
[ "$(orders)" = "ua-disk0=1 ua-cdrom0=2" ] || fail "the second start's live order: $(orders)"
lv status "$VM" | grep -c '^boot: *cdrom-once (done' > /dev/null || fail "status: $(lv status "$VM")"
say "stop/start: the disk first"

lv destroy "$VM" > /dev/null 2> "$TMP/err" || fail "destroy failed: $(cat "$TMP/err")"
say "PASS"
