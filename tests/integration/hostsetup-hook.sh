#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The init-top hook host-setup writes for twin cards (bound by address,
# tests/hostsetup/hosts/twin-gtx1080.json on the Debian root), run as the
# initramfs would run it (sh, VMCTL_HOOK_SYSFS pointing at a fake sysfs)
# on three machines: the same one (both functions of 02:00 go to
# vfio-pci, their drivers let go of them); one where the NVMe controller
# of the root disk now sits at 02:00.0 (a card moved); one where the two
# GTX 1080s swapped slots (same vendor and device ids, other subsystem
# ids: the host's card is at 02:00 now).  In the last two nothing at 02:00
# is touched and the hook says why.
TEST_NAME=hostsetup-hook
. "$(dirname "$0")/hostsetup-lib.sh"
hs_init hook twin-gtx1080 debian
HS_SELECTOR=NVIDIA
hook=etc/initramfs-tools/scripts/init-top/vmctl-vfio

hs_fresh
hs_apply
hs_ok "--yes" || hs_done
[ -x "$HS_ROOT/$hook" ] || { hs_fail "no executable $hook"; hs_done; }

# machine NAME PYTHON: a fake sysfs from twin-gtx1080.json changed by
# PYTHON (acting on `d`, the description, and `slot(addr)`, an entry).
machine() {
	python3 - "$HS_DATA/hosts/twin-gtx1080.json" "$HS_TMP/$1.json" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
def slot(addr, where=None):
    for e in d["devices"] if where is None else where:
        if e["addr"] == addr:
            return e
        found = slot(addr, e.get("children", []))
        if found:
            return found
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"))
PY
	python3 "$ROOT/scripts/gen-sysfs.py" "$HS_TMP/$1.json" "$HS_TMP/$1" 2>/dev/null ||
		fail "gen-sysfs $1 failed"
}

# run NAME: the hook on machine NAME; its stderr in $HS_TMP/NAME.err.
# Under busybox's sh when there is one (what an initramfs runs), else sh.
shell=(sh)
if command -v busybox > /dev/null && busybox sh -c : 2> /dev/null; then
	shell=(busybox sh)
fi
run() {
	VMCTL_HOOK_SYSFS=$HS_TMP/$1/sys "${shell[@]}" "$HS_ROOT/$hook" \
		> "$HS_TMP/$1.out" 2> "$HS_TMP/$1.err" ||
		hs_fail "$1: the hook failed: $(cat "$HS_TMP/$1.err")"
}

attr() { cat "$HS_TMP/$1/sys/bus/pci/devices/$2/$3"; }

# The same machine: 02:00.0 and 02:00.1 to vfio-pci, 01:00 kept.
machine same ''
run same
for f in 0000:02:00.0 0000:02:00.1; do
	[ "$(attr same $f driver_override)" = vfio-pci ] ||
		hs_fail "same machine: $f's driver_override is $(attr same $f driver_override)"
done
[ "$(cat "$HS_TMP/same/sys/bus/pci/drivers/nouveau/unbind")" = 0000:02:00.0 ] ||
	hs_fail "same machine: nouveau was not told to let go of 0000:02:00.0"
[ "$(cat "$HS_TMP/same/sys/bus/pci/drivers/snd_hda_intel/unbind")" = 0000:02:00.1 ] ||
	hs_fail "same machine: snd_hda_intel was not told to let go of 0000:02:00.1"
for f in 0000:01:00.0 0000:01:00.1; do
	[ "$(attr same $f driver_override)" = "(null)" ] ||
		hs_fail "same machine: the host's $f was touched"
done
[ ! -s "$HS_TMP/same.err" ] || hs_fail "same machine: the hook complained: $(cat "$HS_TMP/same.err")"

# left_alone NAME WHY: nothing at 02:00 changed on machine NAME.
left_alone() {
	local f drv

	for f in 0000:02:00.0 0000:02:00.1; do
		[ -e "$HS_TMP/$1/sys/bus/pci/devices/$f" ] || continue
		[ "$(attr "$1" $f driver_override)" = "(null)" ] ||
			hs_fail "$2: $f was set to vfio-pci"
	done
	for drv in "$HS_TMP/$1"/sys/bus/pci/drivers/*; do
		[ ! -s "$drv/unbind" ] ||
			hs_fail "$2: ${drv##*/} was told to unbind $(cat "$drv/unbind")"
	done
	grep -q 'not the device host-setup saw there; left alone' "$HS_TMP/$1.err" ||
		hs_fail "$2: the hook does not say why it left 02:00 alone: $(cat "$HS_TMP/$1.err")"
}

# The root disk's NVMe controller at 02:00.0, the GTX 1080 at 04:00.
machine moved '
a, b = slot("00:1b.0"), slot("00:1d.0")
gtx, nvme = a["children"], b["children"]
for e in gtx: e["addr"] = e["addr"].replace("02:", "04:")
for e in nvme: e["addr"] = e["addr"].replace("04:", "02:")
a["children"], b["children"] = nvme, gtx
for blk in d["blocks"]:
    if blk.get("pci") == "04:00.0": blk["pci"] = "02:00.0"
'
run moved
left_alone moved "the NVMe controller at 02:00.0"
grep -q '0000:02:00.0: vendor is 0x144d, not 0x10de' "$HS_TMP/moved.err" ||
	hs_fail "moved: no word on 0000:02:00.0's vendor: $(cat "$HS_TMP/moved.err")"

# The twins swapped: the host's card (subsystem 1458:3702) at 02:00.
machine swapped '
for f in ("0", "1"):
    one, two = slot("01:00." + f), slot("02:00." + f)
    one["subsys"], two["subsys"] = two["subsys"], one["subsys"]
'
run swapped
left_alone swapped "the twin cards swapped"
grep -q '0000:02:00.0: subsystem_vendor is 0x1458, not 0x3842' "$HS_TMP/swapped.err" ||
	hs_fail "swapped: no word on the subsystem vendor: $(cat "$HS_TMP/swapped.err")"

hs_undo_to_pristine "--undo"
hs_done
