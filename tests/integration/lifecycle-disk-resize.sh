#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# vmctl disk resize on the direct backend, under TCG, with the busybox
# test guest given virtio_blk (from the cloud image's initramfs, the same
# kernel) and an /init that runs what is typed on the console.  Checked:
#   - a running VM's disk grows at once (QMP block_resize): the guest's
#     /sys/block/vda/size follows, qemu-img info and spec.json say so;
#     +SIZE grows by SIZE;
#   - a stopped VM's overlay grows (qemu-img resize): qemu-img info, and
#     the guest of the next start, see the new size;
#   - refusals (exit status, one line, nothing changed): smaller, equal,
#     a SIZE that does not parse, a VM without a disk, --connect.
TEST_NAME=lifecycle-disk-resize
. "$(dirname "$0")/lib.sh"
need qemu-img cpio
lc_setup disk

CLOUD_INITRD=${VMCTL_TEST_CACHE:-/var/cache/vmctl-test}/cloud/initrd.img
[ -s "$CLOUD_INITRD" ] || skip "no cloud image initramfs for virtio_blk.ko"

# ---- the guest ----------------------------------------------------------
mkdir -p "$LC_TMP/extra/dtest"
zcat "$CLOUD_INITRD" | (cd "$LC_TMP/extra/dtest" &&
	cpio -i --quiet --no-absolute-filenames -d \
		'usr/lib/modules/*/kernel/drivers/block/virtio_blk.ko') ||
	skip "cannot read the cloud initramfs"
ko=$(find "$LC_TMP/extra/dtest" -name virtio_blk.ko | sed -n 1p)
[ -n "$ko" ] || skip "no virtio_blk.ko in $CLOUD_INITRD"
mv "$ko" "$LC_TMP/extra/dtest/virtio_blk.ko"
cat > "$LC_TMP/extra/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
# the kernel's console messages off: they would split the lines below
echo 1 > /proc/sys/kernel/printk
mount -t sysfs sysfs /sys
modprobe virtio_pci
insmod /dtest/virtio_blk.ko
stty -echo
i=0; while [ ! -e /sys/block/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
echo "dtest: booted"
while read -r line; do eval "$line"; done
INIT
chmod 0755 "$LC_TMP/extra/init"
(cd "$LC_TMP/extra" && find . -mindepth 1 | cpio -o -H newc --quiet) |
	gzip > "$LC_TMP/extra.cpio.gz"
cat "$LC_GUEST/initrd.img" "$LC_TMP/extra.cpio.gz" > "$LC_TMP/initrd.img"
qemu-img create -q -f raw "$LC_TMP/base.raw" 64M

VM=dr$$
cat > "$LC_TMP/$VM.yaml" <<YAML
name: $VM
cpus: 1
memory: 128M
accel: tcg
kernel:
  image: $LC_GUEST/vmlinuz
  initrd: $LC_TMP/initrd.img
  cmdline: console=ttyS0 panic=-1 no_timer_check
disk: {image: $LC_TMP/base.raw}
network: {ssh_port: auto, ssh_listen: 127.0.0.1}
vnc: false
YAML
LOG=$(lc_vmdir "$VM")/serial.log
DISK=$(lc_vmdir "$VM")/disk.qcow2
M=$((1 << 20))

# ---- helpers -------------------------------------------------------------
log() { tr -d '\r' < "$LOG" 2>/dev/null; }
log_has() { log | grep -c -- "$1" >/dev/null; }
boots() { log | grep -c '^dtest: booted$' || true; }
booted() { [ "$(boots)" -ge "$1" ]; }
type_in() { tmux -L "$VMCTL_TMUX_SOCKET" send-keys -t "=vmctl-$VM:" "$1" Enter; }
Q=0
# guest_bytes: SIZE, the size of /dev/vda the guest's kernel has, in
# bytes (not in a $(...): Q must count on).
guest_bytes() {
	Q=$((Q + 1))
	type_in "echo \"dtest: q$Q size=\$(cat /sys/block/vda/size)\""
	wait_for 60 log_has "^dtest: q$Q size=" || fail "guest did not answer q$Q"
	SIZE=$(( $(log | sed -n "s/^dtest: q$Q size=//p" | sed -n 1p) * 512 ))
}
img_size() { qemu-img info -U --output=json "$DISK" | jq -r '."virtual-size"'; }
spec_size() { jq -r '.disk.size // "none"' "$(lc_vmdir "$VM")/spec.json"; }
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

# ---- 1. grow the running VM's disk ----------------------------------------
vmc create "$LC_TMP/$VM.yaml" >/dev/null 2>&1 || fail "create failed"
wait_for 240 booted 1 || fail "guest did not boot: $(log | tail -n 20)"
guest_bytes
[ "$SIZE" = $((64 * M)) ] || fail "the guest sees $SIZE bytes, not 64M"
t0=$(lc_ms)
out=$(vmc disk resize "$VM" 96M) || fail "resize of the running VM: $out"
say "resize of the running VM: $(($(lc_ms) - t0)) ms: $out"
[ "$(img_size)" = $((96 * M)) ] || fail "qemu-img info: $(img_size)"
guest_bytes
[ "$SIZE" = $((96 * M)) ] || { sleep 2; guest_bytes; }
[ "$SIZE" = $((96 * M)) ] || fail "after the resize the guest sees $SIZE bytes, not 96M"
[ "$(spec_size)" = 96M ] || [ "$(spec_size)" = $((96 * M)) ] || fail "spec.json disk.size: $(spec_size)"
out=$(vmc disk resize "$VM" +32M --json) || fail "resize +32M: $out"
[ "$(jq -c '[.before, .size, .online]' <<<"$out")" = "[$((96 * M)),$((128 * M)),true]" ] ||
	fail "resize --json: $out"
guest_bytes
[ "$SIZE" = $((128 * M)) ] || { sleep 2; guest_bytes; }
[ "$SIZE" = $((128 * M)) ] || fail "after +32M the guest sees $SIZE bytes, not 128M"
say "running: the guest saw 64M, 96M, 128M"

# ---- 2. refusals: nothing changes -------------------------------------------
expect_refused 65 "only grows it, and 64M is not larger" vmc disk resize "$VM" 64M
expect_refused 65 "only grows it, and 128M is not larger" vmc disk resize "$VM" 128M
expect_refused 65 "is not larger" vmc disk resize "$VM" +0M
expect_refused 64 'SIZE is a size such as 40G' vmc disk resize "$VM" big
expect_refused 1 "no VM named \"$VM\"" vmc disk resize "$VM" 1G --connect test:///default
expect_refused 1 'no VM named "nope' vmc disk resize nope 1G
[ "$(img_size)" = $((128 * M)) ] || fail "a refusal changed the disk: $(img_size)"
guest_bytes
[ "$SIZE" = $((128 * M)) ] || fail "a refusal changed the guest's disk: $SIZE"

# ---- 3. grow the stopped VM's overlay ----------------------------------------
vmc stop "$VM" --timeout 0 >/dev/null || fail "stop failed"
out=$(vmc disk resize "$VM" 256M) || fail "resize of the stopped VM: $out"
say "$out"
[ "$(img_size)" = $((256 * M)) ] || fail "qemu-img info after the stopped resize: $(img_size)"
[ "$(qemu-img info -U --output=json "$DISK" | jq -r '."backing-filename"')" = "$LC_TMP/base.raw" ] ||
	fail "the overlay lost its base"
expect_refused 65 "is not larger" vmc disk resize "$VM" 200M
[ "$(img_size)" = $((256 * M)) ] || fail "a refusal changed the stopped disk: $(img_size)"
nb=$(boots)
vmc start "$VM" >/dev/null || fail "start failed"
wait_for 240 booted $((nb + 1)) || fail "guest did not boot again"
guest_bytes
[ "$SIZE" = $((256 * M)) ] || fail "after the stopped resize the guest sees $SIZE bytes"
say "stopped: qemu-img and the next boot see 256M"

# ---- 4. a VM without a disk -------------------------------------------------
N=nd$$
sed -e "s/^name: $VM/name: $N/" -e '/^disk:/d' "$LC_TMP/$VM.yaml" > "$LC_TMP/$N.yaml"
vmc create "$LC_TMP/$N.yaml" --no-start >/dev/null 2>&1 || fail "create $N failed"
expect_refused 1 "VM $N has no disk" vmc disk resize "$N" 1G
vmc destroy "$N" >/dev/null 2>&1 || fail "destroy $N failed"
vmc destroy "$VM" --force >/dev/null 2>&1 || fail "destroy failed"
lc_assert_no_qemu "destroy"
say "PASS"
