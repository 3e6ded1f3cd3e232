#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Host USB devices (spec `usb:`) on a libvirt host (--connect, the real
# libvirtd): a device by id is defined as <hostdev type='usb'
# managed='yes'> with its vendor and product (libvirt finds it when the
# domain starts, so the VM is created with --no-start: this machine has no
# USB device); a device by bus/port is refused with 65 in one line naming
# the URI, before anything is defined or uploaded.
TEST_NAME=libvirt-usb
. "$(dirname "$0")/lib.sh"
need jq virsh
unset VMCTL_SYSFS_ROOT VMCTL_PROC_ROOT VMCTL_DEV_ROOT VMCTL_CONNECT
[ "$(id -u)" -eq 0 ] || skip "qemu:///system needs root"
URI=qemu:///system
vsh() { virsh -q -c "$URI" "$@"; }
vsh version >/dev/null 2>&1 || skip "libvirtd is not running"
GUEST=$(guest_dir) || skip "cannot build the test guest"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-lvusb.XXXXXX")
export LC_ALL=C VMCTL_STATE_DIR=$TMP/state VMCTL_HOSTS_FILE=$TMP/hosts.yaml
vm1=lvusb$$ vm2=lvusbport$$

cleanup() {
	set +e
	for d in "$vm1" "$vm2"; do
		vsh destroy "$d" >/dev/null 2>&1
		vsh undefine --nvram "$d" >/dev/null 2>&1
		for v in "$d.qcow2" "$d-seed.iso" "$d-serial.log"; do
			vsh vol-delete --pool vmctl "$v" >/dev/null 2>&1
		done
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

spec() { # NAME USB-LIST
	cat > "$TMP/$1.yaml" <<YAML
name: $1
cpus: 1
memory: 128M
accel: tcg
kernel:
  image: $GUEST/vmlinuz
  initrd: $GUEST/initrd.img
  cmdline: console=ttyS0 panic=-1 no_timer_check
vnc: {enabled: false}
usb: $2
YAML
	printf '%s\n' "$TMP/$1.yaml"
}

# By bus/port: 65, one line naming the URI, nothing defined or uploaded.
rc=0
"$VMCTL" --connect "$URI" create "$(spec "$vm2" '[{bus: 3, port: "1.2"}]')" \
	> /dev/null 2> "$TMP/err" || rc=$?
[ "$rc" -eq 65 ] || fail "bus/port: exit $rc, want 65: $(cat "$TMP/err")"
[ "$(grep -vc '^Creating VM ' "$TMP/err")" = 1 ] &&
	grep -qF "$URI: usb[0]: a device by bus and port is for the direct backend only" "$TMP/err" ||
	fail "bus/port: not the one-line refusal: $(cat "$TMP/err")"
! vsh dominfo "$vm2" >/dev/null 2>&1 || fail "bus/port: a domain was defined"
for v in "$vm2.qcow2" "$vm2-seed.iso" "$vm2-serial.log"; do
	! vsh vol-info --pool vmctl "$v" >/dev/null 2>&1 || fail "bus/port: volume $v left"
done
say "bus/port refused: $(grep -v '^Creating' "$TMP/err")"

# By id: the domain's hostdev.
"$VMCTL" --connect "$URI" create --no-start \
	"$(spec "$vm1" '[{id: "046d:c52b"}, {id: "0781:5581"}]')" > /dev/null 2> "$TMP/err" ||
	fail "by id: create failed: $(cat "$TMP/err")"
vsh dumpxml "$vm1" > "$TMP/dom.xml" || fail "by id: no domain $vm1"
got=$(python3 - "$TMP/dom.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
d = ET.parse(sys.argv[1]).getroot()
out = []
for h in d.findall("./devices/hostdev[@type='usb']"):
    s = h.find("source")
    out.append("%s:%s:%s" % (h.get("managed"), s.find("vendor").get("id"),
                             s.find("product").get("id")))
c = d.find("./devices/controller[@type='usb']")
out.append("%s/%s" % (c.get("model"), c.get("ports")))
print(" ".join(out))
PY
)
[ "$got" = "yes:0x046d:0xc52b yes:0x0781:0x5581 qemu-xhci/8" ] ||
	fail "by id: the domain's USB devices are '$got'"
"$VMCTL" --connect "$URI" destroy "$vm1" > /dev/null 2> "$TMP/err" ||
	fail "destroy failed: $(cat "$TMP/err")"
! vsh dominfo "$vm1" >/dev/null 2>&1 || fail "destroy left the domain"
say "by id: hostdevs $got"
say "usb on libvirt ok"
