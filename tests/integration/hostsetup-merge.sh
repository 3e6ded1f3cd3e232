#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# host-setup merges with vfio configuration that is already there, on the
# fake Debian root (tests/hostsetup/debian/) with two additions: an
# `options vfio_pci ids=1002:67df disable_vga=1` line of the admin's in
# /etc/modprobe.d/local-vfio.conf, and vfio-pci.ids=1002:67df on
# GRUB_CMDLINE_LINUX.  The ids become the union (1002:67df first, then
# the GTX 1080's) on the kernel command line and in the admin's own line,
# whose other option stays; vfio.conf adds no second `options` line (it
# would fight the first); --undo gives the root back.  See
# hostsetup-lib.sh.
TEST_NAME=hostsetup-merge
. "$(dirname "$0")/hostsetup-lib.sh"
hs_init merge intel-nvidia debian
HS_SELECTOR=NVIDIA
HS_FLAGS=--permanent   # the merged ids go into grub.cfg at once
union=1002:67df,10de:1b80,10de:10f0

printf '%s\n' '# the RX 580 stays on vfio-pci' \
	'options vfio_pci ids=1002:67df disable_vga=1' \
	> "$HS_TMP/pristine/etc/modprobe.d/local-vfio.conf"
sed -i 's/^GRUB_CMDLINE_LINUX=""/GRUB_CMDLINE_LINUX="vfio-pci.ids=1002:67df"/' \
	"$HS_TMP/pristine/etc/default/grub"
# the boot files as the stand-ins build them from that configuration
hs_env chroot "$HS_TMP/pristine" update-grub
hs_env chroot "$HS_TMP/pristine" update-initramfs -u -k all

hs_fresh
hs_apply
if hs_ok "--yes"; then
	want="options vfio_pci ids=$union disable_vga=1"
	grep -qxF "$want" "$HS_ROOT/etc/modprobe.d/local-vfio.conf" ||
		{ hs_fail "local-vfio.conf: not \"$want\":"; cat "$HS_ROOT/etc/modprobe.d/local-vfio.conf"; }
	grep -qxF '# the RX 580 stays on vfio-pci' "$HS_ROOT/etc/modprobe.d/local-vfio.conf" ||
		hs_fail "local-vfio.conf lost its comment"
	if grep -q '^options' "$HS_ROOT/etc/modprobe.d/vfio.conf"; then
		hs_fail "vfio.conf sets vfio-pci options a second time:"
		cat "$HS_ROOT/etc/modprobe.d/vfio.conf"
	fi
	grep -qx 'softdep nouveau pre: vfio-pci' "$HS_ROOT/etc/modprobe.d/vfio.conf" ||
		hs_fail "vfio.conf: no softdep for nouveau"
	# the kernel takes the last vfio-pci.ids= on its command line
	last=$(grep -o 'vfio[-_]pci\.ids=[^ ]*' "$HS_ROOT/boot/grub/grub.cfg" | tail -n 1)
	[ "$last" = "vfio-pci.ids=$union" ] ||
		{ hs_fail "grub.cfg: the last vfio-pci.ids= is \"$last\", not the union"; cat "$HS_ROOT/boot/grub/grub.cfg"; }
	grep -q "ids=$union" "$HS_ROOT"/boot/initrd.img-6.1.0-18-amd64 ||
		hs_fail "the initramfs was not rebuilt with the union"
fi
hs_undo_to_pristine "--undo after merging"
hs_done
