#!/usr/bin/env bash
# build-test-guest.sh - build the tiny vmctl integration-test guest.
#
# Usage: scripts/build-test-guest.sh [OUTDIR]
#
# OUTDIR defaults to ${VMCTL_TEST_CACHE:-/var/cache/vmctl-test}/guest and
# receives:
#   vmlinuz      Debian cloud kernel (from linux-image-cloud-amd64's dependency)
#   initrd.img   gzip'd newc cpio: static busybox + /init + button/evdev and
#                virtio balloon modules
#   README       what it is and how it behaves
#   .inputs      cache key (script hash + package versions)
#
# Everything comes from Debian packages fetched with `apt-get download` and
# unpacked with `dpkg-deb -x`; nothing is installed on the host, no root-only
# operations (loop devices, mknod) are needed.
#
# The build is cached: when OUTDIR already holds a complete build whose
# inputs match, the script exits 0 at once. A fresh build is assembled in a
# temporary directory next to OUTDIR and renamed into place.
#
# On success the paths of the kernel and initrd are printed on stdout, one
# per line (vmlinuz first); all diagnostics go to stderr.
#
# Environment:
#   VMCTL_TEST_CACHE   base cache directory (default /var/cache/vmctl-test)
#   VMCTL_GUEST_FORCE  set to 1 to rebuild even if the cache looks valid

set -euo pipefail

readonly KERNEL_META=linux-image-cloud-amd64
readonly BUSYBOX_PKG=busybox-static
# Modules the guest loads at boot, by name; dependencies are added
# automatically. button+evdev: ACPI power button as an input device.
# pvpanic-mmio/pvpanic-pci: optional, report panics to QEMU when the VM has a
# pvpanic device (QMP GUEST_PANICKED); harmless without one.
# virtio_pci+virtio_balloon: the balloon vmctl adds to VMs without a GPU
# (`vmctl balloon`); no other virtio driver is loaded, so the VM's other
# virtio devices (NIC, RNG) stay unbound as before.
readonly GUEST_MODULES=(button evdev pvpanic-mmio pvpanic-pci virtio_pci virtio_balloon)

log() { printf 'build-test-guest: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    printf 'usage: %s [OUTDIR]\n' "${0##*/}" >&2
    exit 2
}

case "${1:-}" in
    -h|--help) usage ;;
esac
[[ $# -le 1 ]] || usage

OUTDIR=${1:-${VMCTL_TEST_CACHE:-/var/cache/vmctl-test}/guest}
OUTDIR=${OUTDIR%/}
[[ -n "$OUTDIR" ]] || die "empty OUTDIR"

for tool in apt-get apt-cache dpkg-deb gzip sha256sum flock; do
    command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' not found"
done

SCRIPT_PATH=$(readlink -f -- "${BASH_SOURCE[0]}")
SCRIPT_HASH=$(sha256sum -- "$SCRIPT_PATH" | cut -d' ' -f1)

# shellcheck source=scripts/lib/debcache.sh
. "$(dirname -- "$SCRIPT_PATH")/lib/debcache.sh"

# Cache key: changes when this script or either package version changes.
compute_inputs() {
    local kv bv
    kv=$(candidate_version "$KERNEL_META")
    bv=$(candidate_version "$BUSYBOX_PKG")
    if [[ -z "$kv" || -z "$bv" ]]; then
        return 1
    fi
    printf 'script-sha256=%s\n%s=%s\n%s=%s\n' \
        "$SCRIPT_HASH" "$KERNEL_META" "$kv" "$BUSYBOX_PKG" "$bv"
}

build_complete() {
    local d=$1
    [[ -s "$d/vmlinuz" && -s "$d/initrd.img" && -s "$d/README" && -s "$d/.inputs" ]]
}

print_paths() {
    printf '%s\n%s\n' "$OUTDIR/vmlinuz" "$OUTDIR/initrd.img"
}

cache_open "$OUTDIR"

if cache_current "${VMCTL_GUEST_FORCE:-0}"; then
    print_paths
    exit 0
fi

WORK=$(mktemp -d -- "$PARENT/.guest-build.XXXXXX")
cleanup() { rm -rf -- "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

DL=$WORK/dl
STAGE=$WORK/stage
NEW=$WORK/out
mkdir -p -- "$DL" "$STAGE" "$NEW"

log "downloading $KERNEL_META and $BUSYBOX_PKG"
apt_download "$DL" "$KERNEL_META" "$BUSYBOX_PKG"
META_DEB=$(deb_of "$DL" "$KERNEL_META")
BB_DEB=$(deb_of "$DL" "$BUSYBOX_PKG")

# The meta package depends on exactly one versioned image package,
# e.g. "linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)".
KPKG=$(dpkg-deb -f "$META_DEB" Depends | tr ',' '\n' |
    sed -n 's/^[[:space:]]*\(linux-image-[^[:space:]|]*-cloud-amd64\).*/\1/p' |
    head -n1)
[[ -n "$KPKG" ]] || die "cannot find the versioned kernel package in $KERNEL_META's Depends"
log "downloading $KPKG"
apt_download "$DL" "$KPKG"
KDEB=$(deb_of "$DL" "$KPKG")

KROOT=$WORK/kernel
BBROOT=$WORK/busybox
dpkg-deb -x "$KDEB" "$KROOT"
dpkg-deb -x "$BB_DEB" "$BBROOT"

BUSYBOX=$BBROOT/bin/busybox
[[ -x "$BUSYBOX" ]] || die "busybox binary missing from $BB_DEB"

shopt -s nullglob
vmlinuz_files=("$KROOT"/boot/vmlinuz-*)
shopt -u nullglob
[[ ${#vmlinuz_files[@]} -eq 1 ]] || die "expected exactly one vmlinuz in $KDEB"
KVER=${vmlinuz_files[0]##*/vmlinuz-}
MODDIR=lib/modules/$KVER
[[ -d "$KROOT/$MODDIR" ]] || die "no $MODDIR in $KDEB"

# The package ships no modules.dep (its postinst runs depmod); generate one
# with busybox's depmod to resolve module dependencies.
"$BUSYBOX" depmod -b "$KROOT" "$KVER"

# Resolve the module list (with dependencies) to paths relative to MODDIR.
declare -A seen=()
mod_paths=()
add_module() {
    local name=$1 line path deps dep
    line=$(grep -E "(^|/)${name//[_-]/[_-]}\.ko(\.[a-z]+)?:" "$KROOT/$MODDIR/modules.dep" | head -n1 || true)
    if [[ -z "$line" ]]; then
        if grep -qE "(^|/)${name//[_-]/[_-]}\.ko" "$KROOT/$MODDIR/modules.builtin"; then
            log "module $name is built in"
            return 0
        fi
        die "module $name not found in $KPKG"
    fi
    path=${line%%:*}
    [[ -z "${seen[$path]:-}" ]] || return 0
    seen[$path]=1
    deps=${line#*:}
    for dep in $deps; do
        dep=${dep##*/}
        add_module "${dep%%.ko*}"
    done
    mod_paths+=("$path")
}
for m in "${GUEST_MODULES[@]}"; do
    add_module "$m"
done

# ---------------------------------------------------------------- initramfs
mkdir -p -- "$STAGE"/{bin,dev,etc/acpi,proc,sys,run,tmp,root,var/log} "$STAGE/$MODDIR"
chmod 1777 "$STAGE/tmp"
ln -s bin "$STAGE/sbin"
mkdir -p -- "$STAGE/usr"
ln -s ../bin "$STAGE/usr/bin"
ln -s ../bin "$STAGE/usr/sbin"
cp -- "$BUSYBOX" "$STAGE/bin/busybox"
while IFS= read -r applet; do
    [[ -n "$applet" && "$applet" != busybox && "$applet" != */* ]] || continue
    ln -s busybox "$STAGE/bin/$applet"
done < <("$BUSYBOX" --list)

for p in "${mod_paths[@]}"; do
    mkdir -p -- "$STAGE/$MODDIR/$(dirname -- "$p")"
    cp -- "$KROOT/$MODDIR/$p" "$STAGE/$MODDIR/$p"
done
cp -- "$KROOT/$MODDIR/modules.builtin" "$STAGE/$MODDIR/"
"$BUSYBOX" depmod -b "$STAGE" "$KVER"
printf '%s\n' "${GUEST_MODULES[@]}" >"$STAGE/etc/modules"

# busybox acpid: the compiled-in map turns the input event EV_KEY/KEY_POWER
# (value 1) into "button/power PWRF 00000080"; this action file maps any
# event containing PWRF to /etc/acpi/power-button, run directly.
cat >"$STAGE/etc/acpid.conf" <<'EOF'
# event-substring  handler (relative to /etc/acpi)
PWRF power-button
EOF

cat >"$STAGE/etc/acpi/power-button" <<'EOF'
#!/bin/sh
# Spawned by busybox acpid on an ACPI power button press.
echo "vmctl-test-guest: power button, powering off" >/dev/console
sync
exec /bin/poweroff -f
EOF

cat >"$STAGE/init" <<'EOF'
#!/bin/sh
# vmctl test guest: PID 1 of the initramfs (busybox ash).
export PATH=/bin
export HOME=/root

# The initramfs has no /dev/console node (it is built without root), so the
# kernel starts us without stdio: mount devtmpfs first, then attach.
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t tmpfs tmpfs /run

say() { echo "vmctl-test-guest: $*"; }

# Setup failed: report it and idle without ever printing "ready".
fatal() {
    say "error: $*"
    while :; do
        sleep 3600 &
        wait
    done
}

say "booted"

ignore=0
crash=""
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        vmctl.ignore_powerbutton=1|vmctl.ignore_powerbutton=y|vmctl.ignore_powerbutton=yes)
            ignore=1 ;;
        vmctl.ignore_powerbutton=*)
            ignore=0 ;;
        vmctl.crash=*)
            crash="${arg#vmctl.crash=}" ;;
    esac
done

while read -r m; do
    [ -n "$m" ] || continue
    modprobe "$m" || say "warning: modprobe $m failed"
done </etc/modules

if [ -n "$crash" ]; then
    case "$crash" in
        *[!0-9]*) say "ignoring invalid vmctl.crash=$crash"; crash="" ;;
    esac
fi
if [ -n "$crash" ]; then
    say "will panic in $crash s (vmctl.crash)"
    (
        sleep "$crash"
        say "triggering kernel panic"
        # Reboot at once on panic unless the cmdline chose a panic= policy;
        # with QEMU -no-reboot that makes QEMU exit.
        if [ "$(cat /proc/sys/kernel/panic)" = 0 ]; then
            echo -1 >/proc/sys/kernel/panic
        fi
        echo c >/proc/sysrq-trigger
    ) &
fi

# Power button input devices (ACPI "Power Button", from button.ko).
pwr_devs=""
for d in /sys/class/input/event*; do
    [ -e "$d/device/name" ] || continue
    if [ "$(cat "$d/device/name")" = "Power Button" ]; then
        pwr_devs="$pwr_devs /dev/input/${d##*/}"
    fi
done

if [ "$ignore" = 1 ]; then
    say "ignoring the power button (vmctl.ignore_powerbutton=1)"
else
    [ -n "$pwr_devs" ] || fatal "no ACPI power button input device found"
    # -d: foreground, log to the console. acpid opens /dev/input/event0..N.
    acpid -d -c /etc/acpi -a /etc/acpid.conf -p /run/acpid.pid &
    acpid_pid=$!
    # Wait (bounded) until acpid has the power button device(s) open, so
    # that "ready" really means a press will be seen.
    i=0
    state=wait
    while [ "$state" = wait ]; do
        missing=""
        for dev in $pwr_devs; do
            found=0
            for fd in /proc/$acpid_pid/fd/*; do
                if [ "$(readlink "$fd" 2>/dev/null)" = "$dev" ]; then
                    found=1
                    break
                fi
            done
            [ "$found" = 1 ] || missing=1
        done
        if [ -z "$missing" ] && [ -e /run/acpid.pid ]; then
            state=ok
        elif ! kill -0 "$acpid_pid" 2>/dev/null; then
            state="acpid exited"
        elif [ "$i" -ge 300 ]; then
            state="acpid did not open the power button within 30 s"
        else
            i=$((i + 1))
            sleep 0.1
        fi
    done
    [ "$state" = ok ] || fatal "$state; the power button will not work"
    say "power button handler: acpid (pid $acpid_pid) on$pwr_devs"
fi

say "ready"

# PID 1 must never exit; keep reaping children.
while :; do
    sleep 3600 &
    wait
done
EOF
chmod 0755 "$STAGE/init" "$STAGE/etc/acpi/power-button"

# Stable archive metadata: fixed mtimes, sorted names, root ownership
# (busybox cpio still records inode numbers, so not bit-reproducible).
find "$STAGE" -exec touch -h -d @0 {} +
(
    cd -- "$STAGE"
    find . -mindepth 1 | LC_ALL=C sort | sed 's|^\./||' |
        "$BUSYBOX" cpio -o -H newc -R 0:0
) | gzip -9 -n >"$NEW/initrd.img"

cp -- "${vmlinuz_files[0]}" "$NEW/vmlinuz"

KPKG_VER=$(dpkg-deb -f "$KDEB" Version)
META_VER=$(dpkg-deb -f "$META_DEB" Version)
BB_VER=$(dpkg-deb -f "$BB_DEB" Version)
INITRD_SIZE=$(stat -c %s "$NEW/initrd.img")

cat >"$NEW/README" <<EOF
vmctl integration-test guest
============================

Built by scripts/build-test-guest.sh from Debian packages only
(nothing was installed on the build host):

  kernel   $KPKG $KPKG_VER (via $KERNEL_META $META_VER), kernel $KVER
  busybox  $BUSYBOX_PKG $BB_VER
  modules  ${mod_paths[*]}
           (loaded at boot from /etc/modules: ${GUEST_MODULES[*]})

Files
  vmlinuz     the Debian cloud kernel image
  initrd.img  gzip'd newc cpio ($INITRD_SIZE bytes): static busybox,
              /init (busybox sh), the modules above, acpid config
  .inputs     cache key (script sha256 + package versions)

Boot it (TCG is fine; x86_64 q35/pc):
  qemu-system-x86_64 -machine q35,accel=tcg -m 256 -nodefaults \\
    -display none -kernel vmlinuz -initrd initrd.img \\
    -append 'console=ttyS0 panic=-1' -serial file:serial.log -no-reboot

Serial console output (ttyS0)
  vmctl-test-guest: booted        /init started (proc/sys/dev mounted)
  vmctl-test-guest: ready         waiting for the power button
  vmctl-test-guest: error: ...    setup failed ("ready" is never printed)
  vmctl-test-guest: power button, powering off
                                  ACPI power button pressed; the guest runs
                                  'poweroff -f' and QEMU exits by itself

Kernel command line switches
  (default)                     power button => clean poweroff
  vmctl.ignore_powerbutton=1    the power button is ignored (acpid is not
                                started); only QMP 'quit' / kill stops it
  vmctl.crash=N                 after N seconds: echo c >/proc/sysrq-trigger
                                (kernel panic). If kernel.panic is 0 it is set
                                to -1 first, so with QEMU -no-reboot QEMU
                                exits; without -no-reboot the guest resets.
                                With a QEMU pvpanic device (-device pvpanic)
                                the pvpanic modules also report the panic to
                                QEMU (QMP event GUEST_PANICKED).

The balloon
  With a virtio-balloon-pci device (vmctl adds one to VMs without a GPU),
  virtio_balloon.ko follows QMP 'balloon' (vmctl balloon NAME SIZE): it
  takes pages from the guest's free memory or gives them back, and QMP
  'query-balloon' reports the guest's RAM left ('actual').

How the power button works
  QMP system_powerdown raises the ACPI fixed power-button event. The cloud
  kernel's ACPI button driver (button.ko, loaded by /init with busybox
  modprobe) turns it into KEY_POWER on an input device named
  "Power Button"; evdev.ko exposes it as /dev/input/eventN. busybox acpid
  reads the input devices; its built-in map turns KEY_POWER into
  "button/power PWRF 00000080", /etc/acpid.conf maps PWRF to
  /etc/acpi/power-button, which prints the message and runs 'poweroff -f'.
  /init prints "ready" only after acpid has the Power Button device open.
EOF

printf '%s\n' "$INPUTS" >"$NEW/.inputs"
chmod 0755 "$NEW"

# Swap into place: rename(2) cannot replace a non-empty directory, so move
# any previous build aside first (under the lock), then drop it.
if [[ -e "$OUTDIR" || -L "$OUTDIR" ]]; then
    OLD=$(mktemp -d -- "$PARENT/.guest-old.XXXXXX")
    mv -T -- "$OUTDIR" "$OLD/old"
    mv -T -- "$NEW" "$OUTDIR"
    rm -rf -- "$OLD"
else
    mv -T -- "$NEW" "$OUTDIR"
fi

log "built $OUTDIR (kernel $KVER, initrd $INITRD_SIZE bytes)"
print_paths
