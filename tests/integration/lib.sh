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

# ---- VFIO on a fake sysfs tree (tests/integration/vfio-fake-*.sh) ---------
#
# fixture_patch SRC DST PATCH [ARG...]: the host description SRC (for
# scripts/gen-sysfs.py) with PATCH applied, written to DST.  PATCH is
# Python over `d` (the description), `fn` (its PCI functions by address,
# "01:00.0") and `args` (the ARGs).
fixture_patch() {
	python3 - "$@" <<'PY'
import json, sys
src, dst, patch, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
d = json.load(open(src))
fn = {}
def walk(items):
    for e in items:
        fn[e["addr"]] = e
        walk(e.get("children", []))
walk(d["devices"])
exec(patch)
json.dump(d, open(dst, "w"))
PY
}

# vf_setup FIXTURE: TMP, a temp dir removed at exit, holding the fake host
# of tests/fixtures/sysfs/FIXTURE.json (SYS: its sysfs) and vmctl's state,
# proc and dev roots (exported), so nothing touches this machine's /sys.
vf_setup() {
	need python3
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-vfio-$1.XXXXXX")
	trap 'rm -rf "$TMP"' EXIT
	python3 "$ROOT/scripts/gen-sysfs.py" "$ROOT/tests/fixtures/sysfs/$1.json" \
		"$TMP/host" >/dev/null
	SYS=$TMP/host/sys
	export VMCTL_STATE_DIR=$TMP/state VMCTL_PROC_ROOT=$TMP/host/proc \
		VMCTL_DEV_ROOT=$TMP/host/dev
}

# vf_nvidia_fns: FNS, the fake host's NVIDIA functions (every function of
# their slots), sorted; fails the test without two.
vf_nvidia_fns() {
	mapfile -t FNS < <("$VMCTL" --sysfs-root "$SYS" gpu list --json | python3 -c '
import json, sys
for g in json.load(sys.stdin):
    if g["vendor_id"] == "10de":
        print(g["address"])
        for f in g.get("functions", []):
            print(f["address"])' | sort -u)
	[ "${#FNS[@]}" -ge 2 ] || fail "no NVIDIA slot in the fixture: ${FNS[*]}"
}

# vf_snapshot: each of FNS with its driver and driver_override.
vf_snapshot() {
	local a
	for a in "${FNS[@]}"; do
		printf '%s %s %s\n' "$a" "$(readlink "$SYS/bus/pci/devices/$a/driver")" \
			"$(od -An -c "$SYS/bus/pci/devices/$a/driver_override" | tr -s ' ')"
	done
}

# ---- lifecycle tests (tests/integration/lifecycle-*.sh) -------------------
#
# lc_setup TAG: a private world for one test, torn down on ANY exit:
#   LC_TMP     a temp dir holding everything (removed at exit)
#   VMCTL_STATE_DIR=$LC_TMP/state, VMCTL_TMUX_SOCKET=vmctl-test-$$-TAG
#              (exported, so every vmctl call is isolated)
#   LC_GUEST   the busybox test guest (kernel + initramfs)
# At exit: background jobs and processes listed in LC_KILL are SIGKILLed,
# the private tmux server is killed, every QEMU whose pidfile lives in
# LC_TMP (or whose command line names LC_TMP) is SIGKILLed, LC_TMP removed.
LC_KILL=()

lc_setup() {
	need qemu-system-x86_64 tmux python3 jq
	TEST_NAME=${TEST_NAME:-lifecycle-$1}
	LC_TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-lc-$1.XXXXXX")
	export VMCTL_STATE_DIR=$LC_TMP/state
	export VMCTL_TMUX_SOCKET=vmctl-test-$$-$1
	unset VMCTL_PROC_ROOT VMCTL_DEV_ROOT VMCTL_SYSFS_ROOT
	trap lc_cleanup EXIT
	trap 'exit 1' INT TERM HUP
	LC_GUEST=$(guest_dir) || skip "cannot build the test guest"
	[ -s "$LC_GUEST/vmlinuz" ] && [ -s "$LC_GUEST/initrd.img" ] ||
		skip "test guest incomplete"
}

# lc_qemu_pids [NAME]: QEMU processes that belong to this test (or to its
# VM NAME): LC_TMP (the VM's dir) in the command line, which holds even
# for a QEMU whose pidfile is already gone.
lc_qemu_pids() {
	local d pid cmd comm seen=" " want=${LC_TMP:-}/
	[ -n "${LC_TMP:-}" ] || return 0
	[ -z "${1:-}" ] || want=$VMCTL_STATE_DIR/vms/$1/
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		read -r comm 2>/dev/null < "$d/comm" || continue
		case $comm in qemu*) ;; *) continue ;; esac
		cmd=$(tr '\0' '\n' < "$d/cmdline" 2>/dev/null) || continue
		case $cmd in *"$want"*) ;; *) continue ;; esac
		case $seen in *" $pid "*) continue ;; esac
		seen="$seen$pid "
		printf '%s\n' "$pid"
	done
}

lc_cleanup() {
	local rc=$? p f i
	set +e
	trap - EXIT
	p=$(jobs -p)
	disown -a 2>/dev/null   # no "Killed" notices for our own jobs
	for p in $p "${LC_KILL[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	if [ -n "${VMCTL_TMUX_SOCKET:-}" ]; then
		tmux -L "$VMCTL_TMUX_SOCKET" kill-server >/dev/null 2>&1
		# tmux leaves its socket file behind
		rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$VMCTL_TMUX_SOCKET"
	fi
	if [ -n "${LC_TMP:-}" ] && [ -d "$LC_TMP" ]; then
		while IFS= read -r f; do
			p=$(cat "$f" 2>/dev/null)
			case $p in ''|*[!0-9]*) continue ;; esac
			case $(cat "/proc/$p/comm" 2>/dev/null) in
			qemu*) kill -9 "$p" 2>/dev/null ;;
			esac
		done < <(find "$LC_TMP" -name qemu.pid 2>/dev/null)
		for i in 1 2 3 4 5 6 7 8 9 10; do
			p=$(lc_qemu_pids)
			[ -n "$p" ] || break
			kill -9 $p 2>/dev/null
			sleep 0.2
		done
		rm -rf "$LC_TMP"
	fi
	exit "$rc"
}

# lc_spec NAME [KERNEL-CMDLINE-EXTRA [MORE-YAML]]: write $LC_TMP/NAME.yaml,
# a busybox-guest spec (TCG, loopback-only SSH and VNC), print its path.
lc_spec() {
	local name=$1 extra=${2:-} more=${3:-} f=$LC_TMP/$1.yaml
	cat > "$f" <<YAML
name: $name
cpus: 1
memory: 128M
accel: tcg
kernel:
  image: $LC_GUEST/vmlinuz
  initrd: $LC_GUEST/initrd.img
  cmdline: console=ttyS0 panic=-1 no_timer_check $extra
network: {ssh_port: auto, ssh_listen: 127.0.0.1}
vnc: {listen: 127.0.0.1}
$more
YAML
	printf '%s\n' "$f"
}

vmc() { "$VMCTL" "$@"; }

lc_vmdir() { printf '%s/vms/%s\n' "$VMCTL_STATE_DIR" "$1"; }

# lc_status NAME: `vmctl status NAME --json` (fails the test if it fails).
lc_status() {
	local out
	out=$("$VMCTL" status "$1" --json) || fail "vmctl status $1 failed" >&2
	printf '%s\n' "$out"
}

# lc_list_field NAME FIELD: FIELD of NAME's entry in `vmctl list --json`.
lc_list_field() {
	local out
	out=$("$VMCTL" list --json) || fail "vmctl list failed" >&2
	jq -r --arg n "$1" ".[] | select(.name == \$n) | .$2" <<<"$out"
}

# lc_is_qemu PID: PID is a live (non-zombie) QEMU process.
lc_is_qemu() {
	local st
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	case $(cat "/proc/$1/comm" 2>/dev/null) in qemu*) ;; *) return 1 ;; esac
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ "$st" != Z ] && [ "$st" != X ]
}

lc_no_qemu() { [ -z "$(lc_qemu_pids "${1:-}")" ]; }

# lc_assert_no_qemu WHAT [NAME]: no QEMU of this test (of its VM NAME) is
# left (waits up to 10 s for one that is exiting anyway).
lc_assert_no_qemu() {
	wait_for 10 lc_no_qemu "${2:-}" ||
		fail "$1: QEMU left running: $(lc_qemu_pids "${2:-}" | tr '\n' ' ')"
}

lc_has_session() {
	tmux -L "$VMCTL_TMUX_SOCKET" has-session -t "=vmctl-$1" 2>/dev/null
}

lc_server_gone() { ! tmux -L "$VMCTL_TMUX_SOCKET" ls >/dev/null 2>&1; }

# lc_wait_ready NAME [SECONDS [N]]: the guest printed "ready" on its serial
# log (N times: the log is appended to across boots, so the Nth boot).
lc_ready_count() {
	local n
	n=$(grep -c '^vmctl-test-guest: ready' "$(lc_vmdir "$1")/serial.log" \
		2>/dev/null) || true
	echo "${n:-0}"
}
lc_ready_at_least() { [ "$(lc_ready_count "$1")" -ge "$2" ]; }
lc_wait_ready() {
	local log
	log=$(lc_vmdir "$1")/serial.log
	wait_for "${2:-180}" lc_ready_at_least "$1" "${3:-1}" && return 0
	tail -n 20 "$log" 2>/dev/null | sed 's/^/  | /'
	fail "guest $1 did not print ready (boot ${3:-1}) within ${2:-180} s"
}

# lc_rfb PORT: speak RFB 3.8 to a VNC server; print the server's version
# line and then its security types, space-separated: "RFB 003.008 2".
lc_rfb() {
	python3 - "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
def recv(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise SystemExit("connection closed")
        b += c
    return b
version = recv(12)
s.sendall(b"RFB 003.008\n")
n = recv(1)[0]
if n == 0:
    raise SystemExit("server refused: " + recv(4).hex())
types = list(recv(n))
print(version.decode().strip(), " ".join(str(t) for t in types))
PY
}

# lc_assert_vnc_auth PORT: RFB 003.008 offering VNC authentication (2)
# and not None (1).
lc_assert_vnc_auth() {
	local r
	r=$(lc_rfb "$1") || fail "VNC on port $1: no RFB handshake"
	case "$r " in
	"RFB 003.008 "*) ;;
	*) fail "VNC on port $1 answered '$r', not RFB 003.008" ;;
	esac
	case " ${r#RFB 003.008} " in *" 2 "*) ;;
	*) fail "VNC on port $1 does not offer VNC authentication: $r" ;;
	esac
	case " ${r#RFB 003.008} " in *" 1 "*)
		fail "VNC on port $1 offers security type None: $r" ;;
	esac
}

# lc_port_listens PORT: something listens on 127.0.0.1:PORT.
lc_port_listens() {
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2).close()' "$1" 2>/dev/null
}

# lc_qmp_send SOCKET COMMAND: send one QMP command; a closed socket after
# it is fine (quit, powerdown of a guest that exits at once).
lc_qmp_send() {
	python3 - "$1" "$2" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rw")
json.loads(f.readline())
for cmd in ("qmp_capabilities", sys.argv[2]):
    f.write(json.dumps({"execute": cmd}) + "\n")
    f.flush()
    while True:
        line = f.readline()
        if not line:
            sys.exit(0)
        msg = json.loads(line)
        if "error" in msg:
            sys.exit("QMP %s: %s" % (cmd, msg["error"]))
        if "return" in msg:
            break
PY
}

# lc_ms: milliseconds since the epoch (for timings).
lc_ms() { local t=$EPOCHREALTIME; echo $(( 10#${t/./} / 1000 )); }

# lc_vnc_login PORT PASSWORD: VNC authentication (RFB 3.8, type 2) with
# PASSWORD; prints "ok" or "refused" (exit 0), exits 2 when this host's
# openssl cannot do DES (the legacy provider), 1 on protocol errors.
lc_vnc_login() {
	python3 - "$1" "$2" <<'PY'
import socket, subprocess, sys
port, pw = int(sys.argv[1]), sys.argv[2].encode()[:8].ljust(8, b"\0")
# VNC's DES key is the password with each byte's bits mirrored.
key = bytes(int("{:08b}".format(b)[::-1], 2) for b in pw)
def des(block):
    try:
        r = subprocess.run(["openssl", "enc", "-des-ecb", "-nopad", "-K",
                            key.hex(), "-provider", "legacy", "-provider",
                            "default"], input=block, capture_output=True)
    except OSError:
        sys.exit(2)
    if r.returncode != 0 or len(r.stdout) != len(block):
        sys.exit(2)
    return r.stdout
des(b"\0" * 8)
s = socket.create_connection(("127.0.0.1", port), timeout=10)
def recv(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            sys.exit("connection closed")
        b += c
    return b
recv(12)
s.sendall(b"RFB 003.008\n")
types = recv(recv(1)[0])
if 2 not in types:
    sys.exit("no VNC authentication offered")
s.sendall(b"\x02")
s.sendall(des(recv(16)))
print("ok" if recv(4) == b"\0\0\0\0" else "refused")
PY
}

# lc_wait_gone PID [SECONDS]: PID is no longer a live QEMU (a zombie counts
# as gone); polls fast, so the caller can race whoever reaps it.
lc_wait_gone() {
	local deadline=$((SECONDS + ${2:-30}))
	while lc_is_qemu "$1"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.01
	done
}
