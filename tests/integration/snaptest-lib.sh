# SPDX-License-Identifier: GPL-2.0-or-later
# The snapshot tests' guest and helpers (sourced after lib.sh by
# lifecycle-snapshot.sh and libvirt-snapshot.sh).  The guest is the busybox
# test guest given virtio_blk.ko (taken from the cloud image's initramfs,
# the same kernel) and an /init that prints "snaptest: tick N" every second
# and runs what is typed on its console.  The test defines:
#   log        prints the guest's serial log (CR removed)
#   type_in S  types the line S on the guest's console
# and sets SNAPTEST_DIR, a directory of its own.

# snaptest_initrd GUEST_DIR: $SNAPTEST_DIR/initrd.img, or skip.
snaptest_initrd() {
	local cloud=${VMCTL_TEST_CACHE:-/var/cache/vmctl-test}/cloud/initrd.img
	local extra=$SNAPTEST_DIR/extra ko
	[ -s "$cloud" ] || skip "no cloud image initramfs for virtio_blk.ko"
	mkdir -p "$extra/snaptest"
	zcat "$cloud" | (cd "$extra/snaptest" &&
		cpio -i --quiet --no-absolute-filenames -d \
			'usr/lib/modules/*/kernel/drivers/block/virtio_blk.ko') ||
		skip "cannot read the cloud initramfs"
	ko=$(find "$extra/snaptest" -name virtio_blk.ko | sed -n 1p)
	[ -n "$ko" ] || skip "no virtio_blk.ko in $cloud"
	mv "$ko" "$extra/snaptest/virtio_blk.ko"
	rm -rf "$extra/snaptest/usr"
	cat > "$extra/init" <<'INIT'
#!/bin/sh
export PATH=/bin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
# the kernel's console messages off: they would split the lines below
echo 1 > /proc/sys/kernel/printk
mount -t sysfs sysfs /sys
modprobe virtio_pci
insmod /snaptest/virtio_blk.ko
stty -echo
echo "snaptest: booted"
( i=0; while :; do i=$((i + 1)); echo "snaptest: tick $i"; sleep 1; done ) &
while read -r line; do eval "$line"; done
INIT
	chmod 0755 "$extra/init"
	(cd "$extra" && find . -mindepth 1 | cpio -o -H newc --quiet) |
		gzip > "$SNAPTEST_DIR/extra.cpio.gz"
	cat "$1/initrd.img" "$SNAPTEST_DIR/extra.cpio.gz" > "$SNAPTEST_DIR/initrd.img"
}

# log_has PATTERN: a line of the log matches (grep -c reads it all: no
# SIGPIPE for pipefail).
log_has() { log | grep -c -- "$1" >/dev/null; }
boots() { log | grep -c '^snaptest: booted$' || true; }
lines() { log | wc -l; }
# ticks_after LINE: the tick numbers printed after line LINE of the log.
ticks_after() { log | tail -n +"$(($1 + 1))" | sed -n 's/^snaptest: tick \([0-9]*\)$/\1/p'; }
last_tick() { ticks_after 0 | tail -n1; }
# resumed_at LINE: the first tick after line LINE that does not follow on
# from the one before it (where the counter jumped), or nothing.
resumed_at() {
	local prev
	prev=$(log | sed -n "1,${1}p" | sed -n 's/^snaptest: tick \([0-9]*\)$/\1/p' | tail -n1)
	ticks_after "$1" | awk -v p="$prev" '$1 != p + 1 { print; exit } { p = $1 }'
}
has_ticks_after() { [ "$(ticks_after "$1" | wc -l)" -ge "${2:-1}" ]; }
wait_ticks() { wait_for 120 has_ticks_after "$1" "$2" || fail "no ticks: $(log | tail -n 5)"; }

# snaptest_revert_running BEFORE AFTER COMMAND...: once the counter has
# moved on from AFTER, COMMAND reverts the running guest to a snapshot taken
# between ticks BEFORE and AFTER: the counter resumes there, with no new
# boot.  Sets FIRST, the tick it resumed at.
snaptest_revert_running() {
	local before=$1 after=$2 mark latest nb t0 out
	shift 2
	mark=$(lines)
	wait_ticks "$mark" 4
	latest=$(last_tick)
	[ "$latest" -gt $((after + 3)) ] || fail "counter did not move on: $after -> $latest"
	mark=$(lines)
	nb=$(boots)
	t0=$(date +%s%3N)
	out=$("$@") || fail "$*: $out"
	say "$* (running): $(($(date +%s%3N) - t0)) ms: $out"
	wait_ticks "$mark" 3
	FIRST=$(resumed_at "$mark")
	say "taken between ticks $before and $after; latest $latest; after revert: $FIRST"
	[ -n "$FIRST" ] && [ "$FIRST" -gt "$before" ] && [ "$FIRST" -le $((after + 1)) ] ||
		fail "after revert the counter printed '$FIRST', not the snapshot's ($before..$after)"
	[ "$(boots)" = "$nb" ] || fail "revert --memory rebooted the guest"
}

# snaptest_start_resumes LOW HIGH COMMAND...: COMMAND starts the stopped
# guest, which resumes its counter (the first tick in LOW..HIGH), with no
# new boot.  Sets FIRST, the tick it resumed at, and SAID, what COMMAND
# printed.
snaptest_start_resumes() {
	local low=$1 high=$2 mark nb t0 out
	shift 2
	mark=$(lines)
	nb=$(boots)
	t0=$(date +%s%3N)
	out=$("$@" 2>&1) || fail "$*: $out"
	SAID=$out
	say "$*: $(($(date +%s%3N) - t0)) ms"
	wait_ticks "$mark" 2
	FIRST=$(ticks_after "$mark" | sed -n 1p)
	[ "$(boots)" = "$nb" ] || fail "$*: the guest booted afresh"
	[ "$FIRST" -ge "$low" ] && [ "$FIRST" -le "$high" ] ||
		fail "$*: the counter printed $FIRST, not $low..$high"
}

# A new question number in Q, kept in a file: disk_read runs in $(...),
# and an answer to an old question must never pass for a new one's.
next_q() {
	Q=$(( $(cat "$SNAPTEST_DIR/q" 2>/dev/null || echo 0) + 1 ))
	echo "$Q" > "$SNAPTEST_DIR/q"
}
# disk_read: what the guest reads at the start of /dev/vda (8 bytes).
disk_read() {
	next_q
	type_in "echo 3 > /proc/sys/vm/drop_caches; echo \"snaptest: q$Q disk=\$(dd if=/dev/vda bs=8 count=1 2>/dev/null)\""
	wait_for 60 log_has "^snaptest: q$Q disk=" || fail "guest did not answer q$Q"
	log | sed -n "s/^snaptest: q$Q disk=//p" | sed -n 1p
}
disk_write() {
	next_q
	type_in "echo $1 | dd of=/dev/vda bs=512 count=1 conv=sync 2>/dev/null; sync; echo snaptest: q$Q written"
	wait_for 60 log_has "^snaptest: q$Q written" || fail "guest did not write $1"
}

# expect_refused STATUS PATTERN COMMAND...: it fails with STATUS and one
# line holding PATTERN.
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
