#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Two identical GPUs, one the host's boot display that it keeps
# (tests/hostsetup/hosts/twin-gtx1080.json), on the Debian root: their
# ids match both cards, so host-setup must not put them in vfio-pci.ids
# (which would take the host's card too) and must bind the selected card
# by address instead, with an initramfs-tools hook it shows in the plan
# and says so.  Then apply, a second run and --undo, as for every flavour.
TEST_NAME=hostsetup-twin
. "$(dirname "$0")/hostsetup-lib.sh"
hs_init twin twin-gtx1080 debian
HS_SELECTOR=NVIDIA
hook=/etc/initramfs-tools/scripts/init-top/vmctl-vfio

hs_fresh
hs_vmctl host-setup NVIDIA --root "$HS_ROOT" --dry-run
if hs_ok "--dry-run"; then
	if grep -Eq 'vfio-pci\.ids=|ids=10de' "$HS_OUT"; then
		hs_fail "the plan binds 10de:1b80/10de:10f0 by id: the host's own GTX 1080 (01:00.0) would go to vfio-pci too"
		hs_show
	fi
	grep -q 'by address' "$HS_OUT" ||
		{ hs_fail "the plan does not say it binds 0000:02:00.0 by address"; hs_show; }
	grep -q "^+++ b$hook\$" "$HS_OUT" ||
		{ hs_fail "the plan does not show the hook $hook"; hs_show; }
	if ! grep -q '0000:02:00\.0' "$HS_OUT" || ! grep -q '0000:02:00\.1' "$HS_OUT"; then
		hs_fail "the plan does not name both functions of 0000:02:00"
		hs_show
	fi
	if grep -q '0000:01:00' "$HS_OUT"; then
		hs_fail "the plan names the host's card 0000:01:00"
		hs_show
	fi
fi

hs_basic_checks
if [ -f "$HS_TMP/after$hook" ] && [ "$(stat -c %a "$HS_TMP/after$hook")" != 755 ]; then
	hs_fail "$hook is not executable in after/ (initramfs-tools skips it)"
fi
hs_done
