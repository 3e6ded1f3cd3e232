#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Nobody in where they do not belong (run as root):
#   - QEMU gives up root: its real, effective, saved and fs uids are the
#     vmctl-qemu user's, which vmctl creates if missing;
#   - VNC without a password is a UNIX socket in the VM's 0700 directory
#     that speaks RFB, and no TCP port listens for it;
#   - the serial log is capped: with VMCTL_SERIAL_LOG_MAX=16K a booting
#     guest's console rotates into serial.log.1 and neither file passes
#     16 KiB; the log keeper is gone with QEMU;
#   - tmux never hands the guest's OSC 52 to a clipboard (set-clipboard
#     off);
#   - with an empty environment and no locale data at all (a mount
#     namespace hides /usr/lib/locale), create still works: tmux gets the
#     UTF-8 locale vmctl carries.
TEST_NAME=lifecycle-isolation
. "$(dirname "$0")/lib.sh"

# keepers LOG: pids of serial-log keepers of the VM whose log is LOG: a
# process of its own (not tmux, whose command line names the launcher too)
# whose command line is the launcher's, "vmctl __run-qemu --log LOG ..."
# or, for a VM create started, "vmctl __run-qemu --gate DIR/gate.sock".
keepers() {
	local d args dir=${1%/*}
	for d in /proc/[0-9]*; do
		args=$( (tr '\0' '\n' < "$d/cmdline") 2>/dev/null) || continue
		[ "$(sed -n 2p <<<"$args")" = __run-qemu ] || continue
		case $(sed -n 3p <<<"$args") in --log|--gate) ;; *) continue ;; esac
		grep -qxF -e "$1" -e "$dir/gate.sock" <<<"$args" || continue
		[ "$(cut -d' ' -f3 "$d/stat" 2>/dev/null)" = Z ] && continue
		echo "${d#/proc/}"
	done
}
[ "$(id -u)" = 0 ] || skip "needs root (QEMU's user switch)"
lc_setup isolation

# ---- QEMU's credentials
spec=$(lc_spec iso "ignore_loglevel initcall_debug")
sed -i 's/^vnc:.*/vnc: {password: false}/' "$spec"
out=$(VMCTL_SERIAL_LOG_MAX=16K vmc create "$spec" 2>&1) || fail "create failed: $out"
pid=$(jq -r .pid <<<"$(lc_status iso)")
lc_is_qemu "$pid" || fail "pid $pid is not QEMU"
uid=$(id -u vmctl-qemu) || fail "no vmctl-qemu user after create"
[ "$uid" != 0 ] || fail "vmctl-qemu is uid 0"
grep -Eq "^Uid:[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid\$" "/proc/$pid/status" ||
	fail "QEMU's uids are not vmctl-qemu's ($uid): $(grep -E '^(Uid|Gid)' "/proc/$pid/status")"
grep -Eq '^CapEff:[[:space:]]+0+$' "/proc/$pid/status" ||
	fail "QEMU kept capabilities: $(grep Cap "/proc/$pid/status")"
say "QEMU runs as vmctl-qemu ($uid), no capabilities"

# ---- VNC without a password: a UNIX socket, no TCP
st=$(lc_status iso)
sock=$(jq -r .vnc.socket <<<"$st")
[ "$sock" = "$(lc_vmdir iso)/vnc.sock" ] || fail "status vnc.socket: $st"
[ -S "$sock" ] || fail "no socket at $sock"
[ "$(stat -c %a "$(lc_vmdir iso)")" = 700 ] || fail "VM dir is not 0700"
banner=$(python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
print(s.recv(12).decode().strip())' "$sock") || fail "VNC socket does not answer"
[ "$banner" = "RFB 003.008" ] || fail "VNC socket says '$banner'"
vnc_arg=$(tr '\0' '\n' < "/proc/$pid/cmdline" | grep -A1 -x -- -vnc | tail -n 1)
[ "$vnc_arg" = "unix:$sock" ] || fail "QEMU's -vnc is '$vnc_arg', not unix:$sock"
vmc vnc iso | grep -q "^socket: *$sock" || fail "vmctl vnc: $(vmc vnc iso)"
say "VNC without a password: $sock, RFB"

# ---- the serial log is capped and rotated
lc_wait_ready iso
log=$(lc_vmdir iso)/serial.log
wait_for 30 test -s "$log.1" || fail "serial.log never rotated ($(stat -c %s "$log") bytes)"
for f in "$log" "$log.1"; do
	size=$(stat -c %s "$f")
	[ "$size" -le 16384 ] || fail "$f is $size bytes, over the 16 KiB cap"
done
[ "$(stat -c %a "$log")" = 600 ] || fail "serial.log mode $(stat -c %a "$log")"
# vmctl logs prints both parts, the rotated one first.  (Its output is
# taken first: should the still-writing guest rotate the log once more
# meanwhile, the new serial.log.1 begins with what logs printed as
# serial.log.)
printed=$(vmc logs iso --raw)
first=$(head -n 2 "$log.1" | tail -n 1)
[ -n "$first" ] || fail "serial.log.1 has no second line"
grep -qF -- "$first" <<<"$printed" || fail "vmctl logs lacks serial.log.1's '$first'"
keeper=$(keepers "$log")
[ "$(wc -w <<<"$keeper")" = 1 ] || fail "not one log keeper: '$keeper'"
say "serial log capped: $(stat -c %s "$log") + $(stat -c %s "$log.1") bytes"

# ---- tmux: no clipboard for the guest
[ "$(tmux -L "$VMCTL_TMUX_SOCKET" show-options -gv set-clipboard)" = off ] ||
	fail "set-clipboard is not off"
vmc destroy iso --force >/dev/null || fail "destroy failed"
lc_assert_no_qemu "destroy"
no_keeper() { [ -z "$(keepers "$log")" ]; }
wait_for 5 no_keeper || fail "log keeper $(keepers "$log") outlived QEMU"
say "no clipboard; log keeper gone with QEMU"

# ---- no locale at all: an empty environment, /usr/lib/locale hidden
if command -v unshare >/dev/null && [ -d /usr/lib/locale ]; then
	mkdir "$LC_TMP/nolocale"
	spec=$(lc_spec noloc)
	out=$(unshare --mount -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		VMCTL_STATE_DIR="$VMCTL_STATE_DIR" VMCTL_TMUX_SOCKET="$VMCTL_TMUX_SOCKET" \
		bash -c 'mount --bind "$1" /usr/lib/locale &&
			tmux -L vmctl-nolocale-probe-$$ new-session -d true 2>&1;
			"$2" create "$3"' _ "$LC_TMP/nolocale" "$VMCTL" "$spec" 2>&1) ||
		fail "create without locale data failed: $out"
	grep -q 'need UTF-8 locale' <<<"$out" ||
		say "note: tmux did not refuse this host's empty locale (nothing to prove)"
	[ "$(jq -r .state <<<"$(lc_status noloc)")" = running ] || fail "noloc not running"
	vmc destroy noloc --force >/dev/null || fail "destroy noloc failed"
	say "no locale data, empty environment: create works"
fi
