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
#     ... one-shot arguments (the manifest's mode), after the trial
#       boot: a warning, how to try again
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
. "$(dirname "$0")/hostcheck-lib.sh"
HS_SELECTOR=NVIDIA
ARGS='intel_iommu=on iommu=pt vfio-pci.ids=10de:1b80,10de:10f0'
hc_setup debian intel-nvidia "$ARGS"
# After the reboot, as it should be: the card on vfio-pci, vfio loaded.
HC_AFTER='d["modules"] = [m for m in d["modules"] if m != "nouveau"] + [
    "vfio_pci", "vfio_pci_core", "vfio_iommu_type1", "vfio"]
fn["01:00.0"]["driver"] = fn["01:00.1"]["driver"] = "vfio-pci"'

CASE=right
hc_after right ''
hc_check
hc_expect setup ok "host-setup (grub, initramfs-tools) changed /etc/default/grub, /etc/modprobe.d/vfio.conf, /etc/initramfs-tools/modules under @ROOT@"
hc_expect setup-args ok "$ARGS in effect (host-setup set them in /etc/default/grub GRUB_CMDLINE_LINUX_DEFAULT)"
hc_expect setup-driver ok "0000:01:00.0, 0000:01:00.1 on vfio-pci"
hc_expect setup-group ok "group 1 viable"
hc_expect interrupt-remapping ok "on"
[ "$(jq '[.checks[] | select(.status == "fail") | .name] == ["kvm"]' "$HS_TMP/hc.json")" = true ] ||
	hs_fail "right: fails other than kvm (no /dev/kvm here): $(jq -c '[.checks[] | select(.status == "fail") | .name]' "$HS_TMP/hc.json")"
hs_env env VMCTL_PROC_ROOT="$HOST/proc" VMCTL_DEV_ROOT="$HOST/dev" \
	"$VMCTL" --sysfs-root "$HOST/sys" host-check
grep -q '^ok    setup-driver         0000:01:00.0, 0000:01:00.1 on vfio-pci$' "$HS_OUT" ||
	hs_fail "right: the human form: $(hs_subst "$HS_OUT")"
say "everything right: setup, setup-args, setup-driver, setup-group ok"

CASE=no-reboot
hc_after no-reboot 'd["uptime"] = 86400; d["cmdline"] = d["cmdline"].replace(" " + args[0], ""); fn["01:00.0"]["driver"] = "nouveau"; d["modules"].append("nouveau")'
hc_check
hc_expect setup fail "the host has not rebooted since host-setup changed /etc/default/grub, /etc/modprobe.d/vfio.conf" reboot
hc_expect setup-args fail "the host has not rebooted since" reboot
hc_expect setup-driver fail "0000:01:00.0 is on nouveau, not vfio-pci: the host has not rebooted since host-setup"

CASE=args-missing
hc_after args-missing 'd["cmdline"] = d["cmdline"].replace(" " + args[0], "")'
hc_check
hc_expect setup-args fail "not on the running kernel's command line: intel_iommu=on, iommu=pt, vfio-pci.ids=10de:1b80,10de:10f0; host-setup set them in /etc/default/grub GRUB_CMDLINE_LINUX_DEFAULT, but /etc/default/grub and /boot/grub/grub.cfg carry them, so this boot came from another entry" \
	"boot the default entry"
say "arguments missing: named with /etc/default/grub"

CASE=args-old-ids
hc_after args-old-ids 'd["cmdline"] = d["cmdline"].replace("10de:1b80,10de:10f0", "10de:1b80")'
hc_check
hc_expect setup-args fail "not on the running kernel's command line: vfio-pci.ids=10de:1b80,10de:10f0 (in effect: vfio-pci.ids=10de:1b80);"
# The same ids in another order are the same ids.
CASE=args-reordered
hc_after args-reordered 'd["cmdline"] = d["cmdline"].replace("10de:1b80,10de:10f0", "10de:10f0,10de:1b80")'
hc_check
hc_expect setup-args ok "in effect"

CASE=dropin
hs_save applied
mkdir -p "$HS_ROOT/etc/default/grub.d"
printf 'GRUB_CMDLINE_LINUX_DEFAULT="console=tty1 console=ttyS0"\n' \
	> "$HS_ROOT/etc/default/grub.d/50-cloudimg-settings.cfg"
hc_after dropin 'd["cmdline"] = d["cmdline"].replace(" " + args[0], "")'
hc_check
hc_expect setup-args fail "but /etc/default/grub.d/50-cloudimg-settings.cfg sets GRUB_CMDLINE_LINUX_DEFAULT after it, without them, and the last assignment wins" \
	"add them to /etc/default/grub.d/50-cloudimg-settings.cfg's GRUB_CMDLINE_LINUX_DEFAULT too"
# A drop-in that extends the variable keeps them.
printf 'GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT console=ttyS0"\n' \
	> "$HS_ROOT/etc/default/grub.d/50-cloudimg-settings.cfg"
hc_check
hc_expect setup-args fail "/etc/default/grub and /boot/grub/grub.cfg carry them"
say "a grub.d drop-in that drops them: named"

CASE=grub-cfg
hs_restore applied
sed -i 's/ intel_iommu=on iommu=pt vfio-pci.ids=[0-9a-f:,]*//' "$HS_ROOT/boot/grub/grub.cfg"
hc_check
hc_expect setup-args fail "but /boot/grub/grub.cfg has no boot entry with them: update-grub has not run since" \
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
hc_check
hc_expect setup-args warn "host-setup tried them for one boot only, and this boot is not that one" \
	"rerun vmctl host-setup with the same selectors to try them once more, then reboot (--permanent: no trial)"
# The same as host-setup records it: mode "one-shot" and what is tried
# (tests/reboot checks the trial boot itself, which says to confirm).
python3 - "$MANIFEST" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
del m["one_shot"]
m["mode"] = "one-shot"
m["tried"] = ["intel_iommu=on", "iommu=pt", "vfio-pci.ids=10de:1b80,10de:10f0"]
json.dump(m, open(sys.argv[1], "w"), indent=1)
PY
touch -d '-1 hour' "$MANIFEST"
hc_check
hc_expect setup-args warn "host-setup tried them for one boot only" "try them once more"
say "one-shot, after the trial boot: a warning, try again"
hs_restore applied
touch -d '-1 hour' "$MANIFEST"

CASE=softdep
grep -v '^softdep nouveau' "$HS_ROOT/etc/modprobe.d/vfio.conf" > "$HS_TMP/vfio.conf"
cat "$HS_TMP/vfio.conf" > "$HS_ROOT/etc/modprobe.d/vfio.conf"
touch -d '-2 hours' "$HS_ROOT/etc/modprobe.d/vfio.conf"
hc_after softdep 'fn["01:00.0"]["driver"] = "nouveau"; d["modules"].append("nouveau")'
hc_check
hc_expect setup-driver fail "0000:01:00.0 is on nouveau, not vfio-pci: no \`softdep nouveau pre: vfio-pci\` in /etc/modprobe.d/vfio.conf, so nouveau loaded first and took it" \
	"rerun vmctl host-setup (it writes the softdep), then reboot"
say "native driver, softdep missing: named"

CASE=initramfs-modules
hs_restore applied
sed -i '/^vfio/d' "$HS_ROOT/etc/initramfs-tools/modules"
touch -d '-2 hours' "$HS_ROOT/etc/initramfs-tools/modules"
hc_check
hc_expect setup-driver fail "0000:01:00.0 is on nouveau, not vfio-pci: /etc/initramfs-tools/modules does not put vfio_pci in the initramfs, which loads nouveau first"

CASE=initramfs-stale
hs_restore applied
touch -d '-3 hours' "$HS_ROOT/boot/initrd.img-6.1.0-18-amd64"
hc_check
hc_expect setup-driver fail "0000:01:00.0 is on nouveau, not vfio-pci: /boot/initrd.img-6.1.0-18-amd64 is older than /etc/" \
	"update-initramfs -u -k all, then reboot"
say "initramfs without vfio_pci, or not rebuilt: named"

CASE=builtin
hs_restore applied
hc_after builtin 'fn["01:00.0"]["driver"] = "nouveau"'
hc_check
hc_expect setup-driver fail "nouveau is built into the kernel, so no softdep can load vfio-pci before it"

CASE=no-vfio
hc_after no-vfio 'fn["01:00.1"]["driver"] = None; del fn["01:00.1"]["driver"]; d["modules"] = [m for m in d["modules"] if not m.startswith("vfio")]'
hc_check
hc_expect setup-driver fail "0000:01:00.1 is on no driver, not vfio-pci: vfio_pci is not loaded: nothing loaded it at boot" \
	"vmctl bind 0000:01:00.1"
say "built-in driver, vfio_pci not loaded: named"

CASE=companion
hc_after companion '
fn["00:01.0"]["children"].append({"addr": "01:00.2", "id": "10de:1ad8", "class": "0c0330", "rev": "a1", "subsys": "1458:3702", "driver": "xhci_hcd", "group": "peg"})
d["devices"].append({"addr": "00:01.1", "id": "8086:1905", "class": "060400", "driver": "pcieport", "group": "peg", "children": [
    {"addr": "05:00.0", "id": "1b21:2142", "class": "0c0330", "driver": "xhci_hcd", "group": "peg"}]})'
hc_check
hc_expect setup-group fail "not viable, so VFIO refuses the card: group 1 holds 0000:01:00.2 (class 0c03) [xhci_hcd], not on vfio-pci; group 1 holds 0000:05:00.0 (class 0c03) [xhci_hcd], not on vfio-pci" \
	"bind 0000:01:00.2 too"
say "a companion function not on vfio-pci: named"

CASE=ir-off
hc_after ir-off 'd["interrupt_remapping"] = False'
hc_check
hc_expect interrupt-remapping fail "off, though dmar0 can remap (its ecap 0xf050da has bit 3, IR): the firmware or the kernel turned it off" \
	"enable interrupt remapping and x2APIC in the firmware setup"
CASE=ir-unsupported
hc_after ir-unsupported 'd["interrupt_remapping"] = False; d["iommu"]["ecap"] = "0xf050d2"'
hc_check
hc_expect interrupt-remapping fail "off: dmar0 cannot remap (its ecap 0xf050d2 lacks bit 3, IR)" \
	"this platform cannot remap interrupts"
CASE=ir-intremap-off
hc_after ir-intremap-off 'd["interrupt_remapping"] = False; d["cmdline"] += " intremap=off"'
hc_check
hc_expect interrupt-remapping fail "off (intremap=off)" "remove intremap=off"
say "interrupt remapping off: named (firmware, hardware, intremap=off)"

CASE=corrupt
hc_after corrupt ''
cp "$MANIFEST" "$HS_TMP/manifest.good"
echo '{"root": ' > "$MANIFEST"
hc_check
hc_expect setup warn "manifest.json: not a JSON object: what host-setup intended is not compared"
[ "$(jq '[.checks[] | select(.name | startswith("setup-"))] | length' "$HS_TMP/hc.json")" = 0 ] ||
	hs_fail "corrupt: setup-* checks still made"

CASE=no-manifest
rm -f "$MANIFEST"
hc_check
[ "$(jq '[.checks[] | select(.name | startswith("setup"))] | length' "$HS_TMP/hc.json")" = 0 ] ||
	hs_fail "no manifest: setup checks made"
[ "$(jq -r '[.checks[].name] | join(" ")' "$HS_TMP/hc.json")" = "cpu kvm iommu interrupt-remapping cmdline vfio hugepages ovmf qemu tmux host-devices gpu gpu-quirks" ] ||
	hs_fail "no manifest: checks $(jq -r '[.checks[].name] | join(" ")' "$HS_TMP/hc.json")"
cp "$HS_TMP/manifest.good" "$MANIFEST"
say "corrupt manifest: one warning; none: as before"
hs_done
