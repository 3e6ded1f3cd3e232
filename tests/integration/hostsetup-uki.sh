#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# host-setup on a fake Fedora 41 booting unified kernel images with
# systemd-boot (tests/hostsetup/uki/: kernel-install layout=uki, ukify,
# dracut; UKIs in /boot/efi/EFI/Linux, no loader entries): the command
# line is only read when a UKI is built, so editing /etc/kernel/cmdline
# must be followed by `kernel-install add KVER IMAGE` for each installed
# kernel.  A UKI host without kernel-install, or without a kernel image
# to rebuild from, is refused.  Then the checks every flavour gets (see
# hostsetup-lib.sh; among them: a plan that edits /etc/kernel/cmdline but
# rebuilds nothing fails).
TEST_NAME=hostsetup-uki
. "$(dirname "$0")/hostsetup-lib.sh"
hs_init uki intel-nvidia
HS_SELECTOR=NVIDIA
HS_FLAGS=--permanent   # UKIs carry their command line: no one-shot

hs_fresh
hs_vmctl host-setup NVIDIA --root "$HS_ROOT" --dry-run --permanent
if hs_ok "--dry-run"; then
	for k in 6.11.5-300.fc41.x86_64 6.11.4-301.fc41.x86_64; do
		grep -qx "\\$ chroot @ROOT@ kernel-install add $k /usr/lib/modules/$k/vmlinuz" \
			<(hs_subst "$HS_OUT") ||
			{ hs_fail "the plan does not rebuild the UKI of $k"; hs_show; }
	done
fi

hs_fresh
rm "$HS_ROOT/usr/bin/kernel-install"
hs_apply
if [ "$HS_RC" != 69 ] || ! grep -q 'no kernel-install to rebuild them' "$HS_ERR"; then
	hs_fail "UKIs without kernel-install: not refused (69)"
	hs_show
fi
hs_no_calls "UKIs without kernel-install"

hs_fresh
rm "$HS_ROOT"/usr/lib/modules/*/vmlinuz
hs_apply
if [ "$HS_RC" != 1 ] || ! grep -q 'no installed kernel' "$HS_ERR"; then
	hs_fail "UKIs without a kernel image: not refused"
	hs_show
fi
hs_no_calls "UKIs without a kernel image"

hs_flavour_checks kernel-install dracut
hs_done
