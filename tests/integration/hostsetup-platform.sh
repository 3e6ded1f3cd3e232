#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What the machine is decides what host-setup writes, on the fake Debian
# root for tests/hostsetup/hosts/amd-cpu-dmar.json: an AMD CPU whose
# firmware describes a VT-d IOMMU (ACPI DMAR) gets intel_iommu=on (the
# table, not the CPU vendor, names the IOMMU), and the GTX 1080's HDMI
# audio, on no driver now, still gets `softdep snd_hda_intel` because the
# root's modules.alias says snd_hda_intel would take it.  The plan is
# tests/hostsetup/platform/plan.ok; applying and --undo as usual.
TEST_NAME=hostsetup-platform
. "$(dirname "$0")/hostsetup-lib.sh"
hs_init platform amd-cpu-dmar debian
HS_SELECTOR=NVIDIA

hs_fresh
hs_vmctl host-setup NVIDIA --root "$HS_ROOT" --dry-run
if hs_ok "--dry-run"; then
	hs_subst "$HS_OUT" | hs_golden plan.ok "--dry-run: the plan"
	grep -q 'intel_iommu=on' "$HS_OUT" ||
		{ hs_fail "DMAR: no intel_iommu=on"; hs_show; }
	if grep -q 'amd_iommu' "$HS_OUT"; then
		hs_fail "DMAR: amd_iommu= from the CPU vendor"
		hs_show
	fi
	grep -qx '+softdep snd_hda_intel pre: vfio-pci' "$HS_OUT" ||
		{ hs_fail "no softdep for snd_hda_intel, which would take 01:00.1"; hs_show; }
fi
hs_fresh
hs_apply
hs_ok "--yes"
hs_undo_to_pristine "--undo"
hs_done
