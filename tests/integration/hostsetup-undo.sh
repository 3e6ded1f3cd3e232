#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --undo takes out what host-setup put in and keeps what others did since,
# on the fake Debian and Arch roots (see hostsetup-lib.sh):
#   - an admin's edits after host-setup (GRUB_CMDLINE_LINUX gets a
#     cryptdevice=, a line is added; Arch's root= changes on
#     /etc/kernel/cmdline and in an entry) survive --undo, which removes
#     only vmctl's line and arguments;
#   - vmctl's own line changed by the admin is a conflict: --undo exits 1
#     naming the file, leaves it as it is, undoes the rest, keeps it on
#     record; --undo --force then restores the original byte for byte;
#   - /etc/default/grub as a symbolic link (absolute, so inside the root)
#     stays a link; its target is what changes and is restored;
#   - a manifest from before these records (version 1) is undone byte for
#     byte, as it was then.
TEST_NAME=hostsetup-undo
. "$(dirname "$0")/hostsetup-lib.sh"
hs_init undo intel-nvidia debian
HS_SELECTOR=NVIDIA
HS_FLAGS=--permanent   # vmctl's line holds the arguments themselves
grub=etc/default/grub

# expect_tree WHAT: the root is $HS_TMP/expected (pristine plus edits).
expect_tree() { hs_same_tree "$HS_ROOT" "$HS_TMP/expected" "$1"; }
expected_from() {
	rm -rf "$HS_TMP/expected"
	cp -a "$1" "$HS_TMP/expected"
}
admin_edit() {
	sed -i 's/^GRUB_CMDLINE_LINUX=""/GRUB_CMDLINE_LINUX="cryptdevice=UUID=5d1c:cryptroot"/' "$1/$grub"
	echo 'GRUB_TIMEOUT_STYLE=menu' >> "$1/$grub"
}

# 1. Edits made after host-setup survive --undo.
hs_fresh
hs_apply
hs_ok "--yes" || hs_done
admin_edit "$HS_ROOT"
expected_from "$HS_TMP/pristine"
admin_edit "$HS_TMP/expected"
hs_env chroot "$HS_TMP/expected" update-grub
: > "$HS_LOG"
hs_undo
hs_ok "--undo after the admin's edits"
expect_tree "--undo after the admin's edits"
[ ! -e "$HS_STATE/host-setup/manifest.json" ] || hs_fail "--undo left its manifest"
grep -q 'cryptdevice=UUID=5d1c:cryptroot quiet splash$' "$HS_ROOT/boot/grub/grub.cfg" ||
	{ hs_fail "grub.cfg lost the admin's cryptdevice= (or kept vmctl's arguments):"; cat "$HS_ROOT/boot/grub/grub.cfg"; }

# 2. vmctl's own line changed: a conflict, reported, the file untouched.
hs_fresh
hs_apply
sed -i '/^GRUB_CMDLINE_LINUX_DEFAULT="\$GRUB_CMDLINE_LINUX_DEFAULT/s/ iommu=pt//' "$HS_ROOT/$grub"
cp "$HS_ROOT/$grub" "$HS_TMP/conflicted"
hs_undo
if [ "$HS_RC" != 1 ]; then
	hs_fail "--undo with a conflict: exit status $HS_RC, not 1"
	hs_show
elif ! grep -q "$HS_ROOT/$grub: vmctl's line .* is not there any more" "$HS_ERR" ||
	! grep -q -- '--undo --force' "$HS_ERR"; then
	hs_fail "--undo with a conflict: the error does not name the file, why, and the way out"
	hs_show
fi
cmp -s "$HS_ROOT/$grub" "$HS_TMP/conflicted" || hs_fail "--undo touched the file in conflict"
[ ! -e "$HS_ROOT/etc/modprobe.d/vfio.conf" ] || hs_fail "--undo with a conflict: vfio.conf is still there"
cmp -s "$HS_ROOT/etc/initramfs-tools/modules" "$HS_TMP/pristine/etc/initramfs-tools/modules" ||
	hs_fail "--undo with a conflict: the other files were not undone"
python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))["files"]; sys.exit(not (len(f) == 1 and f[0]["path"] == "/etc/default/grub"))' \
	"$HS_STATE/host-setup/manifest.json" || hs_fail "--undo with a conflict: the manifest does not keep just that file"
: > "$HS_LOG"
hs_vmctl host-setup --undo --force --root "$HS_ROOT"
hs_ok "--undo --force"
hs_same_tree "$HS_ROOT" "$HS_TMP/pristine" "--undo --force"
[ ! -e "$HS_STATE/host-setup/manifest.json" ] || hs_fail "--undo --force left its manifest"

# 3. A symbolic link stays one; its target changes and comes back.  A
# relative link (which the stand-ins follow too) and an absolute one,
# which --root must follow inside the root, never to this machine's /etc.
for target in ../grub-defaults /etc/grub-defaults; do
	hs_fresh
	mv "$HS_ROOT/$grub" "$HS_ROOT/etc/grub-defaults"
	ln -s "$target" "$HS_ROOT/$grub"
	rm -rf "$HS_TMP/linked"
	cp -a "$HS_ROOT" "$HS_TMP/linked"
	hs_apply
	if hs_ok "--yes, /etc/default/grub a link to $target"; then
		[ "$(readlink "$HS_ROOT/$grub")" = "$target" ] ||
			hs_fail "--yes replaced the link /etc/default/grub -> $target"
		grep -q '^GRUB_CMDLINE_LINUX_DEFAULT="\$GRUB_CMDLINE_LINUX_DEFAULT' \
			"$HS_ROOT/etc/grub-defaults" ||
			hs_fail "--yes did not write through the link to $target"
	fi
	hs_undo
	hs_ok "--undo, /etc/default/grub a link to $target"
	[ "$(readlink "$HS_ROOT/$grub")" = "$target" ] ||
		hs_fail "--undo replaced the link /etc/default/grub -> $target"
	cmp -s "$HS_ROOT/etc/grub-defaults" "$HS_TMP/pristine/$grub" ||
		hs_fail "--undo did not restore the link's target $target"
	if [ "$target" = ../grub-defaults ]; then
		hs_same_tree "$HS_ROOT" "$HS_TMP/linked" "--undo, /etc/default/grub a link"
	fi
done

# 3b. A manifest written before vmctl kept records (version 1: no
# versions, no lines or words): --undo restores the originals, as then.
hs_fresh
hs_apply
python3 - "$HS_STATE/host-setup/manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
keep = ("path", "existed", "mode", "backup")
m = {"root": m["root"], "boot": m["boot"], "initrd": m["initrd"],
     "files": [{k: f[k] for k in keep if k in f} for f in m["files"]]}
json.dump(m, open(sys.argv[1], "w"), indent=1)
PY
hs_undo_to_pristine "--undo of a version 1 manifest"

# 4. Arch: an argument's value changed on /etc/kernel/cmdline and in an
# entry after host-setup; --undo keeps it and takes out vmctl's words.
hs_init undo-arch amd-nvidia arch
hs_fresh
hs_apply
hs_ok "arch: --yes" || hs_done
for f in etc/kernel/cmdline boot/loader/entries/arch.conf; do
	sed -i 's/root="LABEL=arch_os"/root=UUID=0a1b2c3d/' "$HS_ROOT/$f"
done
expected_from "$HS_TMP/pristine"
for f in etc/kernel/cmdline boot/loader/entries/arch.conf; do
	sed -i 's/root="LABEL=arch_os"/root=UUID=0a1b2c3d/' "$HS_TMP/expected/$f"
done
hs_env chroot "$HS_TMP/expected" mkinitcpio -P
hs_undo
hs_ok "arch: --undo after root= changed"
expect_tree "arch: --undo after root= changed"
hs_done
