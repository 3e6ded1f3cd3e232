# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced (after lib.sh) by the libvirt tests that boot the busybox guest
# through vmctl --connect qemu:///system: the checks that skip a test
# this machine cannot run, and the cleanup of the domains and volumes it
# made.  The caller sets URI and TMP.

vsh() { virsh -q -c "$URI" "$@"; }
lv() { "$VMCTL" --connect "$URI" "$@"; }

# lvt_remove_domains NAME...: each domain gone (with its NVRAM, managed
# save and snapshot metadata) and its volumes.
lvt_remove_domains() {
	local d v
	for d in "$@"; do
		[ -n "$d" ] || continue
		vsh destroy "$d" >/dev/null 2>&1
		vsh undefine --nvram --managed-save --snapshots-metadata "$d" \
			>/dev/null 2>&1 || vsh undefine "$d" >/dev/null 2>&1
		for v in "$d.qcow2" "$d-seed.iso" "$d-serial.log" \
			"$d-serial.log.1"; do
			vsh vol-delete --pool vmctl "$v" >/dev/null 2>&1
		done
	done
	return 0
}

# lvt_remove_digests DIGEST...: the pool's volumes named by these digests
# (bases, initrds, media the test made: digests no other run has).
lvt_remove_digests() {
	local dg v
	for dg in "$@"; do
		for v in $(vsh vol-list vmctl | awk '{ print $1 }' | grep -F -- "$dg"); do
			vsh vol-delete --pool vmctl "$v" >/dev/null 2>&1
		done
	done
	return 0
}

# lvt_cleanup_on_exit DOMAIN...: at exit, those domains and their volumes
# gone, the pool's volumes of the digests in $digests (this test's own
# bases and media), and $TMP; an exit status other than 0, 1 (fail) or 77
# (skip) said as a failure (set -e or pipefail ended the test).
lvt_cleanup_on_exit() {
	LVT_DOMAINS=("$@")
	trap lvt_cleanup EXIT
}

lvt_cleanup() {
	local rc=$?
	set +e
	case $rc in 0|1|77) ;; *) say "FAIL: exited with status $rc" ;; esac
	lvt_remove_domains "${LVT_DOMAINS[@]}"
	# shellcheck disable=SC2086 # digests: a list
	lvt_remove_digests ${digests:-}
	rm -rf "$TMP"
}

# lvt_require: root, a libvirtd answering on $URI with the vmctl network,
# and the test guest (GUEST), or skip.
lvt_require() {
	[ "$(id -u)" -eq 0 ] || skip "qemu:///system needs root here"
	if ! command -v virsh >/dev/null 2>&1 || ! vsh version >/dev/null 2>&1; then
		skip "libvirtd is not running (as root: scripts/libvirtd.sh start)"
	fi
	vsh net-info vmctl >/dev/null 2>&1 ||
		skip "no libvirt network vmctl (scripts/libvirtd.sh start)"
	GUEST=$(guest_dir) || skip "cannot build the test guest"
}

# lvt_base: $TMP/base.qcow2, 1M of random bytes (a digest of its own).
lvt_base() {
	head -c 1M /dev/urandom > "$TMP/base.raw"
	qemu-img convert -f raw -O qcow2 "$TMP/base.raw" "$TMP/base.qcow2"
	rm -f "$TMP/base.raw"
}

# lvt_snaptest_vm NAME: snaptest-lib.sh's guest (sourced, on $TMP) as the
# spec $TMP/NAME.yaml: 1 CPU, 128M, TCG, over a base of its own
# (lvt_base); $digests: its base's and initrd's, for lvt_remove_digests.
# Then its helpers on the VM $CUR (boot NAME and halt NAME set it):
# log, type_in, boot, halt; and the pool's volpath VOL and backing VOL
# (the file the volume's header names, as libvirt reads it).
lvt_snaptest_vm() {
	SNAPTEST_DIR=$TMP
	. "$(dirname "${BASH_SOURCE[0]}")/snaptest-lib.sh"
	snaptest_initrd "$GUEST"
	lvt_base
	digests="$(sha256sum "$TMP/base.qcow2" "$TMP/initrd.img" | cut -d' ' -f1 | tr '\n' ' ')"
	cat > "$TMP/$1.yaml" <<YAML
name: $1
cpus: 1
memory: 128M
accel: tcg
disk:
  image: $TMP/base.qcow2
kernel:
  image: $GUEST/vmlinuz
  initrd: $TMP/initrd.img
  cmdline: console=ttyS0 panic=-1 no_timer_check
vnc: false
YAML
	log() { lv logs "$CUR" 2>/dev/null; }
	type_in() { { sleep 0.5; printf '%s\n' "$1"; sleep 1; } | lv -q console "$CUR" >/dev/null 2>&1; }
	boot() { local m; CUR=$1; m=$(lines); lv start "$1" >/dev/null || fail "start $1 failed"; wait_ticks "$m" 2; }
	halt() { lv stop "$1" --timeout 0 >/dev/null || fail "stop $1 failed"; }
	volpath() { vsh vol-path --pool vmctl "$1"; }
	backing() { vsh vol-dumpxml --pool vmctl "$1" | sed -n '/<backingStore>/,/<\/backingStore>/s:.*<path>\(.*\)</path>.*:\1:p'; }
}
