#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# build-test-host-image.sh - a bootable Debian 12 "GPU host" disk image for
# tests/integration/hostsetup-reboot.sh.
#
# Usage: scripts/build-test-host-image.sh [--vmctl PATH] [OUTDIR]
#
# A host as a user has it: Debian 12 on a BIOS machine, booted by GRUB
# (grub-pc) from an MBR disk, initramfs-tools, systemd and udev, Debian's
# generic kernel (linux-image-amd64), plus what vmctl needs at run time to
# start a VM: QEMU (qemu-system-x86, qemu-utils), tmux, and the packages of
# the shared libraries vmctl links (read from `ldd --vmctl PATH`, default
# ./vmctl).  vmctl itself is NOT in the image: the test brings the binary
# under test on a second disk, so a new build of vmctl needs no new image.
#
# OUTDIR (default ${VMCTL_TEST_CACHE:-/var/cache/vmctl-test}/host-image)
# receives:
#   host.qcow2     compressed qcow2 (zstd): MBR, one ext4 partition (label "root",
#                  1 MiB to the end), GRUB's boot.img in the MBR and its
#                  core.img in the gap before the partition
#   packages.txt   every package in the image, "name version"
#   README         what it is and how to boot it
#   .inputs        cache key
#
# How it is built, with no loop device, no mount of the image and no boot
# of it: debootstrap --variant=minbase, apt-get install of the packages
# below in a chroot, a little configuration (serial console, GRUB on the
# serial line with no timeout, MODULES=dep, the test agent), then
#   - core.img from the image's own grub-mkimage (what grub-install would
#     build: biosdisk, part_msdos, ext2, search by filesystem UUID), the
#     GRUB modules copied to /boot/grub/i386-pc as grub-install does,
#     grubenv created, and a first grub.cfg in Debian's shape (update-grub
#     cannot run in a chroot: grub-probe would describe the build host's
#     disk; the first `update-grub` in the booted image replaces it);
#   - mke2fs -d writes the tree into the partition's place in a sparse
#     raw file (-E offset), sfdisk writes the partition table, and dd puts
#     boot.img (440 bytes) in the MBR and core.img from sector 1, which is
#     what grub-bios-setup does (core.img's first sector already lists the
#     rest: grub-mkimage fills in its length);
#   - qemu-img convert -c (zstd) into the qcow2.
# The initramfs built in the chroot (the first boot's) lists the drivers
# of the image's disk (virtio_pci, virtio_blk, ext4): the chroot's own root
# device says nothing about the image's.  The image is configured with
# MODULES=dep, as small and quick to rebuild under TCG as it gets, which
# is what every update-initramfs in the booted image uses.
#
# The test agent: vmctl-test-agent.service (after multi-user.target) waits
# up to 20 s for a filesystem labelled VMCTLTEST, mounts it read-only on
# /run/vmctl-test and runs its `main` (with the disk's directory as
# argument).  No such disk: it does nothing, and the image is a plain
# host whose root logs in on the serial console without a password.
#
# Requires root (debootstrap, chroot), debootstrap, mke2fs (e2fsprogs >=
# 1.43 for -d), sfdisk (fdisk), qemu-img, flock and a Debian mirror (the
# one the host's apt uses; VMCTL_DEBIAN_MIRROR, VMCTL_DEBIAN_SECURITY_MIRROR
# override it, "none" drops the security suite).  Exit status 77 when a
# prerequisite is missing.
#
# Cached: the key is the sha256 of this script and of the helpers it
# sources, the package list (with the library packages of vmctl) and the
# candidate versions of the main packages; a complete build with the same
# key is reused at once.  Builds are assembled next to OUTDIR and renamed
# into place; concurrent runs take turns on OUTDIR.lock.
#
# On success the path of host.qcow2 is printed on stdout; diagnostics go
# to stderr.
#
# Environment:
#   VMCTL_TEST_CACHE         base cache directory (default /var/cache/vmctl-test)
#   VMCTL_HOST_IMAGE_FORCE   set to 1 to rebuild even if the cache looks valid
#   VMCTL_HOST_IMAGE_SIZE    virtual disk size (default 3G)

set -euo pipefail

readonly SUITE=bookworm
readonly IMAGE_NAME=host.qcow2
readonly AGENT_LABEL=VMCTLTEST
# Installed with apt-get --no-install-recommends on top of minbase: what
# a GPU host has (vmctl host-check wants OVMF too), and jq: the test's
# checks read vmctl's and QEMU's JSON.
readonly PACKAGES=(
    systemd-sysv udev kmod initramfs-tools linux-image-amd64 grub-pc
    qemu-system-x86 qemu-utils ovmf tmux jq
)
# Packages whose candidate versions are part of the cache key.
readonly KEY_PACKAGES=(linux-image-amd64 grub-pc systemd initramfs-tools
    qemu-system-x86 tmux)
IMAGE_SIZE=${VMCTL_HOST_IMAGE_SIZE:-3G}
readonly SKIP=77

log() { printf 'build-test-host-image: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
cannot() { log "cannot build here: $*"; exit "$SKIP"; }
usage() { printf 'usage: %s [--vmctl PATH] [OUTDIR]\n' "${0##*/}" >&2; exit 2; }

VMCTL_BIN=
while [[ $# -gt 0 ]]; do
    case $1 in
    -h|--help) usage ;;
    --vmctl) [[ $# -ge 2 ]] || usage; VMCTL_BIN=$2; shift 2 ;;
    --vmctl=*) VMCTL_BIN=${1#--vmctl=}; shift ;;
    -*) usage ;;
    *) break ;;
    esac
done
[[ $# -le 1 ]] || usage
OUTDIR=${1:-${VMCTL_TEST_CACHE:-/var/cache/vmctl-test}/host-image}
OUTDIR=${OUTDIR%/}
[[ -n "$OUTDIR" ]] || die "empty OUTDIR"
[[ "$IMAGE_SIZE" =~ ^[0-9]+[MG]$ ]] || die "bad VMCTL_HOST_IMAGE_SIZE '$IMAGE_SIZE' (NNNM or NNG)"
SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
VMCTL_BIN=${VMCTL_BIN:-$SCRIPT_DIR/../vmctl}
[[ -x "$VMCTL_BIN" ]] || die "$VMCTL_BIN: not an executable (build vmctl first, or --vmctl PATH)"

for tool in apt-get apt-cache dpkg-query sha256sum flock ldd; do
    command -v "$tool" >/dev/null 2>&1 || cannot "'$tool' not found"
done

# shellcheck source=scripts/lib/debcache.sh
. "$SCRIPT_DIR/lib/debcache.sh"
# shellcheck source=scripts/lib/debootstrap.sh
. "$SCRIPT_DIR/lib/debootstrap.sh"
SCRIPT_HASH=$(cat -- "${BASH_SOURCE[0]}" "$SCRIPT_DIR/lib/debcache.sh" \
    "$SCRIPT_DIR/lib/debootstrap.sh" | sha256sum | cut -d' ' -f1)

# The packages of every shared library vmctl loads (as the build host's
# dpkg knows them), so the image runs this vmctl.
lib_packages() {
    local paths=() p
    while read -r p; do
        paths+=("$p")
        # usrmerge: dpkg may know the other spelling
        case $p in
        /usr/lib/*) paths+=("${p#/usr}") ;;
        /lib/*) paths+=("/usr$p") ;;
        esac
    done < <(ldd -- "$VMCTL_BIN" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
    [[ ${#paths[@]} -gt 0 ]] || return 1
    # (fails for the spellings it does not know)
    { dpkg-query -S -- "${paths[@]}" 2>/dev/null || true; } | cut -d: -f1 | sort -u
}
LIB_PACKAGES=$(lib_packages) || LIB_PACKAGES=""
[[ -n "$LIB_PACKAGES" ]] ||
    die "cannot tell the packages of $VMCTL_BIN's libraries (ldd, dpkg -S)"
mapfile -t LIB_PACKAGES <<<"$LIB_PACKAGES"
ALL_PACKAGES=("${PACKAGES[@]}" "${LIB_PACKAGES[@]}")

compute_inputs() {
    local versions
    versions=$(candidate_versions "${KEY_PACKAGES[@]}") || return 1
    printf 'script-sha256=%s\nsize=%s\npackages=%s\n%s\n' "$SCRIPT_HASH" \
        "$IMAGE_SIZE" "${ALL_PACKAGES[*]}" "$versions"
}

build_complete() {
    local f
    for f in "$IMAGE_NAME" packages.txt README .inputs; do
        [[ -s "$1/$f" ]] || return 1
    done
}

cache_open "$OUTDIR"
if cache_current "${VMCTL_HOST_IMAGE_FORCE:-0}"; then
    printf '%s\n' "$OUTDIR/$IMAGE_NAME"
    exit 0
fi

# ------------------------------------------------------------ prerequisites
[[ $EUID -eq 0 ]] || cannot "building needs root (debootstrap, chroot); a cached build is used without"
for tool in debootstrap chroot mke2fs sfdisk qemu-img mount umount dd truncate; do
    command -v "$tool" >/dev/null 2>&1 || cannot "'$tool' not found (scripts/install-deps.sh installs it)"
done

debian_mirrors
log "mirror: $MIRROR${SECURITY_MIRROR:+, security: $SECURITY_MIRROR}"

WORK=$(mktemp -d -- "$PARENT/.host-image-build.XXXXXX")
ROOTFS=$WORK/rootfs
NEW=$WORK/out

# shellcheck disable=SC2317  # invoked via trap
cleanup() {
    local rc=$?
    set +e
    trap - EXIT
    if [[ -d "$WORK" ]]; then
        if unmount_all "$WORK"; then
            rm -rf --one-file-system -- "$WORK"
        else
            log "warning: could not unmount everything below $WORK; left in place"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

t_start=$SECONDS
log "debootstrap --variant=minbase $SUITE"
debootstrap_minbase "$WORK/debootstrap.log"
log "debootstrap done ($((SECONDS - t_start)) s)"

# ------------------------------------------------------------ configuration
# What must be in place before the packages are installed.
ROOT_UUID=$(cat /proc/sys/kernel/random/uuid)
cat >"$ROOTFS/etc/fstab" <<EOF
# <file system>  <mount point>  <type>  <options>  <dump> <pass>
UUID=$ROOT_UUID  /  ext4  errors=remount-ro  0  1
EOF
mkdir -p -- "$ROOTFS/etc/initramfs-tools/conf.d"
printf 'RESUME=none\n' >"$ROOTFS/etc/initramfs-tools/conf.d/resume"
# zstd is not installed: gzip, as the other test images.
printf 'COMPRESS=gzip\n' >"$ROOTFS/etc/initramfs-tools/conf.d/compress"
# The chroot's own root device says nothing about the image's, so the
# initramfs built here (the first boot's) lists its drivers; MODULES=dep
# replaces this at the end, for every initramfs the booted image builds.
printf 'MODULES=list\n' >"$ROOTFS/etc/initramfs-tools/conf.d/modules"
mkdir -p -- "$ROOTFS/usr/share/initramfs-tools/modules.d"
printf '%s\n' virtio_pci virtio_blk ext4 \
    >"$ROOTFS/usr/share/initramfs-tools/modules.d/vmctl-first-boot"
printf 'gpu-host\n' >"$ROOTFS/etc/hostname"
cat >"$ROOTFS/etc/hosts" <<'EOF'
127.0.0.1	localhost
127.0.1.1	gpu-host
::1		localhost ip6-localhost ip6-loopback
EOF
printf 'LANG=C.UTF-8\n' >"$ROOTFS/etc/default/locale"
# dpkg need not fsync every file of a tree that is packed afterwards.
printf 'force-unsafe-io\n' >"$ROOTFS/etc/dpkg/dpkg.cfg.d/zz-vmctl-build"

chroot_mounts

log "installing ${ALL_PACKAGES[*]}"
if ! in_chroot apt-get -q update >"$WORK/apt.log" 2>&1 ||
    ! in_chroot apt-get -q -y --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        install "${ALL_PACKAGES[@]}" >>"$WORK/apt.log" 2>&1; then
    tail -n 40 -- "$WORK/apt.log" >&2
    die "apt-get install in the chroot failed"
fi
log "packages installed ($((SECONDS - t_start)) s)"

shopt -s nullglob
vmlinuz_files=("$ROOTFS"/boot/vmlinuz-*)
shopt -u nullglob
[[ ${#vmlinuz_files[@]} -eq 1 ]] || die "expected exactly one kernel in $ROOTFS/boot"
KVER=${vmlinuz_files[0]##*/vmlinuz-}
[[ -s "$ROOTFS/boot/initrd.img-$KVER" ]] || die "no initrd for $KVER"
grep -qx 'CONFIG_INTEL_IOMMU=y' "$ROOTFS/boot/config-$KVER" ||
    die "kernel $KVER: CONFIG_INTEL_IOMMU is not built in"

mkdir -p -- "$NEW"
# shellcheck disable=SC2016  # dpkg-query's own ${...} syntax
in_chroot dpkg-query -W -f '${Package} ${Version}\n' | LC_ALL=C sort >"$NEW/packages.txt"
pkgver() { awk -v p="$1" '$1 == p { print $2 }' "$NEW/packages.txt"; }
for p in "${ALL_PACKAGES[@]}"; do
    [[ -n "$(pkgver "$p")" ]] || die "package $p is not installed"
done

# --- GRUB: Debian's /etc/default/grub (grub-pc's postinst wrote it), with
# the kernel on the serial console and GRUB itself on the serial line, no
# menu timeout.  Edited in place, as a user would.  mitigations=off: no
# page-table isolation, whose CR3 switch at every system call makes TCG
# flush its TLB; processes start markedly faster, and update-grub and
# update-initramfs are thousands of them.  no_timer_check (as cloud images
# for VMs have it): on a loaded host a TCG vCPU can be too slow for the
# kernel's early check that the timer interrupt arrives, and with
# interrupt remapping on (the boots host-setup configures) it then panics:
# "timer doesn't work through Interrupt-remapped IO-APIC".
GRUB_DEFAULT_FILE=$ROOTFS/etc/default/grub
[[ -s "$GRUB_DEFAULT_FILE" ]] || die "grub-pc did not write /etc/default/grub"
sed -i -e 's/^GRUB_TIMEOUT=.*/GRUB_TIMEOUT=0/' \
    -e 's/^GRUB_CMDLINE_LINUX=.*/GRUB_CMDLINE_LINUX="console=ttyS0,115200 mitigations=off no_timer_check"/' \
    -e 's/^#\{0,1\}GRUB_TERMINAL=.*/GRUB_TERMINAL=serial/' \
    "$GRUB_DEFAULT_FILE"
grep -q '^GRUB_TERMINAL=serial$' "$GRUB_DEFAULT_FILE" ||
    printf 'GRUB_TERMINAL=serial\n' >>"$GRUB_DEFAULT_FILE"
printf 'GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"\n' >>"$GRUB_DEFAULT_FILE"
# The kernel command line update-grub would write from this file.
# shellcheck disable=SC1090
CMDLINE=$(. "$GRUB_DEFAULT_FILE" && printf '%s %s' "$GRUB_CMDLINE_LINUX" "$GRUB_CMDLINE_LINUX_DEFAULT")

GRUBDIR=$ROOTFS/boot/grub
grub_bios_core "$GRUBDIR"
in_chroot grub-editenv /boot/grub/grubenv create || die "grub-editenv failed"
cat >"$GRUBDIR/grub.cfg" <<EOF
# The image's first grub.cfg, written by scripts/build-test-host-image.sh
# in the shape of update-grub's (which cannot run in a build chroot); the
# first update-grub in the booted image replaces it.
set default=0
set timeout=0
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
insmod part_msdos
insmod ext2
search --no-floppy --fs-uuid --set=root $ROOT_UUID
menuentry 'Debian GNU/Linux (first boot)' {
	echo	'Loading Linux $KVER ... (the image builder'"'"'s grub.cfg)'
	linux	/boot/vmlinuz-$KVER root=UUID=$ROOT_UUID ro $CMDLINE
	echo	'Loading initial ramdisk ...'
	initrd	/boot/initrd.img-$KVER
}
EOF

# --- initramfs-tools: from now on, what this host needs (as detected in
# the booted image), gzip -1 (the quickest under TCG; the archive is
# small anyway).
printf 'MODULES=dep\n' >"$ROOTFS/etc/initramfs-tools/conf.d/modules"
printf 'COMPRESS=gzip\nCOMPRESSLEVEL=1\n' >"$ROOTFS/etc/initramfs-tools/conf.d/compress"
rm -f -- "$ROOTFS/usr/share/initramfs-tools/modules.d/vmctl-first-boot"

# --- a quiet, quick boot: no timers that would run apt or scrub the disk,
# no wait for a network there is none of.
# getty-static starts gettys on tty2-6 (there is no display): seconds of
# systemctl under TCG on every boot.
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
    e2scrub_reap.service fstrim.timer systemd-networkd-wait-online.service \
    getty-static.service; do
    in_chroot systemctl mask "$unit" >/dev/null 2>&1 || true
done
# root logs in on the console without a password (no network, no ssh).
in_chroot passwd -d root >/dev/null
: >"$ROOTFS/etc/machine-id"

# --- the test agent.
cat >"$ROOTFS/usr/local/sbin/vmctl-test-agent" <<EOF
#!/bin/sh
# vmctl test agent (scripts/build-test-host-image.sh): if a filesystem
# labelled $AGENT_LABEL shows up within 20 s, mount it read-only on
# /run/vmctl-test and run its main; otherwise do nothing.
dev=/dev/disk/by-label/$AGENT_LABEL
i=0
while [ ! -e "\$dev" ]; do
	[ "\$i" -lt 200 ] || { echo "vmctl-test-agent: no \$dev: nothing to do"; exit 0; }
	i=\$((i + 1))
	sleep 0.1
done
mkdir -p /run/vmctl-test
mountpoint -q /run/vmctl-test || mount -o ro "\$dev" /run/vmctl-test || exit 1
echo "vmctl-test-agent: running /run/vmctl-test/main"
exec /run/vmctl-test/main /run/vmctl-test
EOF
chmod 0755 "$ROOTFS/usr/local/sbin/vmctl-test-agent"
cat >"$ROOTFS/etc/systemd/system/vmctl-test-agent.service" <<'EOF'
[Unit]
Description=vmctl test agent (runs the test disk's main, if a test disk is attached)
After=multi-user.target

[Service]
Type=simple
ExecStart=/usr/local/sbin/vmctl-test-agent
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
EOF
in_chroot systemctl enable vmctl-test-agent.service >/dev/null 2>&1 ||
    die "cannot enable vmctl-test-agent.service"

in_chroot apt-get -q clean >/dev/null
rm -f -- "$ROOTFS/etc/dpkg/dpkg.cfg.d/zz-vmctl-build"
unmount_all "$ROOTFS" || die "cannot unmount the build chroot's mounts"
rootfs_slim

# ------------------------------------------------------------ the disk
ROOTFS_KB=$(du -sk --one-file-system -- "$ROOTFS" | cut -f1)
case $IMAGE_SIZE in
*G) DISK_MB=$(( ${IMAGE_SIZE%G} * 1024 )) ;;
*M) DISK_MB=${IMAGE_SIZE%M} ;;
esac
PART_MB=$((DISK_MB - 1))
[[ $((ROOTFS_KB / 1024 + 300)) -lt $PART_MB ]] ||
    die "$IMAGE_SIZE is too small for $((ROOTFS_KB / 1024)) MiB of files"
RAW=$WORK/disk.raw
log "mke2fs -d ($((ROOTFS_KB / 1024)) MiB of files into a $PART_MB MiB partition)"
mbr_disk "$RAW" "$PART_MB" "$GRUBDIR"
log "qemu-img convert -O qcow2 -c, zstd ($((SECONDS - t_start)) s so far)"
# zstd: compresses several times faster than zlib, and reads faster too.
qemu-img convert -q -f raw -O qcow2 -c -o compression_type=zstd "$RAW" "$NEW/$IMAGE_NAME"
rm -f -- "$RAW"
rm -rf --one-file-system -- "$ROOTFS"

QCOW_SIZE=$(stat -c %s "$NEW/$IMAGE_NAME")
cat >"$NEW/README" <<EOF
vmctl test image: a Debian 12 "$SUITE" GPU host booted by GRUB
===============================================================

Built by scripts/build-test-host-image.sh (see its header): debootstrap
--variant=minbase from $MIRROR${SECURITY_MIRROR:+ (+ $SECURITY_MIRROR)}, then
apt-get install --no-install-recommends:
  ${ALL_PACKAGES[*]}

  kernel      $KVER (linux-image-amd64 $(pkgver linux-image-amd64))
  grub-pc     $(pkgver grub-pc)
  systemd     $(pkgver systemd)
  qemu        $(pkgver qemu-system-x86)
  packages    $(wc -l <"$NEW/packages.txt") (list: packages.txt)

$IMAGE_NAME ($QCOW_SIZE bytes, virtual size $IMAGE_SIZE): an MBR disk, GRUB
(i386-pc) in the MBR and the gap, one ext4 partition (UUID $ROOT_UUID,
label root) from 1 MiB.  /etc/default/grub: Debian's, with
GRUB_CMDLINE_LINUX="console=ttyS0,115200 mitigations=off no_timer_check", GRUB_TIMEOUT=0
and GRUB on the serial line.  initramfs-tools with MODULES=dep, gzip -1.
root: no password.

Boot it (never write the cached file: use an overlay):
  qemu-img create -f qcow2 -F qcow2 -b $OUTDIR/$IMAGE_NAME disk.qcow2
  qemu-system-x86_64 -machine q35,accel=tcg -m 3G -smp 2 -nodefaults \\
    -display none -serial stdio \\
    -drive file=disk.qcow2,if=none,id=root,format=qcow2 \\
    -device virtio-blk-pci,drive=root,bootindex=0

The test agent (vmctl-test-agent.service): a disk with a filesystem
labelled $AGENT_LABEL is mounted read-only on /run/vmctl-test and its
"main" is run, after multi-user.target.
EOF

printf '%s\n' "$INPUTS" >"$NEW/.inputs"
chmod 0755 "$NEW"
chmod 0644 "$NEW"/*
if [[ -e "$OUTDIR" || -L "$OUTDIR" ]]; then
    mv -T -- "$OUTDIR" "$WORK/old"
fi
mv -T -- "$NEW" "$OUTDIR"
log "built $OUTDIR ($IMAGE_NAME: $QCOW_SIZE bytes, kernel $KVER) in $((SECONDS - t_start)) s"
printf '%s\n' "$OUTDIR/$IMAGE_NAME"
