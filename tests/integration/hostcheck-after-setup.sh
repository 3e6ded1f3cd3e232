#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# host-check after host-setup and a reboot: host-setup runs for real on
# the fake Debian root (tests/hostsetup/debian, stand-in update-grub and
# update-initramfs) for the GTX 1080 of tests/hostsetup/hosts/
# intel-nvidia.json, leaving its manifest in the state dir; then fake
# hosts "after the reboot" (that description, patched) face host-check,
# which must name what did not take, one check line each, with its fix:
#   everything right                  setup, setup-args, -driver, -group ok
#   no reboot since host-setup        setup fails: reboot
#   arguments not on the command line setup-args names /etc/default/grub
#     ... a grub.d drop-in resets the variable: names the drop-in
#     ... grub.cfg not rebuilt: names /boot/grub/grub.cfg, update-grub
#     ... one-shot arguments (a manifest field): a warning
#   the GPU on nouveau: softdep missing, initramfs without vfio_pci, an
#     initramfs older than vfio.conf; the audio function on no driver
#     with vfio_pci not loaded
#   a companion endpoint in the GPU's IOMMU group on its own driver
#   interrupt remapping off though the unit can (ecap bit 3), and a unit
#     that cannot
#   a corrupt manifest: one warning, nothing compared
#   no manifest: no setup line at all, as before host-setup existed
# Nothing touches this machine's /sys, /proc, /dev or /etc.
TEST_NAME=hostcheck-after-setup
. "$(dirname "$0")/hostsetup-lib.sh"
need jq
hs_init debian intel-nvidia
HS_SELECTOR=NVIDIA
hs_fresh
hs_apply
[ "$HS_RC" = 0 ] || { hs_show; fail "host-setup failed"; }
MANIFEST=$HS_STATE/host-setup/manifest.json
[ -f "$MANIFEST" ] || fail "host-setup left no manifest"
# host-setup ran an hour ago; the fake hosts booted a minute ago.
touch -d '-1 hour' "$MANIFEST"
ARGS='intel_iommu=on iommu=pt vfio-pci.ids=10de:1b80,10de:10f0'

# after NAME PATCH: the host after the reboot, as it should be (the
# arguments in effect, the card on vfio-pci, vfio loaded, booted a minute
# ago), then PATCH (fixture_patch in lib.sh; args[0]: the arguments).
# HOST: its directory.
AFTER='d["cmdline"] += " " + args[0]
d["uptime"] = 60
d["modules"] = [m for m in d["modules"] if m != "nouveau"] + [
    "vfio_pci", "vfio_pci_core", "vfio_iommu_type1", "vfio"]
fn["01:00.0"]["driver"] = fn["01:00.1"]["driver"] = "vfio-pci"'
after() {
	HOST=$HS_TMP/after-$1
	fixture_patch "$HS_DATA/hosts/intel-nvidia.json" "$HOST.json" \
		"$AFTER
$2" "$ARGS"
	rm -rf "$HOST"
	python3 "$ROOT/scripts/gen-sysfs.py" "$HOST.json" "$HOST" 2>/dev/null ||
		fail "gen-sysfs $1 failed"
}

# check: host-check --json on HOST into $HS_TMP/hc.json.
check() {
	hs_env env VMCTL_PROC_ROOT="$HOST/proc" VMCTL_DEV_ROOT="$HOST/dev" \
		"$VMCTL" --sysfs-root "$HOST/sys" host-check --json
	cp "$HS_OUT" "$HS_TMP/hc.json"
	jq -e .checks "$HS_TMP/hc.json" >/dev/null ||
		{ hs_show; fail "host-check --json: no JSON"; }
}

# expect NAME STATUS TEXT [FIX]: the check NAME has STATUS and its message
# (and fix) contain TEXT (and FIX), @ROOT@ standing for the fake root.
expect() {
	local got msg fix text=${3//@ROOT@/$HS_ROOT} want_fix=${4:-}; want_fix=${want_fix//@ROOT@/$HS_ROOT}

	got=$(jq -r --arg n "$1" '.checks[] | select(.name == $n) | .status' "$HS_TMP/hc.json")
	msg=$(jq -r --arg n "$1" '.checks[] | select(.name == $n) | .message' "$HS_TMP/hc.json")
	fix=$(jq -r --arg n "$1" '.checks[] | select(.name == $n) | .fix // ""' "$HS_TMP/hc.json")
	[ "$got" = "$2" ] || { hs_fail "$CASE: $1 is '$got', not $2: $(hs_subst <<<"$msg")"; return; }
	[[ $msg == *"$text"* ]] || hs_fail "$CASE: $1 says: $(hs_subst <<<"$msg")"
	[ -z "$want_fix" ] || [[ $fix == *"$want_fix"* ]] ||
		hs_fail "$CASE: $1 fix: $(hs_subst <<<"$fix")"
}

CASE=right
after right ''
check
expect setup ok "host-setup (grub, initramfs-tools) changed /etc/modprobe.d/vfio.conf, /etc/default/grub, /etc/initramfs-tools/modules under @ROOT@"
expect setup-args ok "$ARGS in effect (host-setup set them in /etc/default/grub GRUB_CMDLINE_LINUX_DEFAULT)"
expect setup-driver ok "0000:01:00.0, 0000:01:00.1 on vfio-pci"
expect setup-group ok "group 1 viable"
expect interrupt-remapping ok "on"
[ "$(jq '[.checks[] | select(.status == "fail") | .name] == ["kvm"]' "$HS_TMP/hc.json")" = true ] ||
	hs_fail "right: fails other than kvm (no /dev/kvm here): $(jq -c '[.checks[] | select(.status == "fail") | .name]' "$HS_TMP/hc.json")"
hs_env env VMCTL_PROC_ROOT="$HOST/proc" VMCTL_DEV_ROOT="$HOST/dev" \
	"$VMCTL" --sysfs-root "$HOST/sys" host-check
grep -q '^ok    setup-driver         0000:01:00.0, 0000:01:00.1 on vfio-pci$' "$HS_OUT" ||
	hs_fail "right: the human form: $(hs_subst "$HS_OUT")"
say "everything right: setup, setup-args, setup-driver, setup-group ok"

CASE=no-reboot
after no-reboot 'd["uptime"] = 86400; d["cmdline"] = d["cmdline"].replace(" " + args[0], ""); fn["01:00.0"]["driver"] = "nouveau"; d["modules"].append("nouveau")'
check
expect setup fail "the host has not rebooted since host-setup changed /etc/modprobe.d/vfio.conf" reboot
expect setup-args fail "the host has not rebooted since" reboot
expect setup-driver fail "0000:01:00.0 is on nouveau, not vfio-pci: the host has not rebooted since host-setup"

CASE=args-missing
after args-missing 'd["cmdline"] = d["cmdline"].replace(" " + args[0], "")'
check
expect setup-args fail "not on the running kernel's command line: intel_iommu=on, iommu=pt, vfio-pci.ids=10de:1b80,10de:10f0; host-setup set them in /etc/default/grub GRUB_CMDLINE_LINUX_DEFAULT, but /etc/default/grub and /boot/grub/grub.cfg carry them, so this boot came from another entry" \
	"boot the default entry"
say "arguments missing: named with /etc/default/grub"

CASE=args-old-ids
after args-old-ids 'd["cmdline"] = d["cmdline"].replace("10de:1b80,10de:10f0", "10de:1b80")'
check
expect setup-args fail "not on the running kernel's command line: vfio-pci.ids=10de:1b80,10de:10f0 (in effect: vfio-pci.ids=10de:1b80);"
# The same ids in another order are the same ids.
CASE=args-reordered
after args-reordered 'd["cmdline"] = d["cmdline"].replace("10de:1b80,10de:10f0", "10de:10f0,10de:1b80")'
check
expect setup-args ok "in effect"

CASE=dropin
hs_save applied
mkdir -p "$HS_ROOT/etc/default/grub.d"
printf 'GRUB_CMDLINE_LINUX_DEFAULT="console=tty1 console=ttyS0"\n' \
	> "$HS_ROOT/etc/default/grub.d/50-cloudimg-settings.cfg"
after dropin 'd["cmdline"] = d["cmdline"].replace(" " + args[0], "")'
check
expect setup-args fail "but /etc/default/grub.d/50-cloudimg-settings.cfg sets GRUB_CMDLINE_LINUX_DEFAULT after it, without them, and the last assignment wins" \
	"add them to /etc/default/grub.d/50-cloudimg-settings.cfg's GRUB_CMDLINE_LINUX_DEFAULT too"
# A drop-in that extends the variable keeps them.
printf 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT console=ttyS0"\n' \
	> "$HS_ROOT/etc/default/grub.d/50-cloudimg-settings.cfg"
check
expect setup-args fail "/etc/default/grub and /boot/grub/grub.cfg carry them"
say "a grub.d drop-in that drops them: named"

CASE=grub-cfg
hs_restore applied
sed -i 's/ intel_iommu=on iommu=pt vfio-pci.ids=[0-9a-f:,]*//' "$HS_ROOT/boot/grub/grub.cfg"
check
expect setup-args fail "but /boot/grub/grub.cfg has no boot entry with them: update-grub has not run since" \
	"run update-grub (grub-mkconfig -o /boot/grub/grub.cfg), then reboot"
say "grub.cfg not rebuilt: named"

CASE=one-shot
hs_restore applied
python3 - "$MANIFEST" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["one_shot"] = True
m["kargs"] = ["intel_iommu=on", "iommu=pt", "vfio-pci.ids=10de:1b80,10de:10f0"]
json.dump(m, open(sys.argv[1], "w"), indent=1)
PY
touch -d '-1 hour' "$MANIFEST"
check
expect setup-args warn "host-setup set them for one boot only, and this boot is not that one" \
	"without the one-shot option"
hs_restore applied
touch -d '-1 hour' "$MANIFEST"

CASE=softdep
grep -v '^softdep nouveau' "$HS_ROOT/etc/modprobe.d/vfio.conf" > "$HS_TMP/vfio.conf"
cat "$HS_TMP/vfio.conf" > "$HS_ROOT/etc/modprobe.d/vfio.conf"
touch -d '-2 hours' "$HS_ROOT/etc/modprobe.d/vfio.conf"
after softdep 'fn["01:00.0"]["driver"] = "nouveau"; d["modules"].append("nouveau")'
check
expect setup-driver fail "0000:01:00.0 is on nouveau, not vfio-pci: no \`softdep nouveau pre: vfio-pci\` in /etc/modprobe.d/vfio.conf, so nouveau loaded first and took it" \
	"rerun vmctl host-setup (it writes the softdep), then reboot"
say "native driver, softdep missing: named"

CASE=initramfs-modules
hs_restore applied
sed -i '/^vfio/d' "$HS_ROOT/etc/initramfs-tools/modules"
touch -d '-2 hours' "$HS_ROOT/etc/initramfs-tools/modules"
check
expect setup-driver fail "0000:01:00.0 is on nouveau, not vfio-pci: /etc/initramfs-tools/modules does not put vfio_pci in the initramfs, which loads nouveau first"

CASE=initramfs-stale
hs_restore applied
touch -d '-3 hours' "$HS_ROOT/boot/initrd.img-6.1.0-18-amd64"
check
expect setup-driver fail "0000:01:00.0 is on nouveau, not vfio-pci: /boot/initrd.img-6.1.0-18-amd64 is older than /etc/" \
	"update-initramfs -u -k all, then reboot"
say "initramfs without vfio_pci, or not rebuilt: named"

CASE=builtin
hs_restore applied
after builtin 'fn["01:00.0"]["driver"] = "nouveau"'
check
expect setup-driver fail "nouveau is built into the kernel, so no softdep can load vfio-pci before it"

CASE=no-vfio
after no-vfio 'fn["01:00.1"]["driver"] = None; del fn["01:00.1"]["driver"]; d["modules"] = [m for m in d["modules"] if not m.startswith("vfio")]'
check
expect setup-driver fail "0000:01:00.1 is on no driver, not vfio-pci: vfio_pci is not loaded: nothing loaded it at boot" \
	"vmctl bind 0000:01:00.1"
say "built-in driver, vfio_pci not loaded: named"

CASE=companion
after companion '
fn["00:01.0"]["children"].append({"addr": "01:00.2", "id": "10de:1ad8", "class": "0c0330", "rev": "a1", "subsys": "1458:3702", "driver": "xhci_hcd", "group": "peg"})
d["devices"].append({"addr": "00:01.1", "id": "8086:1905", "class": "060400", "driver": "pcieport", "group": "peg", "children": [
    {"addr": "05:00.0", "id": "1b21:2142", "class": "0c0330", "driver": "xhci_hcd", "group": "peg"}]})'
check
expect setup-group fail "not viable, so VFIO refuses the card: group 1 holds 0000:01:00.2 (class 0c03) [xhci_hcd], not on vfio-pci; group 1 holds 0000:05:00.0 (class 0c03) [xhci_hcd], not on vfio-pci" \
	"bind 0000:01:00.2 too"
say "a companion function not on vfio-pci: named"

CASE=ir-off
after ir-off 'd["interrupt_remapping"] = False'
check
expect interrupt-remapping fail "off, though dmar0 can remap (its ecap 0xf050da has bit 3, IR): the firmware or the kernel turned it off" \
	"enable interrupt remapping and x2APIC in the firmware setup"
CASE=ir-unsupported
after ir-unsupported 'd["interrupt_remapping"] = False; d["iommu"]["ecap"] = "0xf050d2"'
check
expect interrupt-remapping fail "off: dmar0 cannot remap (its ecap 0xf050d2 lacks bit 3, IR)" \
	"this platform cannot remap interrupts"
CASE=ir-intremap-off
after ir-intremap-off 'd["interrupt_remapping"] = False; d["cmdline"] += " intremap=off"'
check
expect interrupt-remapping fail "off (intremap=off)" "remove intremap=off"
say "interrupt remapping off: named (firmware, hardware, intremap=off)"

CASE=corrupt
after corrupt ''
cp "$MANIFEST" "$HS_TMP/manifest.good"
echo '{"root": ' > "$MANIFEST"
check
expect setup warn "manifest.json: not a JSON object: what host-setup intended is not compared"
[ "$(jq '[.checks[] | select(.name | startswith("setup-"))] | length' "$HS_TMP/hc.json")" = 0 ] ||
	hs_fail "corrupt: setup-* checks still made"

CASE=no-manifest
rm -f "$MANIFEST"
check
[ "$(jq '[.checks[] | select(.name | startswith("setup"))] | length' "$HS_TMP/hc.json")" = 0 ] ||
	hs_fail "no manifest: setup checks made"
[ "$(jq -r '[.checks[].name] | join(" ")' "$HS_TMP/hc.json")" = "cpu kvm iommu interrupt-remapping cmdline vfio hugepages ovmf qemu tmux host-devices gpu gpu-quirks" ] ||
	hs_fail "no manifest: checks $(jq -r '[.checks[].name] | join(" ")' "$HS_TMP/hc.json")"
cp "$HS_TMP/manifest.good" "$MANIFEST"
say "corrupt manifest: one warning; none: as before"
hs_done
