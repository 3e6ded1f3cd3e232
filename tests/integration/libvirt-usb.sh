#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Host USB devices (spec `usb:`) on a libvirt host (--connect, the real
# libvirtd): a device by id is defined as <hostdev type='usb'
# managed='yes'> with its vendor and product (libvirt finds it when the
# domain starts, so the VM is created with --no-start: this machine has no
# USB device).  A device by bus/port is found through libvirt's usb_device
# node devices at each start: this machine has none (checked below; the
# resolution itself is unit-tested from fixtures in test-lvnodedev), so a
# create that starts is refused with 69 in one line naming the port and
# the URI before anything is defined or uploaded; create --no-start
# defines it (the port in vmctl's mark, a stand-in device number) and
# `start` is refused the same way, the domain left shut off.
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

[ -z "$(vsh nodedev-list --cap usb_device)" ] ||
	skip "this host has USB devices: the test expects none at bus 3 port 1.2"

# By bus/port, starting: 69, one line naming port and URI, nothing defined
# or uploaded.
rc=0
"$VMCTL" --connect "$URI" create "$(spec "$vm2" '[{bus: 3, port: "1.2"}]')" \
	> /dev/null 2> "$TMP/err" || rc=$?
[ "$rc" -eq 69 ] || fail "bus/port: exit $rc, want 69: $(cat "$TMP/err")"
[ "$(grep -vc '^Creating VM ' "$TMP/err")" = 1 ] &&
	grep -qF "$URI: usb[0]: nothing plugged in at bus 3 port 1.2 on that host" "$TMP/err" ||
	fail "bus/port: not the one-line refusal: $(cat "$TMP/err")"
! vsh dominfo "$vm2" >/dev/null 2>&1 || fail "bus/port: a domain was defined"
for v in "$vm2.qcow2" "$vm2-seed.iso" "$vm2-serial.log"; do
	! vsh vol-info --pool vmctl "$v" >/dev/null 2>&1 || fail "bus/port: volume $v left"
done
say "bus/port, nothing plugged in: $(grep -v '^Creating' "$TMP/err")"

# By bus/port with --no-start: defined, the port kept in vmctl's mark.
"$VMCTL" --connect "$URI" create --no-start \
	"$(spec "$vm2" '[{id: "046d:c52b"}, {bus: 3, port: "1.2"}]')" \
	> /dev/null 2> "$TMP/err" || fail "bus/port --no-start: $(cat "$TMP/err")"
vsh dumpxml --inactive "$vm2" > "$TMP/dom2.xml" || fail "bus/port: no domain $vm2"
got=$(python3 - "$TMP/dom2.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
d = ET.parse(sys.argv[1]).getroot()
out = []
for h in d.findall("./devices/hostdev[@type='usb']"):
    a = h.find("source/address")
    out.append("%s=%s" % (h.find("alias").get("name"),
                          "%s/%s" % (a.get("bus"), a.get("device"))
                          if a is not None else "id"))
for u in d.findall("./metadata/{https://vmctl.dev/xmlns/vm/1}vm/"
                   "{https://vmctl.dev/xmlns/vm/1}usb"):
    out.append("mark:%s:%s:%s" % (u.get("index"), u.get("bus"), u.get("port")))
print(" ".join(out))
PY
)
[ "$got" = "ua-usb-host0=id ua-usb-host1=3/0 mark:1:3:1.2" ] ||
	fail "bus/port --no-start: the domain's USB devices are '$got'"
say "bus/port --no-start: $got"

# Its start: the port resolved again, nothing there: 69, one line, not
# started.
rc=0
"$VMCTL" --connect "$URI" start "$vm2" > /dev/null 2> "$TMP/err" || rc=$?
[ "$rc" -eq 69 ] || fail "start bus/port: exit $rc, want 69: $(cat "$TMP/err")"
[ "$(wc -l < "$TMP/err")" = 1 ] &&
	grep -qF "$URI: usb[1]: nothing plugged in at bus 3 port 1.2 on that host" "$TMP/err" ||
	fail "start bus/port: not the one-line refusal: $(cat "$TMP/err")"
[ "$(vsh domstate "$vm2")" = "shut off" ] || fail "start bus/port: the domain runs"
say "start, nothing plugged in: $(cat "$TMP/err")"

# export --libvirt has no mark to keep a port in: refused (65).
rc=0
"$VMCTL" export --libvirt "$TMP/$vm2.yaml" > /dev/null 2> "$TMP/err" || rc=$?
[ "$rc" -eq 65 ] && grep -qF "usb[1]: a device by bus and port needs a domain vmctl defines" "$TMP/err" ||
	fail "export bus/port: exit $rc: $(cat "$TMP/err")"
"$VMCTL" --connect "$URI" destroy "$vm2" > /dev/null 2> "$TMP/err" ||
	fail "destroy $vm2 failed: $(cat "$TMP/err")"

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
