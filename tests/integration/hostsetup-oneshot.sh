#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The safety net: new kernel arguments are tried for one boot first.
#   GRUB (the fake Debian root): vmctl's line appends GRUB's ${vmctl_once},
#     /etc/grub.d/01_vmctl moves vmctl_try from the environment block into
#     it for one boot, and `grub-editenv ... set vmctl_try=ARGS` arms it,
#     last.  The manifest says "one-shot" and what is tried.
#   --confirm refuses while the arguments are not on the running command
#     line (PROC/cmdline); after a good boot it writes them for good, takes
#     the script and the variable away, and the manifest says "permanent".
#   A rerun after the one-shot boot came and went without the arguments
#     arms it again; after one that has them, it does not.
#   systemd-boot (the fake Arch root): a one-shot copy of the default
#     entry, `bootctl set-oneshot vmctl-try.conf`; --confirm edits the
#     entries and /etc/kernel/cmdline and removes the copy.
#   A bootloader without a one-shot (grubby) needs --permanent (64); a
#   selected boot display is bound only by the tried command line.
TEST_NAME=hostsetup-oneshot
. "$(dirname "$0")/hostsetup-lib.sh"
hs_init oneshot intel-nvidia debian
HS_SELECTOR=NVIDIA
tried="intel_iommu=on iommu=pt vfio-pci.ids=10de:1b80,10de:10f0"
env_block=boot/grub/grubenv
cmdline=$HS_TMP/host/proc/cmdline
cp "$cmdline" "$HS_TMP/cmdline.orig"

manifest() {
	python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$HS_STATE/host-setup/manifest.json" "$1"
}
# booted ARGS: the running kernel's command line has ARGS too ("" none).
booted() { printf '%s %s\n' "$(cat "$HS_TMP/cmdline.orig")" "$1" > "$cmdline"; }
# consumed: GRUB booted the one-shot and cleared vmctl_try.
consumed() { hs_env chroot "$HS_ROOT" grub-editenv /$env_block unset vmctl_try; : > "$HS_LOG"; }
confirm() { hs_vmctl host-setup --confirm --root "$HS_ROOT" --yes "$@"; }

# 1. Armed for one boot.
hs_fresh
booted ""
hs_apply
if hs_ok "--yes"; then
	grep -qx "vmctl_try=$tried" "$HS_ROOT/$env_block" ||
		hs_fail "grubenv does not hold vmctl_try=$tried"
	grep -q '^linux .* quiet splash \${vmctl_once}$' "$HS_ROOT/boot/grub/grub.cfg" ||
		hs_fail "grub.cfg's linux line does not carry \${vmctl_once}"
	grep -q '^  if save_env vmctl_try; then$' "$HS_ROOT/boot/grub/grub.cfg" ||
		hs_fail "grub.cfg lacks 01_vmctl's part"
	[ "$(hs_calls | tail -n 1)" = "chroot @ROOT@ grub-editenv /boot/grub/grubenv set 'vmctl_try=$tried'" ] ||
		{ hs_fail "arming is not the last command:"; hs_calls; }
	[ "$(manifest 'm["mode"] + " " + " ".join(m["tried"])')" = "one-shot $tried" ] ||
		hs_fail "the manifest does not say one-shot, $tried: $(manifest '(m["mode"], m["tried"])')"
	grep -q 'host-setup --confirm' "$HS_OUT" || hs_fail "--yes does not say how to keep them"
fi
hs_save armed

# 2. --confirm before the arguments are in effect: refused, nothing done.
: > "$HS_LOG"
confirm
if [ "$HS_RC" != 1 ] || ! grep -q 'not in effect on this boot' "$HS_ERR"; then
	hs_fail "--confirm before the one-shot boot: not refused"
	hs_show
fi
hs_no_calls "--confirm before the one-shot boot"
hs_vmctl host-setup --confirm NVIDIA --root "$HS_ROOT" --yes
[ "$HS_RC" = 64 ] || { hs_fail "--confirm with a selector: exit status $HS_RC, not 64"; hs_show; }

# 3. The one-shot boot came and went without the arguments (it hung and
# was power-cycled): a rerun arms it again.
consumed
hs_apply
hs_ok "rerun after a failed one-shot"
[ "$(hs_calls)" = "chroot @ROOT@ grub-editenv /boot/grub/grubenv set 'vmctl_try=$tried'" ] ||
	{ hs_fail "rerun after a failed one-shot: does not just arm it again:"; hs_calls; }

# 4. The one-shot boot came up with them: a rerun leaves it alone and
# says to confirm; --confirm keeps them.
consumed
booted "$tried"
hs_apply
if hs_ok "rerun on the one-shot boot"; then
	grep -qi 'already configured' "$HS_OUT" && grep -q -- '--confirm' "$HS_OUT" ||
		{ hs_fail "rerun on the one-shot boot: does not say to --confirm"; hs_show; }
fi
hs_no_calls "rerun on the one-shot boot"
hs_vmctl host-setup --confirm --root "$HS_ROOT" --dry-run
hs_ok "--confirm --dry-run" && hs_subst "$HS_OUT" | hs_golden plan-confirm.ok "--confirm: the plan"
confirm
if hs_ok "--confirm"; then
	hs_calls | hs_golden calls-confirm.ok "--confirm: commands run"
	grep -qx "GRUB_CMDLINE_LINUX_DEFAULT=\"\$GRUB_CMDLINE_LINUX_DEFAULT $tried\"" "$HS_ROOT/etc/default/grub" ||
		hs_fail "--confirm: /etc/default/grub does not hold the arguments"
	[ ! -e "$HS_ROOT/etc/grub.d/01_vmctl" ] || hs_fail "--confirm left 01_vmctl"
	grep -q '^linux .* quiet splash '"$tried"'$' "$HS_ROOT/boot/grub/grub.cfg" ||
		hs_fail "--confirm: grub.cfg's linux line lacks the arguments"
	! grep -q vmctl_ "$HS_ROOT/$env_block" || hs_fail "--confirm left a vmctl variable in grubenv"
	[ "$(manifest 'm["mode"]')" = permanent ] || hs_fail "--confirm: the manifest does not say permanent"
fi
: > "$HS_LOG"
confirm
hs_ok "second --confirm" && { grep -q 'permanent already' "$HS_OUT" ||
	{ hs_fail "second --confirm: does not say there is nothing to do"; hs_show; }; }
hs_no_calls "second --confirm"
# Another card later: what is confirmed stays, only the new ids are tried.
hs_vmctl host-setup 0000:00:02.0 --root "$HS_ROOT" --yes --force
if hs_ok "another card after --confirm"; then
	grep -qx "GRUB_CMDLINE_LINUX_DEFAULT=\"\$GRUB_CMDLINE_LINUX_DEFAULT $tried \\\\\${vmctl_once}\"" \
		"$HS_ROOT/etc/default/grub" ||
		{ hs_fail "another card: the confirmed arguments are not kept beside the one-shot"; grep -n vmctl "$HS_ROOT/etc/default/grub"; }
	grep -qx "vmctl_try=vfio-pci.ids=10de:1b80,10de:10f0,8086:3e98" "$HS_ROOT/$env_block" ||
		{ hs_fail "another card: not just the new ids tried"; cat "$HS_ROOT/$env_block" | head -3; }
fi
hs_undo_to_pristine "--undo after --confirm"

# 5. --undo while armed also disarms.
hs_restore armed
hs_undo
hs_ok "--undo while armed"
hs_same_tree "$HS_ROOT" "$HS_TMP/pristine" "--undo while armed"
hs_calls | grep -qx 'chroot @ROOT@ grub-editenv /boot/grub/grubenv unset vmctl_try' ||
	{ hs_fail "--undo while armed: did not unset vmctl_try"; hs_calls; }
confirm
if [ "$HS_RC" != 1 ] || ! grep -q 'nothing to confirm' "$HS_ERR"; then
	hs_fail "--confirm with nothing done: not refused"
	hs_show
fi

# 6. A selected boot display: bound only by the tried command line.
hs_fresh
hs_vmctl host-setup 0000:00:02.0 --root "$HS_ROOT" --dry-run --force
if hs_ok "the boot display --dry-run"; then
	if grep -q '^+options vfio-pci' "$HS_OUT"; then
		hs_fail "the boot display goes into modprobe.d while only tried"
		hs_show
	fi
	grep -q '0000:00:02.0 is the host.s boot display: only the tried command line' "$HS_OUT" ||
		{ hs_fail "the plan does not say why the boot display is not in modprobe.d"; hs_show; }
	grep -q '^# one-shot: the next boot tries intel_iommu=on iommu=pt vfio-pci.ids=8086:3e98' "$HS_OUT" ||
		{ hs_fail "the boot display's ids are not tried"; hs_show; }
fi

# 7. systemd-boot.
booted ""
hs_init oneshot-sdboot amd-nvidia arch
cmdline=$HS_TMP/host/proc/cmdline
cp "$cmdline" "$HS_TMP/cmdline.orig"
sd_tried="iommu=pt vfio-pci.ids=10de:1b81,10de:10f0"
hs_fresh
hs_apply
if hs_ok "systemd-boot --yes"; then
	grep -qx "options root=\"LABEL=arch_os\" rw $sd_tried" "$HS_ROOT/boot/loader/entries/vmctl-try.conf" ||
		hs_fail "systemd-boot: no one-shot entry with the arguments"
	cmp -s "$HS_ROOT/boot/loader/entries/arch.conf" "$HS_TMP/pristine/boot/loader/entries/arch.conf" &&
		cmp -s "$HS_ROOT/etc/kernel/cmdline" "$HS_TMP/pristine/etc/kernel/cmdline" ||
		hs_fail "systemd-boot: the one-shot changed the entries or /etc/kernel/cmdline"
	[ "$(hs_calls | tail -n 1)" = "chroot @ROOT@ bootctl set-oneshot vmctl-try.conf" ] ||
		{ hs_fail "systemd-boot: not armed last with bootctl set-oneshot"; hs_calls; }
fi
booted "$sd_tried"
: > "$HS_LOG"
confirm
if hs_ok "systemd-boot --confirm"; then
	[ ! -e "$HS_ROOT/boot/loader/entries/vmctl-try.conf" ] || hs_fail "systemd-boot --confirm left vmctl-try.conf"
	grep -qx "root=\"LABEL=arch_os\" rw $sd_tried" "$HS_ROOT/etc/kernel/cmdline" ||
		hs_fail "systemd-boot --confirm: /etc/kernel/cmdline lacks the arguments"
	grep -qx "options root=\"LABEL=arch_os\" rw $sd_tried" "$HS_ROOT/boot/loader/entries/arch-fallback.conf" ||
		hs_fail "systemd-boot --confirm: the entries lack the arguments"
fi
hs_undo_to_pristine "systemd-boot --undo after --confirm"

# 8. No one-shot with grubby: --permanent is needed.
hs_init oneshot-grubby intel-nvidia fedora
hs_fresh
hs_apply
if [ "$HS_RC" != 64 ] || ! grep -q 'pass --permanent' "$HS_ERR"; then
	hs_fail "grubby without --permanent: not refused with 64"
	hs_show
fi
hs_same_tree "$HS_ROOT" "$HS_TMP/pristine" "grubby without --permanent"
hs_no_calls "grubby without --permanent"
hs_done
