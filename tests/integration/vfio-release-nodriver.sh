#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `vmctl release` of a function that had no driver before `bind` (the
# RTX's HDMI audio on a host without snd_hda_intel): bind recorded null
# for it, so release leaves it on no driver: override cleared, unbound
# from vfio-pci, offered to no driver, no module loaded, record dropped,
# exit 0.  (It used to look for a driver and fail with "off vfio-pci, but
# no driver accepts it".)  Against a fake sysfs tree, never /sys.
TEST_NAME=vfio-release-nodriver
. "$(dirname "$0")/lib.sh"
vf_setup rtx-4fn
DRV=$SYS/bus/pci/drivers
fn=0000:01:00.1
dev=$SYS/bus/pci/devices/$fn
[ "$(basename "$(readlink "$dev/driver")")" = snd_hda_intel ] ||
	fail "fixture: $fn is not the RTX's HDMI audio on snd_hda_intel"

# The host as `bind` left it: no snd_hda_intel, the function on vfio-pci
# by override, and its old driver recorded as none.
rm -rf "$DRV/snd_hda_intel"
mkdir "$DRV/vfio-pci"
touch "$DRV/vfio-pci/bind" "$DRV/vfio-pci/unbind" "$SYS/bus/pci/drivers_probe"
ln -sfn ../../../../bus/pci/drivers/vfio-pci "$dev/driver"
echo vfio-pci > "$dev/driver_override"
mkdir -p "$VMCTL_STATE_DIR"
printf '{"%s": null}\n' "$fn" > "$VMCTL_STATE_DIR/vfio-bindings.json"
# Like the kernel, every other driver refuses the function: its bind is
# a directory here, which no write opens.
for d in "$DRV"/*; do
	[ "${d##*/}" = vfio-pci ] && continue
	rm -f "$d/bind" && mkdir "$d/bind"
done
# modprobe is a stand-in: it loads nothing, records its call, and, as
# the kernel would have by then, drops the driver link of what was
# unbound from vfio-pci (so a search for a driver finds none).
mkdir "$TMP/bin"
cat > "$TMP/bin/modprobe" <<SH
#!/bin/sh
echo "\$@" >> "$TMP/modprobe.log"
for a in \$(cat "$DRV/vfio-pci/unbind"); do rm -f "$SYS/bus/pci/devices/\$a/driver"; done
SH
chmod +x "$TMP/bin/modprobe"
export PATH=$TMP/bin:$PATH

rc=0
"$VMCTL" --sysfs-root "$SYS" release "$fn" > "$TMP/out" 2> "$TMP/err" || rc=$?
[ "$rc" = 0 ] || fail "release exited $rc: $(cat "$TMP/err")"
grep -q 'Released 1 function' "$TMP/out" || fail "release said: $(cat "$TMP/out")"
[ "$(cat "$dev/driver_override")" = "" ] ||
	fail "override left: $(cat "$dev/driver_override")"
grep -qx "$fn" "$DRV/vfio-pci/unbind" || fail "not unbound from vfio-pci"
! grep -q "$fn" "$SYS/bus/pci/drivers_probe" || fail "re-probed: a driver could take it"
[ ! -s "$TMP/modprobe.log" ] || fail "went looking for a driver: modprobe $(cat "$TMP/modprobe.log")"
python3 - "$VMCTL_STATE_DIR/vfio-bindings.json" "$fn" <<'PY' || fail "record not dropped"
import json, sys
assert sys.argv[2] not in json.load(open(sys.argv[1]))
PY
say "released $fn to no driver: override cleared, unbound, record dropped"
