#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bind and release refuse a GPU a running VM holds, naming the VM, and
# change nothing; --force does it with a warning.  Against a fake sysfs
# tree (never this machine's /sys), with a VM whose recorded claim names
# the card and whose "QEMU" lives in the fake proc tree.  Once that QEMU
# is gone, its claim holds nothing.
TEST_NAME=vfio-fake-inuse
. "$(dirname "$0")/lib.sh"
vf_setup rtx-4fn

vf_nvidia_fns
before=$(vf_snapshot)

# VM "gpu-a" runs (pid 4242, as the fake proc tree says) and holds the card.
mkdir -p "$VMCTL_STATE_DIR/vms/gpu-a" "$TMP/host/proc/4242"
echo '4242 (qemu-system-x86) S 1 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 3 0 777 0 0' \
	>"$TMP/host/proc/4242/stat"
python3 - "$VMCTL_STATE_DIR/vms/gpu-a/vm.json" "${FNS[@]}" <<'PY'
import json, sys
json.dump({"ssh_port": 2222, "vnc_display": -1, "created": 1, "pid": 4242,
           "starttime": 777, "started": 1,
           "claim": {"memory": 1 << 30, "gpu_functions": sys.argv[2:],
                     "bound": []}}, open(sys.argv[1], "w"))
PY

for verb in bind release; do
	set +e
	"$VMCTL" --sysfs-root "$SYS" $verb NVIDIA >"$TMP/out" 2>"$TMP/err"
	rc=$?
	set -e
	[ "$rc" = 1 ] || fail "$verb of a held GPU: exit $rc: $(cat "$TMP/err")"
	grep -qx "vmctl: GPU ${FNS[0]} is in use by VM \"gpu-a\": stop it first (--force to $verb it anyway)" "$TMP/err" ||
		fail "$verb: the refusal does not name the VM: $(cat "$TMP/err")"
	[ "$(vf_snapshot)" = "$before" ] || fail "a refused $verb changed the tree"
done
say "bind and release refused, naming gpu-a; nothing changed"

out=$("$VMCTL" --sysfs-root "$SYS" release --force NVIDIA 2>&1) ||
	fail "release --force failed: $out"
grep -q "^vmctl: warning: GPU ${FNS[0]} is in use by VM \"gpu-a\"; releasing it anyway (--force)" <<<"$out" ||
	fail "release --force gave no warning: $out"
say "release --force: done, with a warning"

# Its QEMU gone, the claim holds nothing.
rm -r "$TMP/host/proc/4242"
out=$("$VMCTL" --sysfs-root "$SYS" release NVIDIA 2>&1) ||
	fail "release after the holder died: $out"
say "a dead VM's claim holds nothing: $out"

# A VM that crashed holding a card its start bound: the next command,
# whatever it is (here `vmctl host`), gives the card back and drops the
# claim.  The host as that start's bind left it: every function on
# vfio-pci by override, their old drivers recorded (none: so giving back
# is override cleared and unbound, with no driver probe to fake).
DRV=$SYS/bus/pci/drivers
mkdir -p "$DRV/vfio-pci"
touch "$DRV/vfio-pci/bind" "$DRV/vfio-pci/unbind" "$SYS/bus/pci/drivers_probe"
for a in "${FNS[@]}"; do
	ln -sfn ../../../../bus/pci/drivers/vfio-pci "$SYS/bus/pci/devices/$a/driver"
	echo vfio-pci > "$SYS/bus/pci/devices/$a/driver_override"
done
python3 - "$VMCTL_STATE_DIR" "${FNS[@]}" <<'PY'
import json, sys
json.dump({a: None for a in sys.argv[2:]},
          open(sys.argv[1] + "/vfio-bindings.json", "w"))
json.dump({"ssh_port": 2222, "vnc_display": -1, "created": 1, "pid": 4242,
           "starttime": 777, "started": 1,
           "claim": {"memory": 1 << 30, "gpu_functions": sys.argv[2:],
                     "bound": sys.argv[2:]}},
          open(sys.argv[1] + "/vms/gpu-a/vm.json", "w"))
PY
mkdir -p "$TMP/host/proc/4242"
echo '4242 (qemu-system-x86) S 1 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 3 0 777 0 0' \
	>"$TMP/host/proc/4242/stat"
"$VMCTL" --sysfs-root "$SYS" host >"$TMP/hostout" 2>&1 || fail "vmctl host failed: $(cat "$TMP/hostout")"
[ ! -s "$DRV/vfio-pci/unbind" ] || fail "vmctl host released a running VM's card"
rm -r "$TMP/host/proc/4242"
"$VMCTL" --sysfs-root "$SYS" host >"$TMP/hostout" 2>&1 || fail "vmctl host failed: $(cat "$TMP/hostout")"
# (Each write replaces the fake unbind file: it holds the last one.)
[ -s "$DRV/vfio-pci/unbind" ] || fail "the crashed VM's card was not unbound"
for a in "${FNS[@]}"; do
	[ -z "$(cat "$SYS/bus/pci/devices/$a/driver_override")" ] ||
		fail "$a keeps its vfio-pci override"
done
[ "$(jq -r .claim "$VMCTL_STATE_DIR/vms/gpu-a/vm.json")" = null ] ||
	fail "the crashed VM's claim was kept"
say "a crashed VM's bound card goes back at the next command (vmctl host)"
