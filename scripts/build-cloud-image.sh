#!/usr/bin/env bash
# build-cloud-image.sh - build a small Debian 12 (bookworm) cloud guest image
# for vmctl's cloud-init integration tests.
#
# Usage: scripts/build-cloud-image.sh [OUTDIR]
#
# OUTDIR defaults to ${VMCTL_TEST_CACHE:-/var/cache/vmctl-test}/cloud and
# receives:
#   debian-12-test.qcow2  compressed qcow2 holding a bare ext4 filesystem
#                         (no partition table, label "root")
#   vmlinuz, initrd.img   the image's Debian cloud kernel and its initramfs,
#                         for direct kernel boot
#   debian-12-test-bios.qcow2  the same system on an MBR disk booted by GRUB
#                         (one ext4 partition from 1 MiB, label "root"):
#                         what a spec without `kernel:` boots, such as the
#                         embedded default spec (tests/integration/quickstart.sh)
#   SHA256SUMS            "HASH  debian-12-test.qcow2" (sha256sum format)
#   packages.txt          every package in the image, "name version"
#   README                what it is and how to boot it
#   .inputs               cache key (script hash + package versions + size)
#
# The guest has no boot loader; boot it with
#   -kernel vmlinuz -initrd initrd.img -append 'root=/dev/vda rw console=ttyS0'
# and the qcow2 (normally through an overlay) as the first virtio disk.
#
# How it is built: debootstrap --variant=minbase into a temporary directory,
# apt-get install of the packages below inside a chroot, a little
# configuration (cloud-init NoCloud only, no pre-generated SSH host keys,
# empty machine-id, ...), then `mke2fs -d` + `qemu-img convert -c`: no loop
# devices and no mounts of the image are needed. The only mounts are proc,
# sysfs and devpts in the build chroot, always unmounted on exit.
#
# Requires root (debootstrap, chroot), debootstrap, mke2fs (e2fsprogs >=
# 1.43 for -d), qemu-img, flock and access to a Debian mirror. The mirror
# is the one the host's apt sources use (override: VMCTL_DEBIAN_MIRROR,
# VMCTL_DEBIAN_SECURITY_MIRROR; "none" drops the security suite).
#
# The build is cached: when OUTDIR already holds a complete build whose
# inputs match, the script exits 0 at once. A fresh build is assembled in a
# temporary directory next to OUTDIR and renamed into place; concurrent
# runs for the same OUTDIR are serialised with flock(1) on OUTDIR.lock.
#
# On success the paths of the qcow2, the kernel and the initrd are printed
# on stdout, one per line in that order; all diagnostics go to stderr.
#
# Environment:
#   VMCTL_TEST_CACHE         base cache directory (default /var/cache/vmctl-test)
#   VMCTL_CLOUD_FORCE        set to 1 to rebuild even if the cache looks valid
#   VMCTL_CLOUD_IMAGE_SIZE   filesystem size (mke2fs syntax, default 2G)
#   VMCTL_DEBIAN_MIRROR      Debian mirror URL (default: from apt sources)
#   VMCTL_DEBIAN_SECURITY_MIRROR  debian-security URL, or "none"

set -euo pipefail

readonly SUITE=bookworm
readonly IMAGE_NAME=debian-12-test.qcow2
readonly BIOS_NAME=debian-12-test-bios.qcow2
readonly KERNEL_META=linux-image-cloud-amd64
# Installed with apt-get --no-install-recommends on top of minbase.
# python3-cffi-backend: needed by cloud-init (via python3-cryptography);
# named explicitly because some resolvers (debootstrap --include) miss it.
# iproute2: cloud-init's networkd renderer requires `ip`.
# grub-pc-bin: GRUB's BIOS modules and grub-mkimage, for the BIOS image
# (not grub-pc: nothing installs a boot loader in the chroot).
readonly PACKAGES=(
    systemd-sysv udev "$KERNEL_META" cloud-init python3-cffi-backend
    openssh-server sudo locales e2fsprogs iproute2 grub-pc-bin
)
# Packages whose candidate versions form the cache key (with the script hash).
readonly KEY_PACKAGES=("$KERNEL_META" cloud-init systemd openssh-server)
IMAGE_SIZE=${VMCTL_CLOUD_IMAGE_SIZE:-2G}

log() { printf 'build-cloud-image: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    printf 'usage: %s [OUTDIR]\n' "${0##*/}" >&2
    exit 2
}

case "${1:-}" in
    -h|--help) usage ;;
esac
[[ $# -le 1 ]] || usage

OUTDIR=${1:-${VMCTL_TEST_CACHE:-/var/cache/vmctl-test}/cloud}
OUTDIR=${OUTDIR%/}
[[ -n "$OUTDIR" ]] || die "empty OUTDIR"
[[ "$IMAGE_SIZE" =~ ^[0-9]+[KMGT]?$ ]] || die "bad VMCTL_CLOUD_IMAGE_SIZE '$IMAGE_SIZE'"

for tool in apt-get apt-cache sha256sum flock; do
    command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' not found"
done

SCRIPT_PATH=$(readlink -f -- "${BASH_SOURCE[0]}")
SCRIPT_DIR=$(dirname -- "$SCRIPT_PATH")
SCRIPT_HASH=$(cat -- "$SCRIPT_PATH" "$SCRIPT_DIR/lib/debootstrap.sh" | sha256sum | cut -d' ' -f1)

# shellcheck source=scripts/lib/debcache.sh
. "$SCRIPT_DIR/lib/debcache.sh"
# in_chroot, unmount_all, and the BIOS disk (grub_bios_core, mbr_disk).
# shellcheck source=scripts/lib/debootstrap.sh
. "$SCRIPT_DIR/lib/debootstrap.sh"

# Cache key: changes with this script, the key package versions (candidate
# versions in the host's apt lists; one apt-cache call) or the size.
compute_inputs() {
    local versions
    versions=$(candidate_versions "${KEY_PACKAGES[@]}") || return 1
    printf 'script-sha256=%s\nsize=%s\n%s\n' "$SCRIPT_HASH" "$IMAGE_SIZE" \
        "$versions"
}

build_complete() {
    local d=$1 f
    for f in "$IMAGE_NAME" "$BIOS_NAME" vmlinuz initrd.img SHA256SUMS README .inputs; do
        [[ -s "$d/$f" ]] || return 1
    done
}

print_paths() {
    printf '%s\n%s\n%s\n' "$OUTDIR/$IMAGE_NAME" "$OUTDIR/vmlinuz" "$OUTDIR/initrd.img"
}

cache_open "$OUTDIR"

if cache_current "${VMCTL_CLOUD_FORCE:-0}"; then
    print_paths
    exit 0
fi

# ------------------------------------------------------------ prerequisites
[[ $EUID -eq 0 ]] || die "building needs root (debootstrap, chroot); a cached build is used without"
for tool in debootstrap chroot mke2fs sfdisk qemu-img mount umount dd truncate; do
    command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' not found"
done

# The Debian mirror (and debian-security mirror) the host's apt uses: the
# first http(s) source with component "main" for the plain suite resp. the
# "*-security" suite. Handles one-line (.list) and deb822 (.sources) files.
apt_sources() {
    local f
    local files=()
    [[ -f /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
    for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -f "$f" ]] && files+=("$f")
    done
    [[ ${#files[@]} -gt 0 ]] || return 0
    # Prints "URI SUITE" for every enabled deb source with component main.
    awk '
        function flush() {
            if (types ~ /(^| )deb( |$)/ && comps ~ /(^| )main( |$)/ && enabled != "no") {
                n = split(uris, u, " "); m = split(suites, s, " ")
                for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) print u[i], s[j]
            }
            types = uris = suites = comps = ""; enabled = ""
        }
        FNR == 1 { flush(); deb822 = (FILENAME ~ /\.sources$/) }
        deb822 {
            if ($0 ~ /^[[:space:]]*$/) { flush(); next }
            if ($0 ~ /^#/) next
            key = tolower($1); sub(/:$/, "", key)
            val = $0; sub(/^[^:]*:[[:space:]]*/, "", val)
            if (key == "types") types = val
            else if (key == "uris") uris = val
            else if (key == "suites") suites = val
            else if (key == "components") comps = val
            else if (key == "enabled") enabled = tolower(val)
            next
        }
        /^[[:space:]]*deb[[:space:]]/ {
            i = 2
            if ($i ~ /^\[/) { while ($i !~ /\]$/ && i < NF) i++; i++ }
            uri = $i; suite = $(i + 1); c = ""
            for (k = i + 2; k <= NF; k++) c = c " " $k
            if (c ~ / main( |$)/) print uri, suite
        }
        END { flush() }
    ' "${files[@]}"
}

find_mirror() {
    # $1: "main" or "security"
    # (reads all input: an early exit could SIGPIPE apt_sources)
    apt_sources | awk -v want="$1" -v suite="$SUITE" '
        found != "" || $1 !~ /^https?:\/\// { next }
        want == "main" && $2 == suite { found = $1 }
        want == "security" && $2 == suite "-security" { found = $1 }
        END { if (found != "") print found }
    '
}

MIRROR=${VMCTL_DEBIAN_MIRROR:-$(find_mirror main)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
MIRROR=${MIRROR%/}
SECURITY_MIRROR=${VMCTL_DEBIAN_SECURITY_MIRROR:-$(find_mirror security)}
SECURITY_MIRROR=${SECURITY_MIRROR%/}
[[ "$SECURITY_MIRROR" == none ]] && SECURITY_MIRROR=""
log "mirror: $MIRROR${SECURITY_MIRROR:+, security: $SECURITY_MIRROR}"

# ------------------------------------------------------------ work area
WORK=$(mktemp -d -- "$PARENT/.cloud-build.XXXXXX")
ROOTFS=$WORK/rootfs
NEW=$WORK/out

# shellcheck disable=SC2317  # invoked via trap
cleanup() {
    local rc=$?
    set +e
    trap - EXIT
    if [[ -d "$WORK" ]]; then
        if unmount_all "$WORK"; then
            # --one-file-system: never follow a mount that survived.
            rm -rf --one-file-system -- "$WORK"
        else
            log "warning: could not unmount everything below $WORK; left in place"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ------------------------------------------------------------ debootstrap
KEYRING_OPT=()
[[ -f /usr/share/keyrings/debian-archive-keyring.gpg ]] &&
    KEYRING_OPT=(--keyring=/usr/share/keyrings/debian-archive-keyring.gpg)

log "debootstrap --variant=minbase $SUITE (log: $WORK/debootstrap.log on failure)"
if ! debootstrap --variant=minbase --components=main "${KEYRING_OPT[@]}" \
    "$SUITE" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
    tail -n 30 -- "$WORK/debootstrap.log" >&2
    [[ -f "$ROOTFS/debootstrap/debootstrap.log" ]] &&
        tail -n 30 -- "$ROOTFS/debootstrap/debootstrap.log" >&2
    die "debootstrap failed"
fi
# debootstrap normally unmounts what it mounted; make sure.
unmount_all "$ROOTFS" || die "cannot unmount debootstrap's mounts"

# ------------------------------------------------------------ configuration
# Files that must be in place before the packages (and the kernel's
# initramfs) are installed.
{
    printf 'deb %s %s main\n' "$MIRROR" "$SUITE"
    printf 'deb %s %s-updates main\n' "$MIRROR" "$SUITE"
    [[ -z "$SECURITY_MIRROR" ]] ||
        printf 'deb %s %s-security main\n' "$SECURITY_MIRROR" "$SUITE"
} >"$ROOTFS/etc/apt/sources.list"

# No daemons may start inside the build chroot.
printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
chmod 0755 "$ROOTFS/usr/sbin/policy-rc.d"

# Keep the image small: no documentation (copyright files stay).
cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/01-vmctl-nodoc" <<'EOF'
# vmctl test image: no documentation
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
EOF

# fsck hook of initramfs-tools reads fstab; the root fs is a whole-disk
# ext4 with label "root" (the kernel command line says root=/dev/vda).
cat >"$ROOTFS/etc/fstab" <<'EOF'
# <file system>  <mount point>  <type>  <options>                  <dump> <pass>
LABEL=root       /              ext4    rw,errors=remount-ro       0      1
EOF

mkdir -p -- "$ROOTFS/etc/initramfs-tools/conf.d"
printf 'RESUME=none\n' >"$ROOTFS/etc/initramfs-tools/conf.d/resume"
# zstd is not installed; say gzip instead of letting mkinitramfs warn.
printf 'COMPRESS=gzip\n' >"$ROOTFS/etc/initramfs-tools/conf.d/compress"

printf 'localhost\n' >"$ROOTFS/etc/hostname"
cat >"$ROOTFS/etc/hosts" <<'EOF'
127.0.0.1	localhost
::1		localhost ip6-localhost ip6-loopback
ff02::1		ip6-allnodes
ff02::2		ip6-allrouters
EOF
# Locale: C.UTF-8 needs no generation; with /etc/default/locale and
# cloud-init's "locale" both set to it, cloud-init's locale module has
# nothing to do (en_US.UTF-8, its Debian default, would run locale-gen).
printf 'LANG=C.UTF-8\n' >"$ROOTFS/etc/default/locale"

mount -t proc proc "$ROOTFS/proc"
mount -t sysfs sysfs "$ROOTFS/sys"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$ROOTFS/dev/pts"

log "installing ${PACKAGES[*]}"
if ! in_chroot apt-get -q update >"$WORK/apt.log" 2>&1 ||
    ! in_chroot apt-get -q -y --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        install "${PACKAGES[@]}" >>"$WORK/apt.log" 2>&1; then
    tail -n 40 -- "$WORK/apt.log" >&2
    die "apt-get install in the chroot failed"
fi

# --- cloud-init: NoCloud (seed disk labelled cidata) or nothing at all.
cat >"$ROOTFS/etc/cloud/cloud.cfg.d/90-vmctl-datasource.cfg" <<'EOF'
# vmctl test image: only NoCloud (a seed filesystem labelled "cidata", or
# ds=nocloud on the kernel command line); never probe network metadata
# services. "None" lets boot finish when no seed is attached.
datasource_list: [ NoCloud, None ]
EOF
cat >"$ROOTFS/etc/cloud/cloud.cfg.d/91-vmctl-misc.cfg" <<'EOF'
# vmctl test image
# The image ships C.UTF-8 in /etc/default/locale; keeping cloud-init's
# locale equal to it avoids a slow locale-gen run on first boot.
locale: C.UTF-8
# The root filesystem is a bare ext4 on /dev/vda (no partition table):
# growpart has nothing to do, resizefs grows the fs to the disk size.
growpart:
  mode: "off"
# SSH host keys generated on first boot when user-data brings none: the
# types bookworm's sshd uses by default (cloud-init 22.4 would add DSA).
ssh_genkeytypes: [ rsa, ecdsa, ed25519 ]
# Network config is rendered for systemd-networkd (the only backend in the
# image: no ifupdown, no netplan, no NetworkManager).
system_info:
  network:
    renderers: [ networkd ]
EOF

# --- network: systemd-networkd, configured by cloud-init at boot.
in_chroot systemctl enable systemd-networkd.service >/dev/null 2>&1 ||
    die "cannot enable systemd-networkd"
# cloud-init.service is ordered after systemd-networkd-wait-online; never
# let that stall boot for its default 2 minutes: one configured link is
# enough, and give up after 20 s.
mkdir -p -- "$ROOTFS/etc/systemd/system/systemd-networkd-wait-online.service.d"
cat >"$ROOTFS/etc/systemd/system/systemd-networkd-wait-online.service.d/10-vmctl.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=/lib/systemd/systemd-networkd-wait-online --any --timeout=20
EOF

# --- quiet, quick boot for tests: no periodic apt runs (no network).
for unit in apt-daily.timer apt-daily-upgrade.timer; do
    in_chroot systemctl mask "$unit" >/dev/null 2>&1 || true
done

# --- checks on what was installed.
shopt -s nullglob
vmlinuz_files=("$ROOTFS"/boot/vmlinuz-*)
shopt -u nullglob
[[ ${#vmlinuz_files[@]} -eq 1 ]] || die "expected exactly one kernel in $ROOTFS/boot"
KVER=${vmlinuz_files[0]##*/vmlinuz-}
[[ -s "$ROOTFS/boot/initrd.img-$KVER" ]] || die "no initrd for $KVER"

# The initramfs must be able to find and mount root=/dev/vda.
INITRD_LIST=$(in_chroot lsinitramfs "/boot/initrd.img-$KVER") ||
    die "lsinitramfs failed"
for mod in virtio_blk virtio_pci; do
    if ! grep -q "/$mod\.ko" <<<"$INITRD_LIST" &&
        ! grep -q "/$mod\.ko" "$ROOTFS/lib/modules/$KVER/modules.builtin"; then
        die "initramfs lacks $mod"
    fi
done
if ! grep -qx 'CONFIG_EXT4_FS=y' "$ROOTFS/boot/config-$KVER" &&
    ! grep -q '/ext4\.ko' <<<"$INITRD_LIST"; then
    die "initramfs lacks ext4"
fi

mkdir -p -- "$NEW"
# shellcheck disable=SC2016  # dpkg-query's own ${...} syntax
in_chroot dpkg-query -W -f '${Package} ${Version}\n' | LC_ALL=C sort >"$NEW/packages.txt"
pkgver() { awk -v p="$1" '$1 == p { print $2 }' "$NEW/packages.txt"; }
for p in "${PACKAGES[@]}"; do
    [[ -n "$(pkgver "$p")" ]] || die "package $p is not installed"
done

# --- GRUB for the BIOS image: its modules in /boot/grub/i386-pc as
# grub-install puts them, a core.img that finds the root filesystem by
# UUID, and a grub.cfg booting the one kernel at once, on the serial
# console too (update-grub cannot run in a chroot: grub-probe would
# describe the build host's disk).  Added to the tree after the bare
# image is made.  mitigations=off: no page-table isolation, whose CR3
# switch at every system call makes TCG flush its TLB (the quick start
# boots this image under TCG within create --wait's default timeout).
ROOT_UUID=$(cat /proc/sys/kernel/random/uuid)
GRUB_STAGE=$WORK/grub
grub_bios_core "$GRUB_STAGE"
cat >"$GRUB_STAGE/grub.cfg" <<GRUBEOF
# Written by scripts/build-cloud-image.sh (vmctl's test image).
set default=0
set timeout=0
serial --unit=0 --speed=115200
terminal_input console serial
terminal_output console serial
insmod part_msdos
insmod ext2
search --no-floppy --fs-uuid --set=root $ROOT_UUID
menuentry 'Debian GNU/Linux (vmctl test image)' {
	linux	/boot/vmlinuz-$KVER root=UUID=$ROOT_UUID rw console=tty0 console=ttyS0,115200 no_timer_check mitigations=off
	initrd	/boot/initrd.img-$KVER
}
GRUBEOF

# ------------------------------------------------------------ clean up rootfs
in_chroot apt-get -q clean >/dev/null
unmount_all "$ROOTFS" || die "cannot unmount the build chroot's mounts"

rm -f -- "$ROOTFS/usr/sbin/policy-rc.d"
# debootstrap copied the build host's resolv.conf (apt needed it); drop it.
rm -f -- "$ROOTFS/etc/resolv.conf"
: >"$ROOTFS/etc/resolv.conf"
# Documentation of the packages debootstrap installed before the dpkg
# path-exclude rules were in place.
find "$ROOTFS/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$ROOTFS/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf -- "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/*
# SSH host keys are generated (or injected) by cloud-init on first boot.
rm -f -- "$ROOTFS"/etc/ssh/ssh_host_*
# A fresh machine-id on first boot (systemd's first-boot semantics).
: >"$ROOTFS/etc/machine-id"
rm -f -- "$ROOTFS/var/lib/dbus/machine-id"
rm -rf -- "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin \
    "$ROOTFS"/var/cache/debconf/*-old "$ROOTFS"/var/lib/dpkg/*-old \
    "$ROOTFS"/var/lib/cloud/* "$ROOTFS"/tmp/* "$ROOTFS"/var/tmp/* \
    "$ROOTFS/root/.bash_history"
mkdir -p -- "$ROOTFS/var/lib/apt/lists/partial"
find "$ROOTFS/var/log" -type f \( -name '*.gz' -o -name '*.[0-9]' \) -delete
find "$ROOTFS/var/log" -type f -exec truncate -s 0 {} +

ROOTFS_KB=$(du -sk --one-file-system -- "$ROOTFS" | cut -f1)

# ------------------------------------------------------------ pack
cp -- "${vmlinuz_files[0]}" "$NEW/vmlinuz"
cp -- "$ROOTFS/boot/initrd.img-$KVER" "$NEW/initrd.img"

log "mke2fs -d ($((ROOTFS_KB / 1024)) MiB of files into a $IMAGE_SIZE ext4)"
# Lazy inode table / journal init keeps the raw file sparse; the guest
# kernel finishes the inode tables in the background.
if ! mke2fs -q -F -t ext4 -L root -d "$ROOTFS" -E lazy_itable_init=1,lazy_journal_init=1 \
    "$WORK/raw.img" "$IMAGE_SIZE" >"$WORK/mke2fs.log" 2>&1; then
    cat -- "$WORK/mke2fs.log" >&2
    die "mke2fs failed (is $IMAGE_SIZE big enough for $((ROOTFS_KB / 1024)) MiB?)"
fi
log "qemu-img convert -O qcow2 -c"
qemu-img convert -q -f raw -O qcow2 -c "$WORK/raw.img" "$NEW/$IMAGE_NAME"
rm -f -- "$WORK/raw.img"

# The BIOS image: the same tree plus /boot/grub, in a partition from 1 MiB
# of an MBR disk 1 MiB larger (scripts/lib/debootstrap.sh: mbr_disk).
case $IMAGE_SIZE in
*G) PART_MB=$(( ${IMAGE_SIZE%G} * 1024 )) ;;
*M) PART_MB=${IMAGE_SIZE%M} ;;
*) die "VMCTL_CLOUD_IMAGE_SIZE: give the size in M or G (the BIOS image)" ;;
esac
mkdir -p -- "$ROOTFS/boot/grub"
cp -a -- "$GRUB_STAGE/i386-pc" "$GRUB_STAGE/grub.cfg" "$ROOTFS/boot/grub/"
RAW=$WORK/bios.raw
log "mke2fs -d into the BIOS image's partition"
mbr_disk "$RAW" "$PART_MB" "$GRUB_STAGE"
log "qemu-img convert -O qcow2 -c (BIOS image)"
qemu-img convert -q -f raw -O qcow2 -c "$RAW" "$NEW/$BIOS_NAME"
rm -f -- "$RAW"
rm -rf --one-file-system -- "$ROOTFS"

(cd -- "$NEW" && sha256sum -- "$IMAGE_NAME") >"$NEW/SHA256SUMS"

QCOW_SIZE=$(stat -c %s "$NEW/$IMAGE_NAME")
cat >"$NEW/README" <<EOF
vmctl cloud-init test image (Debian 12 "$SUITE")
================================================

Built by scripts/build-cloud-image.sh: debootstrap --variant=minbase from
$MIRROR${SECURITY_MIRROR:+ (+ $SECURITY_MIRROR)}, then
apt-get install --no-install-recommends:
  ${PACKAGES[*]}

  kernel      $KVER ($KERNEL_META $(pkgver "$KERNEL_META"))
  cloud-init  $(pkgver cloud-init)
  systemd     $(pkgver systemd)
  openssh     $(pkgver openssh-server)
  packages    $(wc -l <"$NEW/packages.txt") (list: packages.txt)

Files
  $IMAGE_NAME  compressed qcow2 ($QCOW_SIZE bytes), virtual size
                        $IMAGE_SIZE: ONE ext4 filesystem, label "root", on the
                        whole disk (no partition table, no boot loader)
  $BIOS_NAME  the same system on an MBR disk of $IMAGE_SIZE + 1 MiB:
                        GRUB (BIOS) in the MBR and the gap, one ext4
                        partition (label "root") from 1 MiB; GRUB boots the
                        kernel at once (console tty0 and ttyS0).  Boot it as
                        the first disk, with no -kernel.
  vmlinuz               the image's kernel ($KVER)
  initrd.img            its initramfs (initramfs-tools, MODULES=most: has
                        virtio_blk/virtio_pci; ext4 is built in)
  SHA256SUMS            sha256 of $IMAGE_NAME ("HASH  NAME")
  packages.txt          installed packages and versions
  .inputs               cache key (script sha256, size, package versions)

Boot it (never write the cached file: use an overlay)
  qemu-img create -f qcow2 -F qcow2 -b $OUTDIR/$IMAGE_NAME disk.qcow2 4G
  qemu-system-x86_64 -machine q35,accel=tcg -smp 2 -m 1G -nodefaults \\
    -display none -serial stdio \\
    -kernel vmlinuz -initrd initrd.img \\
    -append 'root=/dev/vda rw console=ttyS0' \\
    -drive file=disk.qcow2,if=virtio,format=qcow2 \\
    -drive file=seed.iso,if=virtio,format=raw,readonly=on \\
    -netdev user,id=n0,hostfwd=tcp:127.0.0.1:2222-:22 \\
    -device virtio-net-pci,netdev=n0

Guest configuration
  cloud-init   datasource_list: [ NoCloud, None ] (cloud.cfg.d/90-vmctl-*):
               give it a NoCloud seed, a filesystem (iso9660 or vfat)
               labelled "cidata" holding user-data and meta-data. Attach it
               as a virtio disk: the cloud kernel has no AHCI/IDE driver, so
               q35's -cdrom is invisible to the guest (virtio-scsi scsi-cd
               also works). No seed: datasource None, nothing configured.
               locale: C.UTF-8 and growpart off (cloud.cfg.d/91-vmctl-*);
               resizefs grows the root fs to a larger (overlay) disk.
  network      systemd-networkd, rendered by cloud-init (default: DHCP on
               the first NIC). systemd-networkd-wait-online: --any
               --timeout=20. No DNS resolver configuration (empty
               /etc/resolv.conf, no systemd-resolved).
  ssh          openssh-server; NO host keys in the image: cloud-init
               generates them on first boot (or installs the ones given in
               user-data ssh_keys; generated types: rsa, ecdsa, ed25519).
               sshd starts after cloud-init's network stage.
  users        no passwords, no default login; cloud-init's default user
               is "debian" (locked), so user-data must add a user with
               ssh_authorized_keys.
  misc         empty /etc/machine-id (first boot), hostname "localhost"
               until cloud-init sets it, apt-daily timers masked, no docs.
EOF

printf '%s\n' "$INPUTS" >"$NEW/.inputs"
chmod 0755 "$NEW"
chmod 0644 "$NEW"/*

# Swap into place: rename(2) cannot replace a non-empty directory, so move
# any previous build aside first (under the lock), then drop it.
if [[ -e "$OUTDIR" || -L "$OUTDIR" ]]; then
    mv -T -- "$OUTDIR" "$WORK/old"
fi
mv -T -- "$NEW" "$OUTDIR"

log "built $OUTDIR ($IMAGE_NAME: $QCOW_SIZE bytes, kernel $KVER)"
print_paths
