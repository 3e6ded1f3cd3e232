#!/usr/bin/env bash
# cloud-image-smoke.sh - smoke test for the Debian 12 cloud test image.
#
# Builds (or reuses) the image with scripts/build-cloud-image.sh, writes a
# NoCloud seed (ISO 9660, volume label "cidata") whose user-data creates
# user "vmadmin" with a freshly generated SSH key, boots the image under
# QEMU/TCG through a qcow2 overlay (the cached image is never written),
# waits for the SSH banner on a forwarded loopback port, then checks over
# SSH that `cloud-init status --wait` prints "status: done" and that the
# root filesystem was grown to the overlay's size; finally powers the guest
# off (sudo poweroff, falling back to QMP quit, then SIGKILL).
#
# Exit status: 0 pass, 1 fail, 77 skipped (missing prerequisite).
#
# Prerequisites: qemu-system-x86_64, qemu-img, ssh, ssh-keygen, and an ISO
# writer: genisoimage (Debian package "genisoimage") or xorriso (package
# "xorriso"). Building the image (no cached build) needs root and
# debootstrap; see scripts/build-cloud-image.sh.
#
# Environment:
#   QEMU                 QEMU binary (default qemu-system-x86_64)
#   VMCTL_TEST_CACHE     passed through to build-cloud-image.sh
#   VMCTL_CLOUD_IMAGE_DIR  use/build the image in this directory instead
#   BOOT_TIMEOUT         seconds to wait for the SSH banner (default 300)
#   CLOUD_INIT_TIMEOUT   seconds for `cloud-init status --wait` (default 300)
#   KEEP_SERIAL          set to a path to keep the guest's serial log there

set -euo pipefail

readonly SKIP=77
QEMU=${QEMU:-qemu-system-x86_64}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
CLOUD_INIT_TIMEOUT=${CLOUD_INIT_TIMEOUT:-300}
POWEROFF_TIMEOUT=90
DISK_SIZE=4G        # overlay size; the image's fs is 2G, resizefs grows it

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd -- "$HERE/../.." && pwd -P)
BUILD=$ROOT/scripts/build-cloud-image.sh
IMAGE_DIR=${VMCTL_CLOUD_IMAGE_DIR:-${VMCTL_TEST_CACHE:-/var/cache/vmctl-test}/cloud}

say()  { printf 'cloud-image-smoke: %s\n' "$*"; }
skip() { say "SKIP: $*"; exit "$SKIP"; }

for tool in "$QEMU" qemu-img ssh ssh-keygen timeout; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool not found"
done
if command -v genisoimage >/dev/null 2>&1; then
    mkiso() { genisoimage -quiet -output "$1" -volid cidata -joliet -rock "${@:2}"; }
elif command -v xorriso >/dev/null 2>&1; then
    mkiso() { xorriso -as mkisofs -quiet -output "$1" -volid cidata -joliet -rock "${@:2}" 2>/dev/null; }
else
    skip "need genisoimage (apt-get install genisoimage) or xorriso (apt-get install xorriso) for the NoCloud seed ISO"
fi
[[ -x "$BUILD" ]] || skip "$BUILD not found"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-cloud-smoke.XXXXXX")
QEMU_PID=""

# qmp_quit SOCKET: send QMP "quit" (python3 or socat; best effort).
qmp_quit() {
    [[ -S "$1" ]] || return 1
    if command -v python3 >/dev/null 2>&1; then
        timeout 10 python3 - "$1" <<'PY' >/dev/null 2>&1
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.readline()
for cmd in ("qmp_capabilities", "quit"):
    f.write(json.dumps({"execute": cmd}) + "\n")
    f.flush()
    f.readline()
PY
    elif command -v socat >/dev/null 2>&1; then
        printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"quit"}' |
            timeout 10 socat -T 5 - "UNIX-CONNECT:$1" >/dev/null 2>&1
    else
        return 1
    fi
}

# wait_exit PID SECONDS: wait for a child to exit.
wait_exit() {
    local deadline=$((SECONDS + $2))
    while kill -0 "$1" 2>/dev/null; do
        [[ $SECONDS -lt $deadline ]] || return 1
        sleep 0.5
    done
}

# shellcheck disable=SC2317  # invoked via trap
cleanup() {
    local rc=$?
    set +e
    trap - EXIT
    if [[ -n "$QEMU_PID" ]] && kill -0 "$QEMU_PID" 2>/dev/null; then
        qmp_quit "$TMP/qmp.sock"
        wait_exit "$QEMU_PID" 10 || kill -KILL "$QEMU_PID" 2>/dev/null
    fi
    [[ -z "$QEMU_PID" ]] || wait "$QEMU_PID" 2>/dev/null
    if [[ $rc -ne 0 && $rc -ne $SKIP && -s "$TMP/serial.log" ]]; then
        say "last lines of the serial console:"
        tail -n 40 -- "$TMP/serial.log" | sed 's/^/  | /'
    fi
    [[ -z "${KEEP_SERIAL:-}" || ! -f "$TMP/serial.log" ]] ||
        cp -- "$TMP/serial.log" "$KEEP_SERIAL"
    rm -rf -- "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() { say "FAIL: $*"; exit 1; }

# ------------------------------------------------------------ the image
if [[ $EUID -ne 0 ]] && ! [[ -s "$IMAGE_DIR/debian-12-test.qcow2" ]]; then
    skip "no cached image in $IMAGE_DIR and building one needs root"
fi
if [[ $EUID -eq 0 ]] && ! command -v debootstrap >/dev/null 2>&1 &&
    ! [[ -s "$IMAGE_DIR/debian-12-test.qcow2" ]]; then
    skip "no cached image in $IMAGE_DIR and debootstrap is not installed"
fi
t0=$SECONDS
"$BUILD" "$IMAGE_DIR" >/dev/null || fail "build-cloud-image.sh failed"
say "image ready in $((SECONDS - t0)) s: $IMAGE_DIR"
IMAGE=$IMAGE_DIR/debian-12-test.qcow2
(cd -- "$IMAGE_DIR" && sha256sum --quiet -c SHA256SUMS) ||
    fail "SHA256SUMS does not match $IMAGE"

# ------------------------------------------------------------ seed + overlay
ssh-keygen -q -t ed25519 -N '' -C vmctl-cloud-smoke -f "$TMP/id_ed25519"
mkdir -p -- "$TMP/seed"
cat >"$TMP/seed/user-data" <<EOF
#cloud-config
users:
  - name: vmadmin
    shell: /bin/bash
    lock_passwd: true
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    ssh_authorized_keys:
      - $(cat -- "$TMP/id_ed25519.pub")
EOF
cat >"$TMP/seed/meta-data" <<EOF
instance-id: vmctl-cloud-smoke-$$-$RANDOM
local-hostname: vmctl-cloud-smoke
EOF
mkiso "$TMP/seed.iso" "$TMP/seed/user-data" "$TMP/seed/meta-data" ||
    fail "cannot write the seed ISO"
qemu-img create -q -f qcow2 -F qcow2 -b "$IMAGE" "$TMP/disk.qcow2" "$DISK_SIZE" ||
    fail "cannot create the overlay"

# ------------------------------------------------------------ boot
port_free() {
    # Something listening (on loopback) => not free.
    ! timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

start_qemu() {
    # -nodefaults: no default NIC/VGA/cdrom; the seed is a virtio disk
    # because the Debian cloud kernel has no AHCI driver (q35 -cdrom would
    # be invisible to it).
    "$QEMU" -name vmctl-cloud-smoke \
        -machine q35,accel=tcg -smp 2 -m 1G \
        -nodefaults -display none -no-user-config \
        -serial "file:$TMP/serial.log" \
        -qmp "unix:$TMP/qmp.sock,server=on,wait=off" \
        -kernel "$IMAGE_DIR/vmlinuz" -initrd "$IMAGE_DIR/initrd.img" \
        -append 'root=/dev/vda rw console=ttyS0' \
        -drive "file=$TMP/disk.qcow2,if=virtio,format=qcow2" \
        -drive "file=$TMP/seed.iso,if=virtio,format=raw,readonly=on" \
        -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$PORT-:22" \
        -device virtio-net-pci,netdev=n0 \
        </dev/null >"$TMP/qemu.log" 2>&1 &
    QEMU_PID=$!
}

PORT=""
for _ in 1 2 3 4 5; do
    p=$((20000 + RANDOM % 40000))
    port_free "$p" || continue
    PORT=$p
    start_qemu
    sleep 1
    if kill -0 "$QEMU_PID" 2>/dev/null; then
        break
    fi
    wait "$QEMU_PID" 2>/dev/null || true
    QEMU_PID=""
    if grep -qi 'forward' "$TMP/qemu.log"; then
        say "port $PORT taken, retrying"
        PORT=""
        continue
    fi
    fail "QEMU exited at once: $(cat -- "$TMP/qemu.log")"
done
[[ -n "$PORT" && -n "$QEMU_PID" ]] || fail "could not start QEMU on a free port"
boot_start=$SECONDS
say "QEMU pid $QEMU_PID, ssh on 127.0.0.1:$PORT"

# The SSH banner ("SSH-2.0-..."): QEMU's user network accepts the TCP
# connection even while nothing listens in the guest, so a connect alone
# proves nothing.
ssh_banner() {
    # shellcheck disable=SC2016  # expanded by the inner bash
    timeout 10 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        IFS= read -r -t 8 line <&3 || exit 1
        [[ "$line" == SSH-* ]]' _ "$1" 2>/dev/null
}

deadline=$((SECONDS + BOOT_TIMEOUT))
until ssh_banner "$PORT"; do
    kill -0 "$QEMU_PID" 2>/dev/null || fail "QEMU exited during boot: $(cat -- "$TMP/qemu.log")"
    [[ $SECONDS -lt $deadline ]] || fail "no SSH banner within $BOOT_TIMEOUT s"
    sleep 2
done
ssh_secs=$((SECONDS - boot_start))
say "SSH banner after $ssh_secs s (TCG)"

# Throwaway smoke test of the image: the host key is NOT checked here
# (StrictHostKeyChecking=no, no known_hosts). vmctl itself pins the host
# keys it injects through cloud-init; do not copy these options there.
SSH=(ssh -i "$TMP/id_ed25519" -p "$PORT"
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
    -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR
    -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=20
    -o ServerAliveInterval=15 -o ServerAliveCountMax=4
    vmadmin@127.0.0.1)

# sshd starts after cloud-init created the user, but allow a few retries
# for a slow guest.
status=""
for attempt in 1 2 3 4 5; do
    if status=$(timeout "$CLOUD_INIT_TIMEOUT" "${SSH[@]}" cloud-init status --wait 2>"$TMP/ssh.err"); then
        break
    fi
    # cloud-init status exits 1 on "status: error"; that is a result.
    [[ "$status" == *"status:"* ]] && break
    [[ $attempt -lt 5 ]] || fail "ssh failed: $(cat -- "$TMP/ssh.err")"
    sleep 5
done
done_secs=$((SECONDS - boot_start))
status=$(printf '%s\n' "$status" | grep '^status:' | tail -n1 || true)
say "cloud-init: '$status' after $done_secs s"
if [[ "$status" != "status: done" ]]; then
    timeout 60 "${SSH[@]}" 'cloud-init status --long; sudo grep -iE "WARN|ERROR|Traceback" /var/log/cloud-init.log | tail -n 30' 2>&1 |
        sed 's/^/  | /' || true
    fail "expected 'status: done'"
fi

# resizefs must have grown the whole-disk ext4 to the overlay size.
fs_kb=$(timeout 60 "${SSH[@]}" "df -k --output=size / | tail -n1" 2>/dev/null | tr -d ' ') ||
    fail "df over ssh failed"
[[ "$fs_kb" =~ ^[0-9]+$ ]] || fail "unexpected df output '$fs_kb'"
[[ $fs_kb -gt $((3 * 1024 * 1024)) ]] ||
    fail "root filesystem not grown to the $DISK_SIZE disk (${fs_kb} KiB)"
say "root filesystem: $((fs_kb / 1024)) MiB"

# ------------------------------------------------------------ power off
timeout 30 "${SSH[@]}" 'sudo systemctl poweroff' >/dev/null 2>&1 || true
if wait_exit "$QEMU_PID" "$POWEROFF_TIMEOUT"; then
    say "guest powered off after $((SECONDS - boot_start)) s"
else
    say "guest did not power off within $POWEROFF_TIMEOUT s; QMP quit"
    qmp_quit "$TMP/qmp.sock" || true
    wait_exit "$QEMU_PID" 15 || fail "QEMU did not exit after QMP quit"
fi
wait "$QEMU_PID" 2>/dev/null || true
QEMU_PID=""
say "PASS (SSH after ${ssh_secs} s, cloud-init done after ${done_secs} s)"
