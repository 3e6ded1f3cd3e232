#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# host-check after host-setup on a systemd-boot + mkinitcpio host: the
# fake Arch root of tests/hostsetup/arch (its stand-in mkinitcpio) and
# the GTX 1070 of tests/hostsetup/hosts/amd-nvidia.json.  The arguments'
# carrier is /etc/kernel/cmdline; the initramfs is the one the command
# line's initrd= names (/boot/initramfs-linux.img); its configuration is
# /etc/mkinitcpio.conf.  See hostcheck-after-setup.sh for GRUB.
TEST_NAME=hostcheck-after-setup-sdboot
. "$(dirname "$0")/hostsetup-lib.sh"
need jq
hs_init arch amd-nvidia
HS_SELECTOR=NVIDIA
hs_fresh
hs_apply
[ "$HS_RC" = 0 ] || { hs_show; fail "host-setup failed"; }
MANIFEST=$HS_STATE/host-setup/manifest.json
touch -d '-1 hour' "$MANIFEST"
ARGS='amd_iommu=on iommu=pt vfio-pci.ids=10de:1b81,10de:10f0'
AFTER='d["cmdline"] += " " + args[0]
d["uptime"] = 60
d["modules"] += ["vfio_pci", "vfio_pci_core", "vfio_iommu_type1", "vfio"]'

# after NAME PATCH: the host booted a minute ago with PATCH applied
# (fixture_patch in lib.sh; args[0]: host-setup's arguments).
after() {
	HOST=$HS_TMP/after-$1
	fixture_patch "$HS_DATA/hosts/amd-nvidia.json" "$HOST.json" \
		"$AFTER
$2" "$ARGS"
	rm -rf "$HOST"
	python3 "$ROOT/scripts/gen-sysfs.py" "$HOST.json" "$HOST" 2>/dev/null ||
		fail "gen-sysfs $1 failed"
}

# expect NAME STATUS TEXT [FIX]: host-check --json on HOST.
expect() {
	local got msg fix

	hs_env env VMCTL_PROC_ROOT="$HOST/proc" VMCTL_DEV_ROOT="$HOST/dev" \
		"$VMCTL" --sysfs-root "$HOST/sys" host-check --json
	got=$(jq -r --arg n "$1" '.checks[] | select(.name == $n) | .status' "$HS_OUT")
	msg=$(jq -r --arg n "$1" '.checks[] | select(.name == $n) | .message' "$HS_OUT")
	fix=$(jq -r --arg n "$1" '.checks[] | select(.name == $n) | .fix // ""' "$HS_OUT")
	[ "$got" = "$2" ] || { hs_fail "$CASE: $1 is '$got', not $2: $msg"; return; }
	[[ $msg == *"$3"* ]] || hs_fail "$CASE: $1 says: $msg"
	[ -z "${4:-}" ] || [[ $fix == *"$4"* ]] || hs_fail "$CASE: $1 fix: $fix"
}

CASE=right
after right 'fn["01:00.0"]["driver"] = fn["01:00.1"]["driver"] = "vfio-pci"'
expect setup-args ok "$ARGS in effect (host-setup set them in /etc/kernel/cmdline)"
expect setup-driver ok "0000:01:00.0, 0000:01:00.1 on vfio-pci"
expect setup-group ok "viable"

CASE=args-missing
after args-missing 'd["cmdline"] = d["cmdline"].replace(" " + args[0], "")'
expect setup-args fail "host-setup set them in /etc/kernel/cmdline, but /etc/kernel/cmdline carries them, so this boot came from another entry"

CASE=mkinitcpio
sed -i 's/^MODULES=(vfio_pci vfio vfio_iommu_type1)/MODULES=()/' "$HS_ROOT/etc/mkinitcpio.conf"
after mkinitcpio ''
expect setup-driver fail "0000:01:00.0 is on nouveau, not vfio-pci: /etc/mkinitcpio.conf does not put vfio_pci in the initramfs, which loads nouveau first"

CASE=stale
hs_fresh
hs_apply
touch -d '-1 hour' "$MANIFEST"
touch -d '-2 hours' "$HS_ROOT/boot/initramfs-linux.img"
expect setup-driver fail "/boot/initramfs-linux.img is older than /etc/" "mkinitcpio -P, then reboot"
say "systemd-boot and mkinitcpio: carrier, initramfs configuration and image named"
hs_done
