#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# host-check after host-setup on a systemd-boot + mkinitcpio host: the
# fake Arch root of tests/hostsetup/arch (its stand-in mkinitcpio) and
# the GTX 1070 of tests/hostsetup/hosts/amd-nvidia.json.  The arguments'
# carrier is /etc/kernel/cmdline; the initramfs is the one the command
# line's initrd= names (/boot/initramfs-linux.img); its configuration is
# /etc/mkinitcpio.conf.  See hostcheck-after-setup.sh for GRUB.
TEST_NAME=hostcheck-after-setup-sdboot
. "$(dirname "$0")/hostcheck-lib.sh"
HS_SELECTOR=NVIDIA
ARGS='iommu=pt vfio-pci.ids=10de:1b81,10de:10f0'   # AMD-Vi is on by default: host-setup adds no amd_iommu=on
hc_setup arch amd-nvidia "$ARGS"
HC_AFTER='d["modules"] += ["vfio_pci", "vfio_pci_core", "vfio_iommu_type1", "vfio"]'

CASE=right
hc_after right 'fn["01:00.0"]["driver"] = fn["01:00.1"]["driver"] = "vfio-pci"'
hc_check
hc_expect setup-args ok "$ARGS in effect (host-setup set them in /etc/kernel/cmdline)"
hc_expect setup-driver ok "0000:01:00.0, 0000:01:00.1 on vfio-pci"
hc_expect setup-group ok "viable"

CASE=args-missing
hc_after args-missing 'd["cmdline"] = d["cmdline"].replace(" " + args[0], "")'
hc_check
hc_expect setup-args fail "host-setup set them in /etc/kernel/cmdline, but /etc/kernel/cmdline carries them, so this boot came from another entry"

CASE=mkinitcpio
sed -i 's/^MODULES=(vfio_pci vfio vfio_iommu_type1)/MODULES=()/' "$HS_ROOT/etc/mkinitcpio.conf"
hc_after mkinitcpio ''
hc_check
hc_expect setup-driver fail "0000:01:00.0 is on nouveau, not vfio-pci: /etc/mkinitcpio.conf does not put vfio_pci in the initramfs, which loads nouveau first"

CASE=stale
hs_fresh
hs_apply
touch -d '-1 hour' "$MANIFEST"
touch -d '-2 hours' "$HS_ROOT/boot/initramfs-linux.img"
hc_check
hc_expect setup-driver fail "/boot/initramfs-linux.img is older than /etc/" "mkinitcpio -P, then reboot"
say "systemd-boot and mkinitcpio: carrier, initramfs configuration and image named"
hs_done
