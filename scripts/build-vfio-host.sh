#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# build-vfio-host.sh - build the "GPU host" guest for the real-kernel VFIO test.
#
# Usage: scripts/build-vfio-host.sh [--vmctl PATH] [OUTDIR]
#
# A Debian kernel with an emulated Intel IOMMU stands in for a GPU host:
# tests/integration/vfio-real-kernel.sh boots it under QEMU/TCG with a
# stand-in GPU (virtio-gpu-pci + ich9-intel-hda in one slot) and runs vmctl
# inside. This script builds the parts that do not change from one vmctl
# build to the next, cached in OUTDIR (default
# ${VMCTL_TEST_CACHE:-/var/cache/vmctl-test}/vfio-host):
#
#   vmlinuz         Debian's generic kernel (linux-image-amd64's dependency)
#   base.cpio.gz    static busybox, kmod (modprobe & co., from Debian's
#                   kmod and libkmod2), a small /init, the kernel modules
#                   below with kmod's module indexes
#   runtime.cpio    qemu-system-x86_64 (+ its TCG accelerator module,
#                   SeaBIOS, option ROMs), tmux, a few terminfo entries,
#                   the C.UTF-8 locale (tmux needs one), pci.ids, and every
#                   shared library these and vmctl need
#   busybox         the same static busybox, for the caller's own cpio parts
#   kmod/           kmod and libkmod.so.2 (their libraries go into runtime)
#
# The kernel unpacks concatenated cpio archives (each part is padded to a
# multiple of 512 bytes), so a caller boots
#     cat base.cpio.gz runtime.cpio MINE.cpio > initrd
# where MINE.cpio carries vmctl and the test: vmctl changes with every
# build, the big parts stay cached.  /init mounts the usual filesystems,
# runs /test/main if there is one (else a shell on the console), then
# powers off.
#
# Why the generic kernel and not the cloud kernel build-test-guest.sh uses:
# the cloud flavour has the IOMMU and the vfio modules but no DRM and no
# sound drivers, so the stand-in GPU's functions would have no host driver
# (virtio-gpu's PCI driver virtio-pci it has, snd-hda-intel it lacks) and
# "back on its driver" could not be tested.
#
# Nothing is installed on the build host: the kernel and busybox come from
# `apt-get download` + `dpkg-deb -x`; QEMU, tmux and the libraries are
# copied from the host's own installation (the versions vmctl is tested
# with). Each part is rebuilt only when its inputs change:
#   base      this script, the kernel, busybox and kmod package versions
#   runtime   this script, and path/size/mtime of every file copied
#             (including the libraries `ldd --vmctl PATH` lists)
# On success the paths of vmlinuz, base.cpio.gz and runtime.cpio are printed
# on stdout, one per line; diagnostics go to stderr.
#
# Environment:
#   VMCTL_TEST_CACHE      base cache directory (default /var/cache/vmctl-test)
#   VMCTL_VFIO_HOST_FORCE set to 1 to rebuild both parts
#   QEMU                  the QEMU binary to copy (default: qemu-system-x86_64 on PATH)

set -euo pipefail

readonly KERNEL_META=linux-image-amd64
readonly BUSYBOX_PKG=busybox-static
# kmod, as on a real Debian host: modprobe that reads module options from
# the kernel command line (vfio-pci.ids=...), /etc/modprobe.d and softdeps
# (vfio's "post: vfio_iommu_type1"); busybox modprobe does none of these.
readonly KMOD_PKGS=(kmod libkmod2)
# What the GPU host loads, by name; dependencies are added automatically.
readonly HOST_MODULES=(vfio vfio_iommu_type1 vfio_virqfd vfio-pci-core vfio-pci
    irqbypass virtio_pci virtio-gpu snd-hda-intel snd-hda-codec-generic)
# Files QEMU opens for a q35/SeaBIOS/TCG VM with a virtio NIC and a VGA
# adapter (found with strace): firmware, option ROMs, the TCG module.
readonly QEMU_DATA_GLOBS=(
    /usr/share/seabios/'*.bin'
    /usr/share/qemu/kvmvapic.bin /usr/share/qemu/linuxboot.bin
    /usr/share/qemu/linuxboot_dma.bin /usr/share/qemu/multiboot.bin
    /usr/share/qemu/multiboot_dma.bin /usr/share/qemu/pvh.bin
    /usr/share/qemu/'vgabios*.bin' /usr/share/qemu/'bios*.bin'
    /usr/share/qemu/'efi-*.rom' /usr/share/qemu/'pxe-*.rom'
    /usr/lib/ipxe/qemu/'efi-*.rom'
    /usr/share/qemu/keymaps/en-us
)
readonly TERMINFO=(l/linux v/vt100 v/vt220 s/screen s/screen-256color
    t/tmux t/tmux-256color x/xterm x/xterm-256color d/dumb)

log() { printf 'build-vfio-host: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
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
OUTDIR=${1:-${VMCTL_TEST_CACHE:-/var/cache/vmctl-test}/vfio-host}
OUTDIR=${OUTDIR%/}
[[ -n "$OUTDIR" ]] || die "empty OUTDIR"

for tool in apt-get apt-cache dpkg-deb gzip sha256sum flock ldd stat; do
    command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' not found"
done
QEMU_BIN=$(command -v "${QEMU:-qemu-system-x86_64}" 2>/dev/null) ||
    die "qemu-system-x86_64 not found"
QEMU_BIN=$(readlink -f -- "$QEMU_BIN")
TMUX_BIN=$(command -v tmux 2>/dev/null) || die "tmux not found"
TMUX_BIN=$(readlink -f -- "$TMUX_BIN")
if [[ -n "$VMCTL_BIN" ]]; then
    [[ -x "$VMCTL_BIN" ]] || die "$VMCTL_BIN: not an executable"
    VMCTL_BIN=$(readlink -f -- "$VMCTL_BIN")
fi
# QEMU loads its accelerator from a module next to its other modules.
QEMU_MODDIR=$(dirname -- "$(dirname -- "$QEMU_BIN")")/lib/x86_64-linux-gnu/qemu
[[ -e "$QEMU_MODDIR/accel-tcg-x86_64.so" ]] ||
    QEMU_MODDIR=/usr/lib/x86_64-linux-gnu/qemu
TCG_MODULE=$QEMU_MODDIR/accel-tcg-x86_64.so

SCRIPT_PATH=$(readlink -f -- "${BASH_SOURCE[0]}")
SCRIPT_HASH=$(sha256sum -- "$SCRIPT_PATH" | cut -d' ' -f1)

# shellcheck source=scripts/lib/debcache.sh
. "$(dirname -- "$SCRIPT_PATH")/lib/debcache.sh"

cache_open "$OUTDIR"
mkdir -p -- "$OUTDIR"

WORK=$(mktemp -d -- "$PARENT/.vfio-host-build.XXXXXX")
cleanup() { rm -rf -- "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# pad_to_block FILE: zero-pad to a multiple of 512 bytes.  The kernel
# looks for the next archive of a concatenated initramfs at a 4-byte
# aligned offset and skips zeros; a gzip stream ends anywhere.
pad_to_block() {
    local size pad
    size=$(stat -c %s -- "$1")
    pad=$(( (512 - size % 512) % 512 ))
    [[ $pad -eq 0 ]] || head -c "$pad" /dev/zero >>"$1"
}

# make_cpio DIR BUSYBOX: newc archive of DIR on stdout, root-owned, sorted,
# fixed mtimes.
make_cpio() {
    find "$1" -exec touch -h -d @0 {} +
    (
        cd -- "$1"
        find . -mindepth 1 | LC_ALL=C sort | sed 's|^\./||' |
            "$2" cpio -o -H newc -R 0:0 2>/dev/null
    )
}

# install_file SRC STAGE: copy SRC (following links) to the same path
# under STAGE.
install_file() {
    local src=$1 stage=$2
    mkdir -p -- "$stage$(dirname -- "$src")"
    cp -L --preserve=mode -- "$src" "$stage$src"
}

# ---------------------------------------------------------------- base part

BASE_INPUTS=""
base_inputs() {
    local p v
    printf 'script-sha256=%s\n' "$SCRIPT_HASH"
    for p in "$KERNEL_META" "$BUSYBOX_PKG" "${KMOD_PKGS[@]}"; do
        v=$(candidate_version "$p")
        [[ -n "$v" ]] || return 1
        printf '%s=%s\n' "$p" "$v"
    done
}

base_complete() {
    [[ -s "$OUTDIR/vmlinuz" && -s "$OUTDIR/base.cpio.gz" &&
       -x "$OUTDIR/busybox" && -x "$OUTDIR/kmod/kmod" &&
       -s "$OUTDIR/.inputs-base" ]]
}

if ! BASE_INPUTS=$(base_inputs); then
    apt_update_once
    BASE_INPUTS=$(base_inputs) || BASE_INPUTS=""
fi
if [[ -z "$BASE_INPUTS" ]]; then
    # Offline without apt lists: a build by this very script will do.
    if base_complete && grep -qx "script-sha256=$SCRIPT_HASH" "$OUTDIR/.inputs-base"; then
        log "warning: cannot determine package versions; reusing the base part"
        BASE_INPUTS=$(cat -- "$OUTDIR/.inputs-base")
    else
        die "packages $KERNEL_META $BUSYBOX_PKG ${KMOD_PKGS[*]} not available from apt"
    fi
fi

build_base() {
    local dl=$WORK/dl stage=$WORK/base kroot=$WORK/kernel bbroot=$WORK/bb
    local kmroot=$WORK/kmod
    local meta_deb bb_deb kpkg kdeb kver moddir f
    mkdir -p -- "$dl" "$stage"
    log "downloading $KERNEL_META, $BUSYBOX_PKG, ${KMOD_PKGS[*]}"
    apt_download "$dl" "$KERNEL_META" "$BUSYBOX_PKG" "${KMOD_PKGS[@]}"
    meta_deb=$(deb_of "$dl" "$KERNEL_META")
    bb_deb=$(deb_of "$dl" "$BUSYBOX_PKG")
    kpkg=$(dpkg-deb -f "$meta_deb" Depends | tr ',' '\n' |
        sed -n 's/^[[:space:]]*\(linux-image-[0-9][^[:space:]|]*-amd64\).*/\1/p' |
        head -n1)
    [[ -n "$kpkg" ]] || die "cannot find the kernel package in $KERNEL_META's Depends"
    log "downloading $kpkg"
    apt_download "$dl" "$kpkg"
    kdeb=$(deb_of "$dl" "$kpkg")
    dpkg-deb -x "$kdeb" "$kroot"
    dpkg-deb -x "$bb_deb" "$bbroot"
    for f in "${KMOD_PKGS[@]}"; do
        dpkg-deb -x "$(deb_of "$dl" "$f")" "$kmroot"
    done
    # kmod dispatches on its name; run its depmod from here, with its
    # library (the rest of what it links is the host's, like QEMU's).
    mkdir -p -- "$WORK/kmod-out"
    cp -- "$kmroot/bin/kmod" "$WORK/kmod-out/kmod"
    cp -L -- "$kmroot/usr/lib/x86_64-linux-gnu/libkmod.so.2" "$WORK/kmod-out/"
    ln -s kmod "$WORK/kmod-out/depmod"
    kdepmod() { LD_LIBRARY_PATH=$WORK/kmod-out "$WORK/kmod-out/depmod" "$@"; }
    kdepmod --version >/dev/null 2>&1 || die "the kmod from ${KMOD_PKGS[*]} does not run here"
    local kpkg_ver
    kpkg_ver=$(dpkg-deb -f "$kdeb" Version)
    rm -f -- "$kdeb"
    local bb=$bbroot/bin/busybox
    [[ -x "$bb" ]] || die "busybox missing from $bb_deb"

    shopt -s nullglob
    local vmlinuz=("$kroot"/boot/vmlinuz-*)
    shopt -u nullglob
    [[ ${#vmlinuz[@]} -eq 1 ]] || die "expected one vmlinuz in $kdeb"
    kver=${vmlinuz[0]##*/vmlinuz-}
    moddir=lib/modules/$kver
    "$bb" depmod -b "$kroot" "$kver"
    # The IOMMU driver must be built in, or there is nothing to test.
    grep -qx 'CONFIG_INTEL_IOMMU=y' "$kroot/boot/config-$kver" ||
        die "$kpkg: CONFIG_INTEL_IOMMU is not built in"

    declare -A seen=()
    local mod_paths=()
    add_module() {
        local name=$1 line path dep
        line=$(grep -E "(^|/)${name//[_-]/[_-]}\.ko(\.[a-z]+)?:" \
            "$kroot/$moddir/modules.dep" | head -n1 || true)
        if [[ -z "$line" ]]; then
            grep -qE "(^|/)${name//[_-]/[_-]}\.ko" "$kroot/$moddir/modules.builtin" ||
                die "module $name not found in $kpkg"
            return 0
        fi
        path=${line%%:*}
        [[ -z "${seen[$path]:-}" ]] || return 0
        seen[$path]=1
        for dep in ${line#*:}; do
            dep=${dep##*/}
            add_module "${dep%%.ko*}"
        done
        mod_paths+=("$path")
    }
    for f in "${HOST_MODULES[@]}"; do
        add_module "$f"
    done

    mkdir -p -- "$stage"/{bin,dev,proc,sys,run,tmp,root,mnt,var/log,var/lib,etc} \
        "$stage/$moddir" "$stage/usr/bin" "$stage/usr/sbin" "$stage/usr/local/bin"
    chmod 1777 "$stage/tmp"
    ln -s bin "$stage/sbin"
    cp -- "$bb" "$stage/bin/busybox"
    while IFS= read -r applet; do
        [[ -n "$applet" && "$applet" != busybox && "$applet" != */* ]] || continue
        ln -s busybox "$stage/bin/$applet"
    done < <("$bb" --list)
    for f in "${mod_paths[@]}"; do
        mkdir -p -- "$stage/$moddir/$(dirname -- "$f")"
        cp -- "$kroot/$moddir/$f" "$stage/$moddir/$f"
    done
    for f in modules.builtin modules.builtin.modinfo modules.order; do
        [[ ! -e "$kroot/$moddir/$f" ]] || cp -- "$kroot/$moddir/$f" "$stage/$moddir/"
    done
    kdepmod -b "$stage" "$kver"

    # kmod where Debian's usrmerged layout would find it first on PATH
    cp -- "$kmroot/bin/kmod" "$stage/usr/bin/kmod"
    mkdir -p -- "$stage/usr/lib/x86_64-linux-gnu" "$stage/lib/modprobe.d" "$stage/etc/modprobe.d"
    cp -L -- "$kmroot/usr/lib/x86_64-linux-gnu/libkmod.so.2" "$stage/usr/lib/x86_64-linux-gnu/"
    cp -- "$kmroot/lib/modprobe.d/"*.conf "$stage/lib/modprobe.d/" 2>/dev/null || true
    for f in modprobe insmod rmmod lsmod modinfo depmod; do
        ln -s ../bin/kmod "$stage/usr/sbin/$f"
    done

    # vmctl-qemu: the user vmctl runs QEMU as (busybox has no useradd).
    printf 'root:x:0:0:root:/root:/bin/sh\nvmctl-qemu:x:990:990:vmctl QEMU processes:/nonexistent:/bin/false\n' >"$stage/etc/passwd"
    printf 'root:x:0:\nvmctl-qemu:x:990:\n' >"$stage/etc/group"
    printf 'vfio-host\n' >"$stage/etc/hostname"
    : >"$stage/etc/fstab"

    cat >"$stage/init" <<'EOF'
#!/bin/sh
# The GPU-host guest's PID 1 (busybox ash): mount, run /test/main, power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=linux
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
hostname -F /etc/hostname
ip link set lo up
echo "vfio-host: booted $(uname -r)"
if [ -x /test/main ]; then
    /test/main
    echo "vfio-host: /test/main exited $?"
else
    echo "vfio-host: no /test/main; shell on the console (exit powers off)"
    setsid -c /bin/sh
fi
sync
poweroff -f
while :; do sleep 3600; done
EOF
    chmod 0755 "$stage/init"

    make_cpio "$stage" "$bb" | gzip -6 -n >"$WORK/base.cpio.gz"
    pad_to_block "$WORK/base.cpio.gz"
    cp -- "${vmlinuz[0]}" "$WORK/vmlinuz"
    cp -- "$bb" "$WORK/busybox"
    rm -f -- "$WORK/kmod-out/depmod"
    {
        printf 'kernel   %s %s (%s)\n' "$kpkg" "$kpkg_ver" "$kver"
        printf 'busybox  %s %s\n' "$BUSYBOX_PKG" "$(dpkg-deb -f "$bb_deb" Version)"
        printf 'kmod     %s %s (modprobe & co. in /usr/sbin)\n' "${KMOD_PKGS[0]}" \
            "$(dpkg-deb -f "$(deb_of "$dl" "${KMOD_PKGS[0]}")" Version)"
        printf 'modules  %s\n' "${mod_paths[*]}"
    } >"$WORK/base.txt"

    # Replace the part: drop its stamp first, so a crash leaves it incomplete.
    rm -f -- "$OUTDIR/.inputs-base"
    for f in vmlinuz base.cpio.gz busybox base.txt; do
        mv -f -- "$WORK/$f" "$OUTDIR/$f"
    done
    rm -rf -- "$OUTDIR/kmod"
    mv -- "$WORK/kmod-out" "$OUTDIR/kmod"
    printf '%s\n' "$BASE_INPUTS" >"$OUTDIR/.inputs-base"
    log "built the base part (kernel $kver, $(stat -c %s "$OUTDIR/base.cpio.gz") bytes)"
}

if [[ "${VMCTL_VFIO_HOST_FORCE:-0}" == 1 ]] || ! base_complete ||
    [[ "$(cat -- "$OUTDIR/.inputs-base")" != "$BASE_INPUTS" ]]; then
    build_base
else
    log "base part up to date"
fi

# ------------------------------------------------------------- runtime part

# Every file the runtime part carries, one absolute path a line.
runtime_files() {
    local bin lib g f
    local bins=("$QEMU_BIN" "$TCG_MODULE" "$TMUX_BIN" "$OUTDIR/kmod/kmod")
    [[ -z "$VMCTL_BIN" ]] || bins+=("$VMCTL_BIN")
    for bin in "${bins[@]}"; do
        [[ -e "$bin" ]] || die "$bin not found"
        case $bin in
        "$VMCTL_BIN"|"$OUTDIR"/*) ;;   # their own parts carry these
        *) printf '%s\n' "$bin" ;;
        esac
        # "libfoo.so => /lib/.../libfoo.so (0x...)" and the loader's own line
        while IFS= read -r lib; do
            case $lib in ""|"$OUTDIR"/*) continue ;; esac
            printf '%s\n' "$lib"
        done < <(LD_LIBRARY_PATH=$OUTDIR/kmod ldd "$bin" |
                 awk '$2 == "=>" && $3 ~ /^\// { print $3 }
                      $1 ~ /^\// { print $1 }')
    done
    for g in "${QEMU_DATA_GLOBS[@]}"; do
        for f in $g; do
            [[ -e "$f" ]] && printf '%s\n' "$f"
        done
    done
    for g in "${TERMINFO[@]}"; do
        for f in /lib/terminfo/$g /usr/share/terminfo/$g; do
            [[ -e "$f" ]] && printf '%s\n' "$f"
        done
    done
    [[ ! -e /usr/share/misc/pci.ids ]] || printf '%s\n' /usr/share/misc/pci.ids
    # tmux refuses to start without a UTF-8 locale; it tries C.UTF-8 itself.
    [[ ! -d /usr/lib/locale/C.utf8 ]] || find /usr/lib/locale/C.utf8 -type f
}

RUNTIME_LIST=$(runtime_files | LC_ALL=C sort -u)
RUNTIME_INPUTS=$(
    printf 'script-sha256=%s\n' "$SCRIPT_HASH"
    while IFS= read -r f; do
        stat -L -c '%n %s %Y' -- "$f"
    done <<<"$RUNTIME_LIST"
)

runtime_complete() {
    [[ -s "$OUTDIR/runtime.cpio" && -s "$OUTDIR/.inputs-runtime" ]]
}

build_runtime() {
    local stage=$WORK/runtime f
    mkdir -p -- "$stage"
    while IFS= read -r f; do
        install_file "$f" "$stage"
    done <<<"$RUNTIME_LIST"
    # QEMU finds its data relative to its binary, /usr/bin/../share/qemu:
    # the binary must sit in /usr/bin.
    if [[ "$QEMU_BIN" != /usr/bin/qemu-system-x86_64 ]]; then
        mkdir -p -- "$stage/usr/bin"
        mv -- "$stage$QEMU_BIN" "$stage/usr/bin/qemu-system-x86_64"
    fi
    # The loader finds the libraries in Debian's default multiarch dirs.
    make_cpio "$stage" "$OUTDIR/busybox" >"$WORK/runtime.cpio"
    pad_to_block "$WORK/runtime.cpio"
    rm -f -- "$OUTDIR/.inputs-runtime"
    mv -f -- "$WORK/runtime.cpio" "$OUTDIR/runtime.cpio"
    printf '%s\n' "$RUNTIME_INPUTS" >"$OUTDIR/.inputs-runtime"
    log "built the runtime part ($(wc -l <<<"$RUNTIME_LIST") files, $(stat -c %s "$OUTDIR/runtime.cpio") bytes)"
}

if [[ "${VMCTL_VFIO_HOST_FORCE:-0}" == 1 ]] || ! runtime_complete ||
    [[ "$(cat -- "$OUTDIR/.inputs-runtime")" != "$RUNTIME_INPUTS" ]]; then
    build_runtime
else
    log "runtime part up to date"
fi

cat >"$OUTDIR/README" <<EOF
vmctl VFIO test: the "GPU host" guest
=====================================

Built by scripts/build-vfio-host.sh (see its header). Nothing was installed
on the build host.

$(cat -- "$OUTDIR/base.txt" 2>/dev/null)
runtime  $(wc -l <<<"$RUNTIME_LIST") files: $QEMU_BIN, $TCG_MODULE, $TMUX_BIN,
         SeaBIOS/option ROMs, terminfo, pci.ids, and the shared libraries of
         these${VMCTL_BIN:+ and of $VMCTL_BIN}

Boot (append your own cpio with /test/main and vmctl):
  cat base.cpio.gz runtime.cpio mine.cpio > initrd
  qemu-system-x86_64 -machine q35,accel=tcg,kernel-irqchip=split \\
    -cpu max,vendor=GenuineIntel -m 2G -smp 2 -nodefaults -display none \\
    -device intel-iommu,intremap=on,caching-mode=on \\
    -device pcie-root-port,id=rp1,bus=pcie.0,chassis=1 \\
    -device virtio-gpu-pci,bus=rp1,addr=00.0,multifunction=on \\
    -device ich9-intel-hda,bus=rp1,addr=00.1 \\
    -kernel vmlinuz -initrd initrd -serial file:serial.log -no-reboot \\
    -append 'console=ttyS0 intel_iommu=on iommu=pt panic=-1'
EOF

printf '%s\n%s\n%s\n' "$OUTDIR/vmlinuz" "$OUTDIR/base.cpio.gz" "$OUTDIR/runtime.cpio"
