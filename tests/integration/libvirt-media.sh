#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vmctl cdrom and vmctl disk resize on a libvirt host (--connect
# qemu:///system) under TCG.  The guest: snaptest-lib.sh's busybox guest
# (virtio_blk, a shell reading its console, typed into with `vmctl
# console`, read with `vmctl logs`) given the CD-ROM drivers of its kernel
# too (lifecycle-cdrom.sh's: ata_piix, sr_mod...).  The cloud kernel has
# no AHCI driver, so the test moves the SATA drive vmctl defines onto the
# PIIX IDE of `machine: pc` (virsh define) before the first start: the
# medium changes go through libvirt the same way on either bus.  Checked:
#   - insert into the running domain: the ISO is uploaded as a volume
#     named by its digest, virsh domblklist shows it, the guest reads it,
#     the persistent definition has it too; a second insert replaces it;
#     eject empties the drive (guest, domblklist, definition);
#   - status (text, --json) shows the medium; --json of cdrom/disk has
#     "backend" and "host";
#   - the medium stays across stop/start; eject and insert while stopped
#     change the definition only, and the next boot reads the new one;
#   - disk resize of the running domain: virsh domblkinfo has the new
#     capacity, and the guest's /sys/block/vda/size; of a stopped one:
#     vol-info's capacity;
#   - refusals (status, one line, nothing changed): a smaller size (65),
#     a size that does not parse (64), a domain without a CD-ROM drive, an
#     unknown VM, a missing ISO.
TEST_NAME=libvirt-media
. "$(dirname "$0")/lib.sh"
need jq qemu-img cpio python3
unset VMCTL_SYSFS_ROOT VMCTL_PROC_ROOT VMCTL_DEV_ROOT VMCTL_CONNECT
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-lvmedia.XXXXXX")
export LC_ALL=C VMCTL_STATE_DIR=$TMP/state VMCTL_HOSTS_FILE=$TMP/hosts.yaml
URI=qemu:///system
VM=lvmed$$ ND=lvmednd$$
digests=

. "$(dirname "$0")/lvtest-lib.sh"

cleanup() {
	local rc=$?
	set +e
	# (set -e or pipefail ending the test says so)
	case $rc in 0|1|77) ;; *) say "FAIL: exited with status $rc" ;; esac
	lvt_remove_domains "$VM" "$ND"
	# the base, the initrd and the media are this test's own
	lvt_remove_digests $digests
	rm -rf "$TMP"
}
trap cleanup EXIT

lvt_require
SNAPTEST_DIR=$TMP
. "$(dirname "$0")/snaptest-lib.sh"
snaptest_initrd "$GUEST"

# ---- the guest: snaptest's initrd, plus the CD-ROM drivers -------------
CLOUD_INITRD=${VMCTL_TEST_CACHE:-/var/cache/vmctl-test}/cloud/initrd.img
MODS="scsi_common scsi_mod libata ata_piix cdrom sr_mod"
mkdir -p "$TMP/cd/cdtest"
pats=()
for m in $MODS; do pats+=("usr/lib/modules/*/$m.ko"); done
zcat "$CLOUD_INITRD" | (cd "$TMP/cd/cdtest" &&
	cpio -i --quiet --no-absolute-filenames -d "${pats[@]}") ||
	skip "cannot read the cloud initramfs"
for m in $MODS; do
	ko=$(find "$TMP/cd/cdtest" -name "$m.ko" | sed -n 1p)
	[ -n "$ko" ] || skip "no $m.ko in $CLOUD_INITRD"
	mv "$ko" "$TMP/cd/cdtest/$m.ko"
done
rm -rf "$TMP/cd/cdtest/usr"
# snaptest's /init runs /cdtest.sh first when there is one
mkdir -p "$TMP/cd/etc"
cat > "$TMP/cd/cdtest.sh" <<INIT
for m in $MODS; do insmod /cdtest/\$m.ko; done
i=0; while [ ! -e /dev/sr0 ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
INIT
(cd "$TMP/cd" && find . -mindepth 1 | cpio -o -H newc --quiet) | gzip > "$TMP/cd.cpio.gz"
# /init: snaptest's, with the drivers loaded before it says "booted"
zcat "$TMP/extra.cpio.gz" | (mkdir -p "$TMP/x" && cd "$TMP/x" && cpio -i --quiet -d)
sed -i 's|^stty -echo$|. /cdtest.sh\nstty -echo|' "$TMP/x/init"
grep -q '^\. /cdtest.sh$' "$TMP/x/init" || fail "cannot hook the guest's /init"
(cd "$TMP/x" && find . -mindepth 1 | cpio -o -H newc --quiet) | gzip > "$TMP/x.cpio.gz"
cat "$GUEST/initrd.img" "$TMP/x.cpio.gz" "$TMP/cd.cpio.gz" > "$TMP/initrd.img"

# A base of its own, and two media: random bytes make digests no other
# run has; a volume id (ISO 9660's place for it) to tell them apart.
lvt_base
mkdir -p "$TMP/media"
for m in A B; do
	head -c 256K /dev/urandom > "$TMP/media/$m.iso"
	printf "MEDIA$m" | dd of="$TMP/media/$m.iso" bs=1 seek=32808 conv=notrunc 2>/dev/null
done
ISO_A=$TMP/media/A.iso ISO_B=$TMP/media/B.iso
digests="$(sha256sum "$TMP/base.qcow2" "$TMP/initrd.img" "$ISO_A" "$ISO_B" | cut -d' ' -f1 | tr '\n' ' ')"
DG_A=$(sha256sum "$ISO_A" | cut -d' ' -f1)
DG_B=$(sha256sum "$ISO_B" | cut -d' ' -f1)

spec() {   # NAME CDROM-LINE
	cat <<YAML
name: $1
cpus: 1
memory: 128M
accel: tcg
machine: pc
disk:
  image: $TMP/base.qcow2
kernel:
  image: $GUEST/vmlinuz
  initrd: $TMP/initrd.img
  cmdline: console=ttyS0 panic=-1 no_timer_check
$2
vnc: false
YAML
}
spec "$VM" "cdrom: empty" > "$TMP/$VM.yaml"
spec "$ND" "" > "$TMP/$ND.yaml"

# ---- helpers (and snaptest-lib.sh's) ---------------------------------------
log() { lv logs "$VM" 2>/dev/null; }
type_in() { { sleep 0.5; printf '%s\n' "$1"; sleep 1; } | lv -q console "$VM" >/dev/null 2>&1; }
# guest_cd: what the guest reads from /dev/sr0's volume id ("none": no
# medium).  The first read after a change meets the unit attention.
guest_cd() {
	next_q
	type_in "dd if=/dev/sr0 of=/dev/null bs=2048 count=1 2>/dev/null; l=\$(dd if=/dev/sr0 bs=1 skip=32808 count=6 2>/dev/null); echo \"snaptest: q$Q cd=\${l:-none}\""
	wait_for 60 log_has "^snaptest: q$Q cd=" || fail "guest did not answer q$Q: $(log | tail -n 5)"
	log | sed -n "s/^snaptest: q$Q cd=//p" | sed -n 1p
}
guest_vda_bytes() {
	next_q
	type_in "echo \"snaptest: q$Q vda=\$(cat /sys/block/vda/size)\""
	wait_for 60 log_has "^snaptest: q$Q vda=" || fail "guest did not answer q$Q"
	echo $(( $(log | sed -n "s/^snaptest: q$Q vda=//p" | sed -n 1p) * 512 ))
}
# the cdrom's source in the live domain (domblklist) or the definition
blk_cd() { vsh domblklist "$1" | awk '$1 == "hdc" || $1 ~ /^sd/ { print $2 }'; }
def_cd() {
	vsh dumpxml --inactive "$1" | python3 -c '
import sys, xml.etree.ElementTree as E
for d in E.parse(sys.stdin).getroot().iter("disk"):
    if d.get("device") == "cdrom":
        s = d.find("source")
        print(s.get("file") if s is not None else "-")'
}
# (awk reads to the end: no SIGPIPE for pipefail)
vol_path() { vsh vol-list vmctl --details 2>/dev/null | awk -v d="$1" 'index($1, d) && $1 !~ /\.ok$/ && !p { print $2; p = 1 }'; }
blkcap() { vsh domblkinfo "$VM" vda | awk '/^Capacity:/ { print $2 }'; }
volcap() { vsh vol-info --bytes --pool vmctl "$1" | awk '/^Capacity:/ { print $2 }'; }
boots_ok() { [ "$(boots)" -ge "$1" ]; }

# ---- 1. create; the drive onto the IDE bus; boot -------------------------
lv create "$TMP/$VM.yaml" --no-start >/dev/null 2>"$TMP/err" || fail "create: $(cat "$TMP/err")"
vsh dumpxml --inactive "$VM" | python3 -c '
import sys, xml.etree.ElementTree as E
t = E.parse(sys.stdin)
for d in t.getroot().iter("disk"):
    if d.get("device") == "cdrom":
        d.find("target").attrib.update(dev="hdc", bus="ide")
        a = d.find("address")
        if a is not None:
            d.remove(a)
t.write(sys.stdout, encoding="unicode")' > "$TMP/$VM.xml"
vsh define "$TMP/$VM.xml" >/dev/null || fail "cannot define the IDE drive"
lv start "$VM" >/dev/null 2>"$TMP/err" || fail "start: $(cat "$TMP/err")"
wait_for 240 log_has '^snaptest: booted$' || fail "guest did not boot: $(log | tail -n 20)"
[ "$(guest_cd)" = none ] || fail "cdrom: empty: the guest reads a medium"
[ "$(lv status "$VM" --json | jq -c .cdrom)" = '{"medium":null}' ] ||
	fail "status --json of an empty drive: $(lv status "$VM" --json | jq -c .cdrom)"

# ---- 2. insert, replace, eject while running -----------------------------
out=$(lv cdrom "$VM" insert "$ISO_A" --json 2>"$TMP/err") || fail "insert A: $out $(cat "$TMP/err")"
[ "$(jq -c '[.action, .medium, .running, .backend, .host]' <<<"$out")" = \
	"[\"insert\",\"$ISO_A\",true,\"libvirt\",\"$URI\"]" ] || fail "insert --json: $out"
grep -q "Uploaded $ISO_A to $URI" "$TMP/err" || fail "insert did not say it uploaded: $(cat "$TMP/err")"
VOL_A=$(vol_path "$DG_A")
[ -n "$VOL_A" ] || fail "no volume of A's digest in the pool: $(vsh vol-list vmctl)"
[ "$(blk_cd "$VM")" = "$VOL_A" ] || fail "domblklist after insert: $(vsh domblklist "$VM")"
[ "$(def_cd "$VM")" = "$VOL_A" ] || fail "the definition after a live insert: $(def_cd "$VM")"
[ "$(guest_cd)" = MEDIAA ] || fail "the guest does not read A"
lv status "$VM" | grep -cx "cdrom:      $VOL_A" >/dev/null || fail "status: $(lv status "$VM")"
[ "$(lv status "$VM" --json | jq -r .cdrom.medium)" = "$VOL_A" ] || fail "status --json after insert"

out=$(lv cdrom "$VM" insert "$ISO_B" 2>/dev/null) || fail "insert B: $out"
[ "$out" = "Inserted $ISO_B into VM $VM's CD-ROM drive (now)" ] || fail "insert B said: $out"
VOL_B=$(vol_path "$DG_B")
[ -n "$VOL_B" ] && [ "$(blk_cd "$VM")" = "$VOL_B" ] || fail "domblklist after insert B: $(vsh domblklist "$VM")"
[ "$(guest_cd)" = MEDIAB ] || fail "the guest does not read B"

out=$(lv cdrom "$VM" eject --json) || fail "eject: $out"
[ "$(jq -c '[.action, .medium, .running, .backend]' <<<"$out")" = \
	'["eject",null,true,"libvirt"]' ] || fail "eject --json: $out"
[ "$(blk_cd "$VM")" = - ] || fail "domblklist after eject: $(vsh domblklist "$VM")"
[ "$(def_cd "$VM")" = - ] || fail "the definition after eject: $(def_cd "$VM")"
[ "$(guest_cd)" = none ] || fail "the guest still reads a medium after eject"
out=$(lv cdrom "$VM" eject) || fail "eject again: $out"
[ "$out" = "VM $VM's CD-ROM drive is empty already" ] || fail "eject of an empty drive said: $out"

# ---- 3. disk resize of the running domain ------------------------------------
before=$(blkcap)
out=$(lv disk resize "$VM" +1M --json) || fail "resize running: $out"
[ "$(jq -c '[.before, .size, .online, .backend, .host]' <<<"$out")" = \
	"[$before,$((before + 1048576)),true,\"libvirt\",\"$URI\"]" ] || fail "resize --json: $out"
[ "$(blkcap)" = $((before + 1048576)) ] || fail "domblkinfo after resize: $(blkcap)"
[ "$(guest_vda_bytes)" = $((before + 1048576)) ] || fail "the guest does not see the new size"
say "running resize: $before -> $(blkcap) bytes (guest too)"
expect_refused 65 "only grows it" lv disk resize "$VM" 1M
expect_refused 64 "not \"big\"" lv disk resize "$VM" big
[ "$(blkcap)" = $((before + 1048576)) ] || fail "a refusal resized the disk"

# ---- 4. across stop/start; changes while stopped --------------------------
lv cdrom "$VM" insert "$ISO_A" >/dev/null 2>&1 || fail "insert A again"
nb=$(boots)
lv stop "$VM" >/dev/null 2>&1 || fail "stop"
[ "$(def_cd "$VM")" = "$VOL_A" ] || fail "the medium did not stay: $(def_cd "$VM")"
out=$(lv cdrom "$VM" eject --json) || fail "eject stopped: $out"
[ "$(jq -c '[.running, .medium]' <<<"$out")" = '[false,null]' ] || fail "eject stopped --json: $out"
[ "$(def_cd "$VM")" = - ] || fail "eject while stopped: $(def_cd "$VM")"
out=$(lv cdrom "$VM" insert "$ISO_B" 2>/dev/null) || fail "insert stopped: $out"
[ "$out" = "Inserted $ISO_B into VM $VM's CD-ROM drive (from its next start)" ] ||
	fail "insert while stopped said: $out"
[ "$(def_cd "$VM")" = "$VOL_B" ] || fail "insert while stopped: $(def_cd "$VM")"
lv start "$VM" >/dev/null 2>&1 || fail "start again"
wait_for 240 boots_ok $((nb + 1)) || fail "guest did not boot again: $(log | tail -n 5)"
[ "$(blk_cd "$VM")" = "$VOL_B" ] || fail "domblklist after the start: $(vsh domblklist "$VM")"
[ "$(guest_cd)" = MEDIAB ] || fail "a fresh boot does not read B"
[ "$(blkcap)" = $((before + 1048576)) ] || fail "the resize did not stay: $(blkcap)"

# ---- 5. a stopped domain without a drive; unknown VMs --------------------
lv create "$TMP/$ND.yaml" --no-start >/dev/null 2>"$TMP/err" || fail "create $ND: $(cat "$TMP/err")"
vsh dumpxml --inactive "$ND" > "$TMP/nd-before.xml"
expect_refused 1 "no CD-ROM drive" lv cdrom "$ND" insert "$ISO_A"
expect_refused 1 "no CD-ROM drive" lv cdrom "$ND" eject
expect_refused 66 "$TMP/media/none.iso" lv cdrom "$VM" insert "$TMP/media/none.iso"
expect_refused 1 "nope$$" lv cdrom "nope$$" insert "$ISO_A"
expect_refused 1 "nope$$" lv disk resize "nope$$" +1M
cap=$(volcap "$ND.qcow2")
expect_refused 65 "only grows it" lv disk resize "$ND" "$((cap >> 20))M"
vsh dumpxml --inactive "$ND" | cmp -s - "$TMP/nd-before.xml" || fail "a refusal changed $ND's domain"
[ "$(volcap "$ND.qcow2")" = "$cap" ] || fail "a refusal resized $ND's volume"
[ "$(blk_cd "$VM")" = "$VOL_B" ] || fail "a refusal changed $VM's medium"
out=$(lv disk resize "$ND" +2M --json) || fail "resize stopped: $out"
[ "$(jq -c '[.before, .size, .online, .backend]' <<<"$out")" = \
	"[$cap,$((cap + 2097152)),false,\"libvirt\"]" ] || fail "resize stopped --json: $out"
[ "$(volcap "$ND.qcow2")" = $((cap + 2097152)) ] || fail "vol-info after resize: $(volcap "$ND.qcow2")"
out=$(lv disk resize "$ND" +1M) || fail "resize stopped (text): $out"
grep -q "^Resized VM $ND's disk from .* ($((cap + 3145728)) bytes)$" <<<"$out" || fail "resize said: $out"

lv destroy --force "$VM" >/dev/null 2>&1 || fail "destroy $VM"
lv destroy --force "$ND" >/dev/null 2>&1 || fail "destroy $ND"
say "PASS"
