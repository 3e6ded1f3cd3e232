#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A port taken behind vmctl's back: sockets bound but not listening are
# not in the kernel's listener table that vmctl reads, so vmctl picks
# 2222 and 5900 and QEMU's bind fails.  With ports left to vmctl it must
# pick again and start; with a fixed port it must fail with QEMU's words.
TEST_NAME=port-retry
. "$(dirname "$0")/lib.sh"
need qemu-system-x86_64 tmux python3

GUEST=$(guest_dir) || skip "cannot build the test guest"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-ports.XXXXXX")
export VMCTL_STATE_DIR="$TMP/state" VMCTL_TMUX_SOCKET="vmctl-test-ports-$$"
HOLDER=
cleanup() {
	local rc=$?
	set +e
	tmux -L "$VMCTL_TMUX_SOCKET" kill-server 2>/dev/null
	[ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT

# Hold the first ports vmctl would pick, bound but not listening.
python3 - "$TMP/held" <<'PY' &
import socket, sys, time
held = []
for port in range(2222, 2240):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    held.append(s)
    break
for port in range(5900, 5920):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    held.append(s)
    break
open(sys.argv[1], "w").write(" ".join(str(s.getsockname()[1]) for s in held) + "\n")
time.sleep(120)
PY
HOLDER=$!
wait_for 10 test -s "$TMP/held" || fail "could not hold the ports"
read -r ssh_held vnc_held < "$TMP/held"

spec() {
	cat <<YAML
name: $1
memory: 256M
accel: tcg
kernel: {image: $GUEST/vmlinuz, initrd: $GUEST/initrd.img,
         cmdline: console=ttyS0 panic=-1 no_timer_check}
network: {ssh_listen: 127.0.0.1$2}
vnc: {listen: 127.0.0.1}
YAML
}
spec auto "" > "$TMP/auto.yaml"
spec fixed ", ssh_port: $ssh_held" > "$TMP/fixed.yaml"

"$VMCTL" create "$TMP/auto.yaml" >/dev/null || fail "create with automatic ports"
json=$("$VMCTL" status auto --json)
python3 - "$json" "$ssh_held" "$vnc_held" <<'PY' || fail "ports not re-picked: $json"
import json, sys
vm, ssh_held, vnc_held = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
assert vm["state"] == "running", vm["state"]
assert vm["ssh_port"] != ssh_held, vm["ssh_port"]
assert vm["vnc"]["port"] != vnc_held, vm["vnc"]["port"]
PY
say "ports $ssh_held and $vnc_held were taken: re-picked, VM running"

if "$VMCTL" create "$TMP/fixed.yaml" 2>"$TMP/err"; then
	fail "a fixed port in use was accepted"
fi
grep -q "Could not set up host forwarding rule" "$TMP/err" ||
	fail "not QEMU's words: $(cat "$TMP/err")"
[ ! -d "$VMCTL_STATE_DIR/vms/fixed" ] || fail "the failed create left its dir"
say "a fixed port in use fails with QEMU's message"
"$VMCTL" destroy --force auto >/dev/null
