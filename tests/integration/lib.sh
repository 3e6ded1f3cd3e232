# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for integration tests (sourced, not run).
# Each test: exit 0 pass, 1 fail, 77 skip; never leave a process behind.

set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd -P)
: "${VMCTL:=$ROOT/vmctl}"
SKIP=77

say()  { printf '%s: %s\n' "${TEST_NAME:-test}" "$*"; }
skip() { say "SKIP: $*"; exit "$SKIP"; }
fail() { say "FAIL: $*"; exit 1; }

need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c not installed"
	done
}

# The busybox test guest (kernel + initramfs), built once and cached.
guest_dir() {
	local dir=${VMCTL_TEST_GUEST_DIR:-${VMCTL_TEST_CACHE:-/var/cache/vmctl-test}/guest}
	"$ROOT/scripts/build-test-guest.sh" "$dir" >&2 || return 1
	printf '%s\n' "$dir"
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# qmp SOCKET COMMAND...: run QMP commands (no arguments) in one session
# and print each reply.  (python3: socat's address syntax cannot take a
# path with a comma.)
qmp() {
	python3 - "$@" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rw")
json.loads(f.readline())                      # greeting
for cmd in ["qmp_capabilities"] + sys.argv[2:]:
    f.write(json.dumps({"execute": cmd}) + "\n")
    f.flush()
    while True:
        reply = json.loads(f.readline())
        if "event" not in reply:
            break
    if cmd != "qmp_capabilities":
        print(json.dumps(reply))
PY
}

# The RFB greeting of a VNC server: "RFB 003.008".
vnc_banner() {
	timeout 5 socat -T 3 - "TCP:127.0.0.1:$1" </dev/null 2>/dev/null | head -c 12
}
