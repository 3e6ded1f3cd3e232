#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# host-setup refuses a GPU whose IOMMU group holds a device the host needs:
# on tests/fixtures/sysfs/amd-sata-unsafe.json the RX 580 shares group 1
# with the SATA controller of the root filesystem.  Exit 1, "refusing",
# nothing changed or run; with --force it warns and goes on (on the Debian
# root), and --undo puts everything back.
TEST_NAME=hostsetup-refuse
. "$(dirname "$0")/hostsetup-lib.sh"
hs_init refuse tests/fixtures/sysfs/amd-sata-unsafe.json debian

for mode in --yes --dry-run; do
	hs_fresh
	hs_vmctl host-setup AMD --root "$HS_ROOT" "$mode"
	if [ "$HS_RC" != 1 ]; then
		hs_fail "AMD $mode: exit status $HS_RC, not 1"
		hs_show
	elif ! grep -q 'refusing' "$HS_ERR" || ! grep -q 'root filesystem' "$HS_ERR"; then
		hs_fail "AMD $mode: no \"refusing\" naming the root filesystem's controller"
		hs_show
	fi
	hs_same_tree "$HS_ROOT" "$HS_TMP/pristine" "AMD $mode, refused"
	hs_no_calls "AMD $mode, refused"
	[ ! -e "$HS_STATE/host-setup/manifest.json" ] ||
		hs_fail "AMD $mode, refused: wrote a manifest"
done

hs_fresh
hs_vmctl host-setup AMD --root "$HS_ROOT" --yes --force --permanent
if hs_ok "AMD --yes --force"; then
	grep -q 'warning' "$HS_ERR" ||
		{ hs_fail "AMD --force: no warning about the root filesystem"; hs_show; }
	grep -q '^linux .* ro  quiet splash iommu=pt vfio-pci.ids=1002:67df,1002:aaf0$' \
		"$HS_ROOT/boot/grub/grub.cfg" ||
		{ hs_fail "AMD --force: grub.cfg's command line is not as expected:"; cat "$HS_ROOT/boot/grub/grub.cfg"; }
	[ "$(hs_calls)" = "chroot @ROOT@ update-grub
chroot @ROOT@ update-initramfs -u -k all" ] ||
		{ hs_fail "AMD --force: commands run:"; hs_calls; }
fi
hs_undo_to_pristine "AMD --force"
hs_done
