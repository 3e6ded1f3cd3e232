#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runtime binding against a fake sysfs tree (never this machine's /sys):
# without the vfio-pci module vmctl tries modprobe and refuses cleanly;
# with it "loaded" but no kernel behind the tree, nothing ever lands on
# vfio-pci, so the bind must fail and put every function back on the
# driver it had, leaving no override and no record behind.
TEST_NAME=vfio-fake-rollback
. "$(dirname "$0")/lib.sh"
vf_setup rtx-4fn
# modprobe is a stand-in: it records and loads nothing.
mkdir "$TMP/bin"
printf '#!/bin/sh\necho "$@" >> %s/modprobe.log\n' "$TMP" > "$TMP/bin/modprobe"
chmod +x "$TMP/bin/modprobe"
export PATH=$TMP/bin:$PATH

vf_nvidia_fns
before=$(vf_snapshot)

# 1. No vfio-pci: modprobe is tried, the refusal is clear, nothing written.
set +e
"$VMCTL" --sysfs-root "$SYS" bind NVIDIA 2>"$TMP/err1"
rc=$?
set -e
[ "$rc" = 69 ] || fail "bind without vfio-pci: exit $rc: $(cat "$TMP/err1")"
grep -q "vfio-pci module is not available" "$TMP/err1" || fail "unclear: $(cat "$TMP/err1")"
grep -qx "vfio-pci" "$TMP/modprobe.log" || fail "modprobe vfio-pci was not tried"
[ "$(vf_snapshot)" = "$before" ] || fail "a refused bind changed the tree"
say "without vfio-pci: modprobe tried, exit 69, nothing changed"

# 2. vfio-pci "loaded", but no kernel binds anything: fail and roll back.
mkdir -p "$SYS/bus/pci/drivers/vfio-pci" "$SYS/module/vfio_iommu_type1"
touch "$SYS/bus/pci/drivers/vfio-pci/bind" "$SYS/bus/pci/drivers/vfio-pci/unbind" \
	"$SYS/bus/pci/drivers_probe"
set +e
"$VMCTL" --sysfs-root "$SYS" bind NVIDIA 2>"$TMP/err2"
rc=$?
set -e
[ "$rc" = 1 ] || fail "a bind that cannot happen exited $rc: $(cat "$TMP/err2")"
grep -q "every function is back on the driver it had" "$TMP/err2" ||
	fail "no rollback reported: $(cat "$TMP/err2")"
first=${FNS[0]}
drv=$(basename "$(readlink "$SYS/bus/pci/devices/$first/driver")")
# The kernel would have seen: override set, unbind, probe; then the way back.
grep -q "$first" "$SYS/bus/pci/drivers/$drv/unbind" || fail "no unbind from $drv"
grep -q "$first" "$SYS/bus/pci/drivers/$drv/bind" || fail "not bound back to $drv"
[ "$(cat "$SYS/bus/pci/devices/$first/driver_override")" = "" ] ||
	fail "override left: $(cat "$SYS/bus/pci/devices/$first/driver_override")"
python3 - "$VMCTL_STATE_DIR/vfio-bindings.json" "${FNS[@]}" <<'PY' || fail "bindings record not cleaned"
import json, sys
try:
    rec = json.load(open(sys.argv[1]))
except FileNotFoundError:
    rec = {}
assert not any(a in rec for a in sys.argv[2:]), rec
PY
say "failed bind rolled back to $drv, no override, no record"
