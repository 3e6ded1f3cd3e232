#!/usr/bin/env bash
# guest-smoke.sh - smoke test for the vmctl integration-test guest.
#
# Builds (or reuses) the guest with scripts/build-test-guest.sh, boots it
# under QEMU/TCG and checks that:
#   1. QMP system_powerdown makes the guest power off and QEMU exit by itself;
#   2. with vmctl.ignore_powerbutton=1 the guest ignores system_powerdown
#      (QEMU keeps running) and QMP quit stops QEMU.
#
# Exit status: 0 pass, 1 fail, 77 skipped (missing prerequisite).
#
# Environment:
#   QEMU                 QEMU binary (default qemu-system-x86_64)
#   VMCTL_TEST_CACHE     passed through to build-test-guest.sh
#   VMCTL_TEST_GUEST_DIR use/build the guest in this directory instead
#   QMP_CLIENT           socat or python3 (default: socat if installed)
#   BOOT_TIMEOUT         seconds to wait for "ready" (default 180)

set -euo pipefail

readonly SKIP=77
QEMU=${QEMU:-qemu-system-x86_64}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-180}
POWERDOWN_TIMEOUT=60   # QEMU must exit by itself within this after powerdown
IGNORE_WINDOW=10       # ... and must NOT exit within this when ignoring
QUIT_TIMEOUT=30
POLL=0.1

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd -- "$HERE/../.." && pwd -P)
BUILD=$ROOT/scripts/build-test-guest.sh

say()  { printf 'guest-smoke: %s\n' "$*"; }
skip() { say "SKIP: $*"; exit "$SKIP"; }

if ! command -v "$QEMU" >/dev/null 2>&1; then
    skip "$QEMU not found"
fi
if [[ -n "${QMP_CLIENT:-}" ]]; then
    case "$QMP_CLIENT" in
        socat|python3) command -v "$QMP_CLIENT" >/dev/null 2>&1 || skip "$QMP_CLIENT not found" ;;
        *) say "QMP_CLIENT must be socat or python3"; exit 1 ;;
    esac
elif command -v socat >/dev/null 2>&1; then
    QMP_CLIENT=socat
elif command -v python3 >/dev/null 2>&1; then
    QMP_CLIENT=python3
else
    skip "need socat or python3 to talk QMP"
fi
[[ -x "$BUILD" ]] || skip "$BUILD not found"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-guest-smoke.XXXXXX")
VM_PIDS=()          # pids of the `timeout qemu ...` wrappers
VM_PIDFILES=()      # QEMU's own -pidfile files

# shellcheck disable=SC2317  # invoked via trap
cleanup() {
    local rc=$? i pid qpid
    for i in "${!VM_PIDS[@]}"; do
        pid=${VM_PIDS[$i]}
        qpid=""
        [[ -s "${VM_PIDFILES[$i]}" ]] && qpid=$(cat -- "${VM_PIDFILES[$i]}" 2>/dev/null || true)
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true   # timeout forwards it
            for _ in 1 2 3 4 5 6 7 8 9 10; do
                kill -0 "$pid" 2>/dev/null || break
                sleep "$POLL"
            done
        fi
        if [[ -n "$qpid" ]] && kill -0 "$qpid" 2>/dev/null &&
            [[ "$(cat "/proc/$qpid/comm" 2>/dev/null)" == qemu* ]]; then
            kill -KILL "$qpid" 2>/dev/null || true
        fi
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf -- "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
    say "FAIL: $*"
    if [[ -n "${CUR_LOG:-}" && -f "$CUR_LOG" ]]; then
        say "---- last lines of $(basename -- "$CUR_LOG") ----"
        tail -n 30 -- "$CUR_LOG" | sed 's/^/  | /'
    fi
    exit 1
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ------------------------------------------------------------------ QMP
# qmp SOCK CMD... : connect, negotiate capabilities, run each command
# (no arguments) and wait for its "return"; events are skipped.
qmp() {
    local sock=$1
    shift
    case "$QMP_CLIENT" in
        socat)   qmp_socat "$sock" "$@" ;;
        python3) qmp_python "$sock" "$@" ;;
    esac
}

qmp_socat() {
    local sock=$1 line cmd ok
    shift
    coproc QMPC { exec socat - "UNIX-CONNECT:$sock" 2>/dev/null; }
    local in=${QMPC[0]} out=${QMPC[1]} cpid=$QMPC_PID
    if ! IFS= read -r -t 10 -u "$in" line || [[ "$line" != *'"QMP"'* ]]; then
        kill "$cpid" 2>/dev/null || true
        wait "$cpid" 2>/dev/null || true
        return 1
    fi
    ok=1
    for cmd in qmp_capabilities "$@"; do
        printf '{"execute": "%s"}\n' "$cmd" >&"$out"
        ok=0
        while IFS= read -r -t 10 -u "$in" line; do
            case "$line" in
                *'"return"'*) ok=1; break ;;
                *'"error"'*)  say "QMP $cmd: $line"; break ;;
            esac
        done
        # QEMU may close the socket on quit before we see the reply.
        [[ $ok -eq 1 || "$cmd" != quit ]] || ok=1
        [[ $ok -eq 1 ]] || break
    done
    exec {out}>&-
    kill "$cpid" 2>/dev/null || true
    wait "$cpid" 2>/dev/null || true
    [[ $ok -eq 1 ]]
}

qmp_python() {
    python3 - "$@" <<'EOF'
import json, socket, sys
sock, cmds = sys.argv[1], ["qmp_capabilities"] + sys.argv[2:]
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sock)
f = s.makefile("rw")
if "QMP" not in json.loads(f.readline()):
    sys.exit(1)
for cmd in cmds:
    f.write(json.dumps({"execute": cmd}) + "\n")
    f.flush()
    while True:
        line = f.readline()
        if not line:
            # QEMU may close the socket on quit before we see the reply.
            sys.exit(0 if cmd == "quit" else 1)
        msg = json.loads(line)
        if "return" in msg:
            break
        if "error" in msg:
            print("QMP %s: %s" % (cmd, msg["error"]), file=sys.stderr)
            sys.exit(1)
EOF
}

# ------------------------------------------------------------------ VM
# start_vm NAME APPEND : boots the guest in the background; sets VM_PID,
# CUR_LOG, CUR_SOCK.
start_vm() {
    local name=$1 append=$2
    CUR_LOG=$TMP/$name.log
    CUR_SOCK=$TMP/$name.qmp
    local pidfile=$TMP/$name.pid
    : >"$CUR_LOG"
    timeout -k 5 600 "$QEMU" \
        -machine q35,accel=tcg -m 256 -nodefaults -display none \
        -kernel "$VMLINUZ" -initrd "$INITRD" -append "$append" \
        -serial "file:$CUR_LOG" \
        -qmp "unix:$CUR_SOCK,server=on,wait=off" \
        -pidfile "$pidfile" \
        -no-reboot </dev/null >"$TMP/$name.stderr" 2>&1 &
    VM_PID=$!
    VM_PIDS+=("$VM_PID")
    VM_PIDFILES+=("$pidfile")
    VM_START=$(now)
}

vm_alive() { kill -0 "$VM_PID" 2>/dev/null; }

# wait_exit SECONDS : 0 if QEMU exited within SECONDS (status in VM_RC).
wait_exit() {
    local deadline
    deadline=$(awk -v t="$1" -v n="$(now)" 'BEGIN { printf "%.3f", n + t }')
    while vm_alive; do
        if awk -v d="$deadline" -v n="$(now)" 'BEGIN { exit !(n >= d) }'; then
            return 1
        fi
        sleep "$POLL"
    done
    VM_RC=0
    wait "$VM_PID" || VM_RC=$?
    return 0
}

wait_ready() {
    local deadline
    deadline=$(awk -v t="$BOOT_TIMEOUT" -v n="$(now)" 'BEGIN { printf "%.3f", n + t }')
    until grep -q '^vmctl-test-guest: ready' "$CUR_LOG"; do
        if grep -q '^vmctl-test-guest: error' "$CUR_LOG"; then
            fail "guest reported an error"
        fi
        if ! vm_alive; then
            sed 's/^/  qemu: /' "$TMP"/*.stderr >&2 || true
            fail "QEMU exited before the guest was ready"
        fi
        if awk -v d="$deadline" -v n="$(now)" 'BEGIN { exit !(n >= d) }'; then
            fail "guest not ready within ${BOOT_TIMEOUT}s"
        fi
        sleep "$POLL"
    done
    grep -q '^vmctl-test-guest: booted' "$CUR_LOG" || fail "no 'booted' line"
    say "guest ready after $(elapsed "$VM_START")s"
    # The QMP socket is created before the guest starts; make sure.
    [[ -S "$CUR_SOCK" ]] || fail "no QMP socket $CUR_SOCK"
}

# ------------------------------------------------------------------ build
say "building/reusing the test guest"
build_args=()
[[ -n "${VMCTL_TEST_GUEST_DIR:-}" ]] && build_args=("$VMCTL_TEST_GUEST_DIR")
if ! paths=$("$BUILD" "${build_args[@]}"); then
    fail "build-test-guest.sh failed"
fi
VMLINUZ=$(sed -n 1p <<<"$paths")
INITRD=$(sed -n 2p <<<"$paths")
[[ -s "$VMLINUZ" && -s "$INITRD" ]] || fail "guest build did not produce vmlinuz/initrd.img"
say "kernel $VMLINUZ, initrd $INITRD ($(stat -c %s "$INITRD") bytes), QMP via $QMP_CLIENT"

# ------------------------------------------------------------------ 1: powerdown
say "case 1: system_powerdown -> guest powers off, QEMU exits by itself"
start_vm powerdown 'console=ttyS0 panic=-1 no_timer_check'
wait_ready
t0=$(now)
qmp "$CUR_SOCK" system_powerdown || fail "QMP system_powerdown failed"
wait_exit "$POWERDOWN_TIMEOUT" ||
    fail "QEMU still running ${POWERDOWN_TIMEOUT}s after system_powerdown"
[[ $VM_RC -eq 0 ]] || fail "QEMU exited with status $VM_RC"
grep -q '^vmctl-test-guest: power button, powering off' "$CUR_LOG" ||
    fail "guest did not report the power button"
say "QEMU exited (status 0) $(elapsed "$t0")s after system_powerdown"

# ------------------------------------------------------------------ 2: ignore
say "case 2: vmctl.ignore_powerbutton=1 -> powerdown ignored, quit works"
start_vm ignore 'console=ttyS0 panic=-1 no_timer_check vmctl.ignore_powerbutton=1'
wait_ready
grep -q 'ignoring the power button' "$CUR_LOG" ||
    fail "guest did not acknowledge vmctl.ignore_powerbutton=1"
qmp "$CUR_SOCK" system_powerdown || fail "QMP system_powerdown failed"
if wait_exit "$IGNORE_WINDOW"; then
    fail "QEMU exited (status $VM_RC) although the guest should ignore the power button"
fi
if grep -q 'power button, powering off' "$CUR_LOG"; then
    fail "guest reacted to the power button"
fi
say "still running ${IGNORE_WINDOW}s after system_powerdown (good)"
t0=$(now)
qmp "$CUR_SOCK" quit || fail "QMP quit failed"
wait_exit "$QUIT_TIMEOUT" || fail "QEMU still running ${QUIT_TIMEOUT}s after QMP quit"
say "QEMU exited (status $VM_RC) $(elapsed "$t0")s after quit"

CUR_LOG=""
say "PASS"
exit 0
