#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Host USB devices passed through (spec `usb:`), with real QEMU (TCG) and
# a fake SYSFS/bus/usb/devices: the sysfs root is a directory of links to
# this machine's /sys but for bus/usb, which this test writes (the real
# /sys is only read). QEMU starts with usb-host devices for what the tree
# has (an absent real device is fine for QEMU: it waits for it), with the
# properties the spec asks for (read back over QMP); status, host and
# cmdline show them. A second VM wanting a device the first holds is
# refused naming the holder and leaves nothing behind; stop and a crash
# give the device back. A device missing from the tree is refused at
# start with one line (69), an id two devices have is refused naming both
# (65).
TEST_NAME=lifecycle-usb
. "$(dirname "$0")/lib.sh"
lc_setup usb

# The fake sysfs root.
SYS=$LC_TMP/sys
mkdir -p "$SYS/bus"
for e in /sys/*; do
	[ "${e##*/}" = bus ] || ln -s "$e" "$SYS/${e##*/}"
done
for e in /sys/bus/*; do
	[ "${e##*/}" = usb ] || ln -s "$e" "$SYS/bus/${e##*/}"
done
# usbdev NAME VENDOR PRODUCT BUS DEVNUM PORT PRODUCT-NAME
usbdev() {
	local d=$SYS/bus/usb/devices/$1
	mkdir -p "$d"
	echo "$2" > "$d/idVendor"
	echo "$3" > "$d/idProduct"
	echo "$4" > "$d/busnum"
	echo "$5" > "$d/devnum"
	echo "$6" > "$d/devpath"
	[ -z "${7:-}" ] || echo "$7" > "$d/product"
}
usbdev usb3 1d6b 0003 3 1 0 "xHCI Host Controller"
usbdev 3-1.2 046d c52b 3 7 1.2 "USB Receiver"
mkdir -p "$SYS/bus/usb/devices/3-1.2:1.0"
usbdev 1-4 0781 5581 1 4 4 "Ultra"
usbdev 1-5 0781 5581 1 5 5 "Ultra"
usbdev 1-6 1050 0407 1 6 6 "YubiKey"
export VMCTL_SYSFS_ROOT=$SYS

# usbvm NAME YAML-LIST: a busybox VM spec with `usb: YAML-LIST`.
usbvm() { lc_spec "$1" "" "usb: $2"; }
# qom VM PATH PROPERTY: a property of a QOM object of VM's QEMU.
qom() {
	python3 - "$(lc_vmdir "$1")/qmp.sock" "$2" "$3" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rw")
json.loads(f.readline())
for cmd in ({"execute": "qmp_capabilities"},
            {"execute": "qom-get", "arguments": {"path": sys.argv[2],
                                                "property": sys.argv[3]}}):
    f.write(json.dumps(cmd) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "event" not in r:
            break
    if "error" in r:
        sys.exit("qom-get %s %s: %s" % (sys.argv[2], sys.argv[3], r["error"]))
print(json.dumps(r["return"]))
PY
}
names() { vmc list --json | jq -r '[.[].name] | join(",")'; }
# refused NAME STATUS PATTERN: create NAME exits STATUS with one line
# matching PATTERN, and leaves no VM, directory or QEMU.
refused() {
	local rc out
	set +e
	out=$(vmc create "$LC_TMP/$1.yaml" 2>&1)
	rc=$?
	set -e
	[ "$rc" = "$2" ] || fail "$1: exit $rc, not $2: $out"
	# (create says "Creating VM NAME..." first)
	[ "$(grep -vc '^Creating VM ' <<<"$out")" = 1 ] || fail "$1: not one line: $out"
	grep -qF -- "$3" <<<"$out" || fail "$1: the refusal does not say '$3': $out"
	[ ! -e "$(lc_vmdir "$1")" ] || fail "$1: its directory was left behind"
	lc_assert_no_qemu "after $1's refusal" "$1"
	say "refused $1: $out"
}

# 1. The argv: usb-host by id and by bus/port on an xHCI controller.
usbvm a '[{id: "046d:c52b"}, {bus: 1, port: "4"}]' >/dev/null
argv=$(vmc cmdline "$LC_TMP/a.yaml") || fail "cmdline a failed"
grep -qF "usb-host,bus=usb0.0,vendorid=0x046d,productid=0xc52b,id=usb-host0" <<<"$argv" &&
	grep -qF "usb-host,bus=usb0.0,hostbus=1,hostport=4,id=usb-host1" <<<"$argv" &&
	grep -qF "qemu-xhci,id=usb0,p2=8,p3=8" <<<"$argv" ||
	fail "cmdline does not show the USB devices: $argv"

# 2. It starts; QEMU has both devices with the spec's properties.
out=$(vmc create "$LC_TMP/a.yaml" 2>&1) || fail "create a failed: $out"
pid=$(jq -r .pid <<<"$(lc_status a)")
lc_is_qemu "$pid" || fail "a: pid $pid is not QEMU"
[ "$(qom a /machine/peripheral/usb-host0 vendorid)" = $((0x046d)) ] &&
	[ "$(qom a /machine/peripheral/usb-host0 productid)" = $((0xc52b)) ] &&
	[ "$(qom a /machine/peripheral/usb-host1 hostbus)" = 1 ] &&
	[ "$(qom a /machine/peripheral/usb-host1 hostport)" = '"4"' ] ||
	fail "QEMU's usb-host devices do not have the spec's properties"
[ "$(qom a /machine/peripheral/usb-host0 type)" = '"usb-host"' ] ||
	fail "usb-host0 is not a usb-host device"
st=$(lc_status a)
[ "$(jq -c .claim.usb <<<"$st")" = '["3-1.2","1-4"]' ] ||
	fail "status --json does not show the USB claim: $(jq -c .claim <<<"$st")"
vmc status a | grep -qx "usb: *3-1.2, 1-4 (bus-port)" ||
	fail "status does not show the USB claim: $(vmc status a)"
host=$(vmc host 2>&1) || fail "vmctl host failed: $host"
grep -qE "^  a +.*, USB 3-1.2, 1-4$" <<<"$host" || fail "vmctl host does not show a's USB: $host"
[ "$(vmc host --json | jq -c '.claims[] | select(.vm == "a") | .usb')" = '["3-1.2","1-4"]' ] ||
	fail "vmctl host --json does not show a's USB"
say "a runs with usb-host 046d:c52b and 1-4; status, host, cmdline show them"

# 3. Another VM wanting a device a holds (by its port): refused, a untouched.
usbvm b '[{id: "1050:0407"}, {bus: 3, port: "1.2"}]' >/dev/null
refused b 1 'USB device bus 3 port 1.2 (046d:c52b USB Receiver) is in use by VM "a"'
[ "$(names)" = a ] || fail "the refusal left a VM behind: $(names)"
[ "$(jq -r .pid <<<"$(lc_status a)")" = "$pid" ] && lc_is_qemu "$pid" ||
	fail "the refusal touched VM a"

# 4. Missing from the host: one line, 69. An id two devices have: 65,
# naming both.
usbvm c '[{id: "dead:beef"}]' >/dev/null
refused c 69 'usb[0]: no USB device dead:beef on this host'
usbvm d '[{id: "0781:5581"}]' >/dev/null
refused d 65 'usb[0]: 2 USB devices are 0781:5581: bus 1 port 4 (0781:5581 Ultra) and bus 1 port 5 (0781:5581 Ultra)'
[ "$(names)" = a ] || fail "refusals left VMs behind: $(names)"

# 5. Stop gives the devices back: b starts now and holds 3-1.2.
vmc stop a --timeout 0 >/dev/null 2>&1 || fail "stop a failed"
[ "$(jq -r .claim "$(lc_vmdir a)/vm.json")" = null ] || fail "stop kept a's claim"
out=$(vmc create "$LC_TMP/b.yaml" 2>&1) || fail "b refused after a stopped: $out"
[ "$(jq -c .claim.usb <<<"$(lc_status b)")" = '["1-6","3-1.2"]' ] ||
	fail "b does not hold its devices: $(jq -c .claim <<<"$(lc_status b)")"
bpid=$(jq -r .pid <<<"$(lc_status b)")

# 6. A crash: a cannot start while b lives; after b's QEMU dies, it can.
set +e
out=$(vmc start a 2>&1)
rc=$?
set -e
[ "$rc" = 1 ] && grep -qF 'is in use by VM "b"' <<<"$out" ||
	fail "a started while b held 3-1.2: exit $rc: $out"
kill -9 "$bpid"
qemu_gone() { ! lc_is_qemu "$1"; }
wait_for 30 qemu_gone "$bpid" || fail "QEMU $bpid survived SIGKILL"
out=$(vmc start a 2>&1) || fail "a refused after b crashed: $out"
[ "$(jq -r .state <<<"$(lc_status b)")" = crashed ] || fail "b is not crashed"
[ "$(jq -c .claim.usb <<<"$(lc_status a)")" = '["3-1.2","1-4"]' ] ||
	fail "a does not hold its devices again"
vmc destroy a --force >/dev/null 2>&1 || fail "destroy a failed"
vmc destroy b --force >/dev/null 2>&1 || fail "destroy b failed"
lc_assert_no_qemu "after destroy"
say "stop and a crash give the devices back"
say "usb ok"
