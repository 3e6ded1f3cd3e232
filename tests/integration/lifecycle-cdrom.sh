#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vmctl cdrom insert/eject and boot: cdrom-once on the direct backend,
# under TCG.  The busybox test guest gets the CD-ROM drivers of its kernel
# (scsi, libata, ata_piix, cdrom, sr_mod, taken from the cloud image's
# initramfs: a `machine: pc` VM's ide-cd sits on the PIIX IDE, which the
# cloud kernel drives; it has no AHCI) and an /init that runs what is
# typed on the console (tmux send-keys into the VM's pane).  The media:
# a cloud-init seed ISO vmctl made (volume id CIDATA) and a plain file
# with another volume id (OTHERD).  Checked:
#   - cdrom: empty starts with a drive and no medium; insert on the
#     running VM: the guest reads the ISO's volume id and size from
#     /dev/sr0, QMP query-block shows it read-only; a second insert
#     replaces it; eject empties the drive (guest and QMP);
#   - status (text and --json) shows the medium; it stays in across
#     stop/start (a fresh boot reads it); eject while stopped takes it out
#     at the next start;
#   - boot: cdrom-once: the firmware (SeaBIOS, its debug port in a file)
#     boots the CD-ROM first at the first start, the disk first after a
#     reset of that same QEMU (system_reset) and after stop/start;
#   - refusals (exit status, one line, nothing changed): a running VM
#     without a drive, a missing ISO, a directory, --connect (a libvirt
#     host, where this VM is not); a stopped
#     VM without a drive gets one.
TEST_NAME=lifecycle-cdrom
. "$(dirname "$0")/lib.sh"
need cpio
lc_setup cdrom

CLOUD_INITRD=${VMCTL_TEST_CACHE:-/var/cache/vmctl-test}/cloud/initrd.img
[ -s "$CLOUD_INITRD" ] || skip "no cloud image initramfs for the CD-ROM drivers"

# ---- the guest ----------------------------------------------------------
MODS="scsi_common scsi_mod libata ata_piix cdrom sr_mod"
mkdir -p "$LC_TMP/extra/cdtest"
pats=()
for m in $MODS; do pats+=("usr/lib/modules/*/$m.ko"); done
zcat "$CLOUD_INITRD" | (cd "$LC_TMP/extra/cdtest" &&
	cpio -i --quiet --no-absolute-filenames -d "${pats[@]}") ||
	skip "cannot read the cloud initramfs"
for m in $MODS; do
	ko=$(find "$LC_TMP/extra/cdtest" -name "$m.ko" | sed -n 1p)
	[ -n "$ko" ] || skip "no $m.ko in $CLOUD_INITRD"
	mv "$ko" "$LC_TMP/extra/cdtest/$m.ko"
done
cat > "$LC_TMP/extra/init" <<INIT
#!/bin/sh
export PATH=/bin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
# the kernel's console messages off: they would split the lines below
echo 1 > /proc/sys/kernel/printk
mount -t sysfs sysfs /sys
for m in $MODS; do insmod /cdtest/\$m.ko; done
stty -echo
i=0; while [ ! -e /dev/sr0 ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
echo "cdtest: booted"
while read -r line; do eval "\$line"; done
INIT
chmod 0755 "$LC_TMP/extra/init"
(cd "$LC_TMP/extra" && find . -mindepth 1 | cpio -o -H newc --quiet) |
	gzip > "$LC_TMP/extra.cpio.gz"
cat "$LC_GUEST/initrd.img" "$LC_TMP/extra.cpio.gz" > "$LC_TMP/initrd.img"

# ---- the media -------------------------------------------------------------
qemu-img create -q -f raw "$LC_TMP/base.raw" 1M
ISOVM=iso$$
cat > "$LC_TMP/$ISOVM.yaml" <<YAML
name: $ISOVM
memory: 128M
accel: tcg
disk: {image: $LC_TMP/base.raw}
cloud_init: {user: cdtest}
vnc: false
YAML
vmc create "$LC_TMP/$ISOVM.yaml" --no-start >/dev/null 2>&1 || fail "create $ISOVM failed"
ISO_A=$LC_TMP/media/a.iso
ISO_B=$LC_TMP/media/b.img
mkdir -p "$LC_TMP/media"
cp "$(lc_vmdir "$ISOVM")/seed.iso" "$ISO_A"
vmc destroy "$ISOVM" >/dev/null 2>&1 || fail "destroy $ISOVM failed"
[ "$(dd if="$ISO_A" bs=1 skip=32808 count=6 2>/dev/null)" = CIDATA ] ||
	fail "the seed ISO has no volume id CIDATA"
head -c $((2 << 20)) /dev/zero > "$ISO_B"
printf OTHERD | dd of="$ISO_B" bs=1 seek=32808 conv=notrunc 2>/dev/null
# Root's alone: QEMU (no longer root once it runs) could not open them.
chmod 0600 "$ISO_A" "$ISO_B"
A_SECTORS=$(( $(stat -c %s "$ISO_A") / 512 ))
B_SECTORS=$(( $(stat -c %s "$ISO_B") / 512 ))

VM=cd$$
cat > "$LC_TMP/$VM.yaml" <<YAML
name: $VM
cpus: 1
memory: 128M
accel: tcg
machine: pc
kernel:
  image: $LC_GUEST/vmlinuz
  initrd: $LC_TMP/initrd.img
  cmdline: console=ttyS0 panic=-1 no_timer_check
cdrom: empty
network: {ssh_port: auto, ssh_listen: 127.0.0.1}
vnc: false
YAML
LOG=$(lc_vmdir "$VM")/serial.log
SOCK=$(lc_vmdir "$VM")/qmp.sock

# ---- helpers -------------------------------------------------------------
log() { tr -d '\r' < "$LOG" 2>/dev/null; }
log_has() { log | grep -c -- "$1" >/dev/null; }
boots() { log | grep -c '^cdtest: booted$' || true; }
type_in() { tmux -L "$VMCTL_TMUX_SOCKET" send-keys -t "=vmctl-$VM:" "$1" Enter; }
Q=0
# guest_cd: CD, what the guest reads from /dev/sr0: "LABEL SECTORS" (the
# volume id at 0x8028, then the size the kernel gives the disc; "none"
# and a made-up size without one).  Not in a $(...): Q must count on.
guest_cd() {
	Q=$((Q + 1))
	# (the first read after a change meets the drive's unit attention)
	type_in "dd if=/dev/sr0 of=/dev/null bs=2048 count=1 2>/dev/null; l=\$(dd if=/dev/sr0 bs=1 skip=32808 count=6 2>/dev/null); echo \"cdtest: q$Q cd=\${l:-none} \$(cat /sys/block/sr0/size)\""
	wait_for 60 log_has "^cdtest: q$Q cd=" || fail "guest did not answer q$Q: $(log | tail -n 5)"
	CD=$(log | sed -n "s/^cdtest: q$Q cd=//p" | sed -n 1p)
}
# qmp_cd: the CD-ROM drive in query-block: "NODE RO" or "empty".
qmp_cd() {
	qmp "$SOCK" query-block | jq -r '.return[] | select(.qdev == "cdrom0" or .qdev == "/machine/peripheral/cdrom0")
		| if .inserted then "\(.inserted["node-name"]) \(.inserted.ro)" else "empty" end'
}
spec_cdrom() { jq -r '.cdrom // "none"' "$(lc_vmdir "$1")/spec.json"; }
expect_refused() {
	local want=$1 pattern=$2 out rc
	shift 2
	set +e
	out=$("$@" 2>&1)
	rc=$?
	set -e
	[ "$rc" = "$want" ] || fail "$*: exit $rc, not $want: $out"
	grep -q -- "$pattern" <<<"$out" || fail "$*: no \"$pattern\" in: $out"
	[ "$(wc -l <<<"$out")" = 1 ] || fail "$*: more than one line: $out"
	say "refused ($rc): $out"
}
wait_boot() {
	wait_for 240 lc_ready_boots "$1" || fail "guest did not boot ($1): $(log | tail -n 20)"
}
lc_ready_boots() { [ "$(boots)" -ge "$1" ]; }

# ---- 1. an empty drive; insert, replace, eject while running -------------
vmc create "$LC_TMP/$VM.yaml" >/dev/null 2>&1 || fail "create failed"
wait_boot 1
guest_cd; got=$CD
[ "${got%% *}" = none ] || fail "cdrom: empty: the guest reads $got"
[ "$(qmp_cd)" = empty ] || fail "cdrom: empty: QMP has a medium: $(qmp_cd)"
[ "$(lc_status "$VM" | jq -c .cdrom)" = '{"medium":null}' ] ||
	fail "status --json: $(lc_status "$VM" | jq -c .cdrom)"

t0=$(lc_ms)
out=$(vmc cdrom "$VM" insert "$ISO_A") || fail "insert: $out"
say "insert into the running VM: $(($(lc_ms) - t0)) ms: $out"
[ "$(qmp_cd)" = "cdrom0 true" ] || fail "QMP after insert: $(qmp_cd)"
guest_cd; got=$CD
[ "$got" = "CIDATA $A_SECTORS" ] || fail "the guest reads '$got' after insert, not 'CIDATA $A_SECTORS'"
[ "$(spec_cdrom "$VM")" = "$ISO_A" ] || fail "spec.json cdrom: $(spec_cdrom "$VM")"

out=$(vmc cdrom "$VM" insert "$ISO_B" --json) || fail "second insert: $out"
[ "$(jq -c '[.action, .medium, .running]' <<<"$out")" = "[\"insert\",\"$ISO_B\",true]" ] ||
	fail "insert --json: $out"
[ "$(qmp_cd)" = "cdrom1 true" ] || fail "QMP after the second insert: $(qmp_cd)"
guest_cd; got=$CD
[ "$got" = "OTHERD $B_SECTORS" ] || fail "the guest reads '$got' after the second insert"

out=$(vmc cdrom "$VM" eject) || fail "eject: $out"
say "$out"
[ "$(qmp_cd)" = empty ] || fail "QMP after eject: $(qmp_cd)"
[ "$(qmp "$SOCK" query-named-block-nodes | jq -r '[.return[]["node-name"]] | map(select(startswith("cdrom"))) | length')" = 0 ] ||
	fail "eject left block nodes: $(qmp "$SOCK" query-named-block-nodes | jq -c '[.return[]["node-name"]]')"
guest_cd; got=$CD
[ "${got%% *}" = none ] || fail "the guest reads '$got' after eject"
[ "$(spec_cdrom "$VM")" = empty ] || fail "spec.json cdrom after eject: $(spec_cdrom "$VM")"
out=$(vmc cdrom "$VM" eject) || fail "second eject: $out"
grep -q 'empty already' <<<"$out" || fail "second eject said: $out"

# ---- 2. the medium stays in across stop/start; eject while stopped ------
vmc cdrom "$VM" insert "$ISO_A" >/dev/null || fail "third insert failed"
vmc stop "$VM" --timeout 0 >/dev/null || fail "stop failed"
[ "$(lc_status "$VM" | jq -r .cdrom.medium)" = "$ISO_A" ] || fail "status --json of the stopped VM: $(lc_status "$VM" | jq -c .cdrom)"
vmc status "$VM" | grep -c "^cdrom: *$ISO_A\$" >/dev/null || fail "status: $(vmc status "$VM")"
nb=$(boots)
vmc start "$VM" >/dev/null || fail "start failed"
wait_boot $((nb + 1))
guest_cd; got=$CD
[ "$got" = "CIDATA $A_SECTORS" ] || fail "after stop/start the guest reads '$got'"
[ "$(qmp_cd)" = "cdrom0 true" ] || fail "QMP after stop/start: $(qmp_cd)"
vmc stop "$VM" --timeout 0 >/dev/null || fail "stop failed"
out=$(vmc cdrom "$VM" eject) || fail "eject of the stopped VM: $out"
say "$out"
nb=$(boots)
vmc start "$VM" >/dev/null || fail "start failed"
wait_boot $((nb + 1))
guest_cd; got=$CD
[ "${got%% *}" = none ] || fail "eject while stopped: the next start reads $got"
say "insert/eject: the guest saw CIDATA, OTHERD, nothing; stop/start kept the medium"

# ---- 3. refusals; a stopped VM without a drive gets one -------------------
N=nd$$
sed -e "s/^name: $VM/name: $N/" -e '/^cdrom:/d' "$LC_TMP/$VM.yaml" > "$LC_TMP/$N.yaml"
vmc create "$LC_TMP/$N.yaml" >/dev/null 2>&1 || fail "create $N failed"
expect_refused 1 "VM $N has no CD-ROM drive (a running VM gets none): stop it" \
	vmc cdrom "$N" insert "$ISO_A"
[ "$(spec_cdrom "$N")" = none ] || fail "a refused insert changed $N's spec"
vmc stop "$N" --timeout 0 >/dev/null || fail "stop $N failed"
out=$(vmc cdrom "$N" insert "$ISO_A") || fail "insert into stopped $N: $out"
grep -q 'the drive is new' <<<"$out" || fail "insert into $N said: $out"
[ "$(spec_cdrom "$N")" = "$ISO_A" ] || fail "$N's spec.json cdrom: $(spec_cdrom "$N")"
vmc cmdline "$(lc_vmdir "$N")/spec.json" | grep -c 'ide-cd,drive=cdrom0,id=cdrom0,bootindex=2' >/dev/null ||
	fail "$N's next start has no CD-ROM: $(vmc cmdline "$(lc_vmdir "$N")/spec.json")"
vmc destroy "$N" >/dev/null 2>&1 || fail "destroy $N failed"
expect_refused 66 "ISO $LC_TMP/media/nope.iso: No such file" vmc cdrom "$VM" insert "$LC_TMP/media/nope.iso"
expect_refused 66 "is not a regular file" vmc cdrom "$VM" insert "$LC_TMP/media"
# (--connect is the libvirt host's, where this VM is not)
expect_refused 1 "no VM named \"$VM\"" vmc cdrom "$VM" insert "$ISO_A" --connect test:///default
[ "$(qmp_cd)" = empty ] && [ "$(spec_cdrom "$VM")" = empty ] || fail "a refusal changed the drive"
vmc destroy "$VM" >/dev/null 2>&1 || fail "destroy $VM failed"

# ---- 4. boot: cdrom-once ----------------------------------------------------
C=once$$
DBG=$LC_TMP/seabios.log
cat > "$LC_TMP/$C.yaml" <<YAML
name: $C
cpus: 1
memory: 128M
accel: tcg
disk: {image: $LC_TMP/base.raw}
cloud_init: false
cdrom: $ISO_A
boot: cdrom-once
network: {ssh_port: auto, ssh_listen: 127.0.0.1}
vnc: false
qemu:
  extra_args: [-chardev, "file,id=seabios,path=$DBG", -device, "isa-debugcon,iobase=0x402,chardev=seabios"]
YAML
vmc cmdline "$LC_TMP/$C.yaml" | grep -c 'bootindex=2.*ide-cd,drive=cdrom0,id=cdrom0,bootindex=1' >/dev/null ||
	fail "cdrom-once: the first start's argv: $(vmc cmdline "$LC_TMP/$C.yaml")"
# firmware's boot attempts after line $1 of its debug log
attempts() { tail -n +"$(($1 + 1))" "$DBG" 2>/dev/null | tr -d '\r' | sed -n 's/^Booting from \(.*\)\.\.\.$/\1/p'; }
first_attempt() { attempts "$1" | sed -n 1p; }
has_attempt() { [ -n "$(first_attempt "$1")" ]; }
dbg_lines() { wc -l < "$DBG" 2>/dev/null || echo 0; }

vmc create "$LC_TMP/$C.yaml" >/dev/null 2>&1 || fail "create $C failed"
wait_for 120 has_attempt 0 || fail "SeaBIOS tried nothing: $(tail -n 5 "$DBG")"
[ "$(first_attempt 0)" = DVD/CD ] || fail "first start booted '$(first_attempt 0)' first, not the CD-ROM"
[ "$(lc_status "$C" | jq -c .boot)" = '{"order":"cdrom-once","cdrom_booted":true}' ] ||
	fail "status --json boot: $(lc_status "$C" | jq -c .boot)"
# the guest's own reboot: a reset of the same QEMU, once the first boot
# has tried everything
wait_for 120 grep -q "No bootable device" "$DBG" ||
	fail "the first boot did not end: $(tail -n 5 "$DBG")"
mark=$(dbg_lines)
lc_qmp_send "$(lc_vmdir "$C")/qmp.sock" system_reset || fail "system_reset failed"
wait_for 120 has_attempt "$mark" || fail "no boot after system_reset: $(tail -n 5 "$DBG")"
[ "$(first_attempt "$mark")" = "Hard Disk" ] ||
	fail "after a reset the firmware booted '$(first_attempt "$mark")' first, not the disk"
vmc stop "$C" --timeout 0 >/dev/null || fail "stop $C failed"
vmc start "$C" >/dev/null || fail "start $C failed"
wait_for 120 has_attempt 0 || fail "SeaBIOS tried nothing after start: $(tail -n 5 "$DBG")"
[ "$(first_attempt 0)" = "Hard Disk" ] ||
	fail "after stop/start the firmware booted '$(first_attempt 0)' first, not the disk"
vmc status "$C" | grep -c '^boot: *cdrom-once (done' >/dev/null || fail "status: $(vmc status "$C")"
say "cdrom-once: CD-ROM first at the first boot, the disk after a reset and after stop/start"
vmc destroy "$C" --force >/dev/null 2>&1 || fail "destroy $C failed"
lc_assert_no_qemu "destroy"
say "PASS"
