#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# host-setup on a fake Ubuntu 24.04 cloud image (tests/hostsetup/ubuntu/):
# GRUB with /etc/default/grub.d, where 50-cloudimg-settings.cfg sets
# GRUB_CMDLINE_LINUX_DEFAULT after /etc/default/grub, so an edit of
# /etc/default/grub never reaches grub.cfg.  The arguments go into vmctl's
# drop-in zz-vmctl.cfg, appended to the variable; the generated grub.cfg
# must carry them.  A later grub.d file that overrides the variable, or one
# host-setup cannot evaluate, is refused naming FILE:LINE.  Then the
# checks every flavour gets (see hostsetup-lib.sh).
TEST_NAME=hostsetup-ubuntu
. "$(dirname "$0")/hostsetup-lib.sh"
hs_init ubuntu intel-nvidia
HS_SELECTOR=NVIDIA

hs_fresh
hs_apply --permanent
if hs_ok "--yes --permanent"; then
	for a in intel_iommu=on iommu=pt vfio-pci.ids=10de:1b80,10de:10f0 console=ttyS0; do
		grep -q "^linux .* $a\( \|\$\)" "$HS_ROOT/boot/grub/grub.cfg" ||
			{ hs_fail "grub.cfg lacks $a:"; cat "$HS_ROOT/boot/grub/grub.cfg"; }
	done
	cmp -s "$HS_ROOT/etc/default/grub" "$HS_TMP/pristine/etc/default/grub" ||
		hs_fail "/etc/default/grub changed: the drop-in is enough"
fi

# refused: WHAT | FILE | ITS TEXT | what the error must say
while IFS='|' read -r what file text want; do
	hs_fresh
	printf '%b' "$text" > "$HS_ROOT/etc/default/grub.d/$file"
	hs_apply
	if [ "$HS_RC" != 1 ] || ! grep -qF -- "$want" "$HS_ERR"; then
		hs_fail "$what: not refused with \"$want\""
		hs_show
	fi
	rm "$HS_ROOT/etc/default/grub.d/$file"
	hs_same_tree "$HS_ROOT" "$HS_TMP/pristine" "$what: refused, yet changed"
	hs_no_calls "$what"
done <<'CASES'
a later file overriding the variable|zzz-local.cfg|# mine\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\n|/etc/default/grub.d/zzz-local.cfg:2 sets GRUB_CMDLINE_LINUX_DEFAULT after vmctl's line
a conditional|60-local.cfg|if [ -e /etc/x ]; then\n  GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT x"\nfi\n|/etc/default/grub.d/60-local.cfg:1: cannot evaluate `if [
a command substitution|60-local.cfg|\nGRUB_CMDLINE_LINUX="$(cat /etc/cmdline)"\n|/etc/default/grub.d/60-local.cfg:2: GRUB_CMDLINE_LINUX is set by the command substitution
CASES

hs_flavour_checks update-grub update-initramfs
hs_done
