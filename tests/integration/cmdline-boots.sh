#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The argv `vmctl cmdline --json` prints is one real QEMU runs: boot the
# busybox test guest with exactly that argv (TCG), see the guest come up on
# the serial log, the VNC server answer, and QMP power it off.  QEMU writes
# its serial log to fd 3 (vmctl's launcher hands it a pipe there); here it
# is the log file itself.  QEMU keeps this test's user (VMCTL_QEMU_USER=root:
# the user switch is lifecycle-isolation's business).
TEST_NAME=cmdline-boots
. "$(dirname "$0")/lib.sh"
need qemu-system-x86_64 socat jq

GUEST=$(guest_dir) || skip "cannot build the test guest"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-cmdline.XXXXXX")
QPID=
cleanup() {
	[ -n "$QPID" ] && kill -9 "$QPID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# A state dir with a comma and a space: the argv must still be right.
STATE="$TMP/state, dir"
mkdir -p "$STATE/vms/boot-test"
cat > "$TMP/spec.yaml" <<YAML
name: boot-test
memory: 256M
accel: tcg
kernel:
  image: $GUEST/vmlinuz
  initrd: $GUEST/initrd.img
  cmdline: console=ttyS0 panic=-1 no_timer_check
network: {ssh_port: auto, ssh_listen: 127.0.0.1}
vnc: {listen: 127.0.0.1}
YAML

VMCTL_QEMU_USER=root "$VMCTL" --state-dir "$STATE" cmdline --json "$TMP/spec.yaml" > "$TMP/argv.json"
mapfile -t ARGV < <(jq -r '.[]' "$TMP/argv.json")
[ "${#ARGV[@]}" -gt 10 ] || fail "no argv"
display=$(jq -r 'index("-vnc") as $i | .[$i + 1]' "$TMP/argv.json")
display=${display#127.0.0.1:}
port=$((5900 + ${display%%,*}))

LOG="$STATE/vms/boot-test/serial.log"
"${ARGV[@]}" </dev/null >"$TMP/stdout" 2>"$TMP/stderr" 3>>"$LOG" &
QPID=$!
if ! wait_for 120 grep -q 'vmctl-test-guest: ready' "$LOG" 2>/dev/null; then
	cat "$TMP/stderr" "$LOG" 2>/dev/null | tail -n 20
	fail "guest did not boot from the printed argv"
fi
say "guest booted"
banner=$(vnc_banner "$port")
[ "$banner" = "RFB 003.008" ] || fail "VNC on port $port answered '$banner'"
say "VNC answers on $port"
[ -s "$STATE/vms/boot-test/qemu.pid" ] || fail "no pidfile"
[ "$(cat "$STATE/vms/boot-test/qemu.pid")" = "$QPID" ] || fail "pidfile is not QEMU's pid"
qmp "$STATE/vms/boot-test/qmp.sock" system_powerdown >/dev/null
wait_for 60 bash -c "! kill -0 $QPID 2>/dev/null" || fail "QEMU did not exit after powerdown"
wait "$QPID" || fail "QEMU exited with status $?"
QPID=
grep -q 'powering off' "$LOG" || fail "guest did not see the power button"
say "powered off through QMP"
