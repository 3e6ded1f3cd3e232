#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every name the schema accepts goes through the whole lifecycle, and no
# two names share a tmux session:
#   - "web.1" (tmux turns '.' into '_' in session names) and "web_1" run
#     side by side, each in its own session, through create, logs, stop,
#     start, attach's target, destroy; so do "a-b_c.d" and a 63-character
#     name;
#   - a stale session of a new VM's name (its state lost) is replaced;
#   - a session that is not where its name says after a successful
#     new-session (here: a tmux hook renames it) fails the create without
#     leaving QEMU or the session behind;
#   - a relative --state-dir is made absolute, and a state dir so deep that
#     the QMP socket path cannot fit a sockaddr_un is refused before
#     anything is written.
TEST_NAME=lifecycle-names
. "$(dirname "$0")/lib.sh"
lc_setup names
# A short state dir, as /var/lib/vmctl is: STATE/vms/NAME/qmp.sock of a
# 63-character name must fit a sockaddr_un (107 bytes).
export VMCTL_STATE_DIR=$LC_TMP/s

long=v23456789012345678901234567890123456789012345678901234567890123
[ ${#long} = 63 ] || fail "test bug: long name is ${#long} characters"
names=(web.1 web_1 a-b_c.d "$long")

for n in "${names[@]}"; do
	out=$(vmc create "$(lc_spec "$n")" 2>&1) || fail "create $n failed: $out"
done
sessions=$(tmux -L "$VMCTL_TMUX_SOCKET" ls -F '#{session_name}' | sort)
[ "$(wc -l <<<"$sessions")" = ${#names[@]} ] ||
	fail "${#names[@]} VMs but these sessions: $sessions"
pids=()
for n in "${names[@]}"; do
	st=$(lc_status "$n")
	[ "$(jq -r .state <<<"$st")" = running ] || fail "$n: not running: $st"
	pid=$(jq -r .pid <<<"$st")
	lc_is_qemu "$pid" || fail "$n: pid $pid is not a QEMU"
	session=$(jq -r .tmux.session <<<"$st")
	grep -qxF -- "$session" <<<"$sessions" || fail "$n: status names session '$session', not one of: $sessions"
	# The session's pane is this VM's QEMU, nobody else's.
	pane=$(tmux -L "$VMCTL_TMUX_SOCKET" list-panes -t "=$session:" -F '#{pane_pid}')
	[ "$pane" = "$pid" ] || fail "$n: session $session runs pid $pane, not $pid"
	pids+=("$pid")
done
[ "$(printf '%s\n' "${pids[@]}" | sort -u | wc -l)" = ${#names[@]} ] ||
	fail "VMs share a QEMU: ${pids[*]}"
say "created ${names[*]}: one session each"

for n in "${names[@]}"; do
	lc_wait_ready "$n"
	vmc logs "$n" | grep -q '^vmctl-test-guest: ready' || fail "$n: logs lack the ready line"
	out=$(vmc stop "$n" --timeout 20 2>&1) || fail "stop $n: $out"
	[ "$(jq -r .state <<<"$(lc_status "$n")")" = stopped ] || fail "$n: not stopped"
	lc_assert_no_qemu "stop $n" "$n"
	out=$(vmc start "$n" 2>&1) || fail "start $n: $out"
	[ "$(jq -r .state <<<"$(lc_status "$n")")" = running ] || fail "$n: not running after start"
done
say "stop and start of every name"

# attach reaches each VM's own console: run it in an outer tmux (a
# terminal) and look for the guest's lines there.
for n in web.1 web_1; do
	outer=vmctl-outer-$$-${n//./-}
	tmux -L "$outer" -f /dev/null new-session -d -x 160 -y 48 \
		"$VMCTL" attach "$n"
	LC_KILL+=("$(tmux -L "$outer" display-message -p '#{pid}' 2>/dev/null || true)")
	shows_console() {
		tmux -L "$outer" capture-pane -p -S -100 2>/dev/null |
			grep -q 'vmctl-test-guest'
	}
	wait_for 20 shows_console || fail "attach $n does not show its console: $(
		tmux -L "$outer" capture-pane -p 2>&1 | tail -n 5)"
	attached=$(tmux -L "$VMCTL_TMUX_SOCKET" list-clients -F '#{session_name}')
	[ "$attached" = "$(jq -r .tmux.session <<<"$(lc_status "$n")")" ] ||
		fail "attach $n attached to '$attached'"
	tmux -L "$outer" kill-server
done
say "attach reaches web.1's and web_1's own sessions"

# The others are still running after each one's destroy.
for i in "${!names[@]}"; do
	vmc destroy "${names[$i]}" --force >/dev/null || fail "destroy ${names[$i]} failed"
	for n in "${names[@]:$((i + 1))}"; do
		[ "$(jq -r .state <<<"$(lc_status "$n")")" = running ] ||
			fail "$n stopped when ${names[$i]} was destroyed"
	done
done
lc_assert_no_qemu "after destroying every name"
[ -z "$(tmux -L "$VMCTL_TMUX_SOCKET" ls 2>/dev/null)" ] ||
	fail "sessions left: $(tmux -L "$VMCTL_TMUX_SOCKET" ls)"
say "destroy of every name leaves the others running, then nothing"

# ---- a session of a new VM's name left behind (no VM dir: an earlier VM
# of that name lost its state): create replaces it with its own
tmux -L "$VMCTL_TMUX_SOCKET" -f /dev/null new-session -d -s vmctl-stale sleep 600
old_pane=$(tmux -L "$VMCTL_TMUX_SOCKET" list-panes -t "=vmctl-stale:" -F '#{pane_pid}')
out=$(vmc create "$(lc_spec stale)" 2>&1) || fail "create over a stale session: $out"
pane=$(tmux -L "$VMCTL_TMUX_SOCKET" list-panes -t "=vmctl-stale:" -F '#{pane_pid}')
[ "$pane" = "$(lc_status stale | jq -r .pid)" ] && lc_is_qemu "$pane" ||
	fail "session vmctl-stale runs pid $pane, not the VM's QEMU"
pid_gone() { ! kill -0 "$1" 2>/dev/null; }
wait_for 10 pid_gone "$old_pane" || fail "the stale session's process $old_pane still runs"
vmc destroy --force stale >/dev/null || fail "destroy stale"
say "a stale session of a new VM's name is replaced by its QEMU's"

# ---- a session that is not where its name says: nothing left behind
tmux -L "$VMCTL_TMUX_SOCKET" -f /dev/null new-session -d -s keeper sleep 600
tmux -L "$VMCTL_TMUX_SOCKET" set-hook -g session-created \
	'rename-session "moved-#{session_id}"'
out=$(vmc create "$(lc_spec lost)" 2>&1) && fail "create succeeded with its session renamed: $out"
say "renamed session: $(tail -n 1 <<<"$out")"
lc_assert_no_qemu "a create whose session was renamed" lost
left=$(tmux -L "$VMCTL_TMUX_SOCKET" ls -F '#{session_name}' | grep -v '^keeper$' || true)
[ -z "$left" ] || fail "sessions left after the failed create: $left"
[ ! -e "$(lc_vmdir lost)" ] || fail "VM dir of the failed create left"
tmux -L "$VMCTL_TMUX_SOCKET" kill-server
say "a create whose session vanished kills its QEMU and the session"

# ---- relative state dir; socket paths too long for sun_path
mkdir -p "$LC_TMP/rel"
(
	cd "$LC_TMP/rel"
	VMCTL_STATE_DIR=./st "$VMCTL" create "$(lc_spec relvm)" >/dev/null 2>&1
) || fail "create with a relative state dir failed"
st=$(cd / && "$VMCTL" --state-dir "$LC_TMP/rel/st" status relvm --json) ||
	fail "status from another directory failed"
[ "$(jq -r .state <<<"$st")" = running ] || fail "relvm not running: $st"
[ "$(jq -r .dir <<<"$st")" = "$LC_TMP/rel/st/vms/relvm" ] ||
	fail "relative state dir not made absolute: $(jq -r .dir <<<"$st")"
"$VMCTL" --state-dir "$LC_TMP/rel/st" destroy relvm --force >/dev/null ||
	fail "destroy relvm failed"
say "a relative --state-dir is absolute"

deep=$LC_TMP/$(printf 'd%.0s' {1..90})
out=$(vmc --state-dir "$deep" create "$(lc_spec sock)" 2>&1) && fail "create with a 100-byte state dir succeeded"
rc=$?
[ "$rc" = 64 ] || fail "too long a socket path: exit $rc, not 64: $out"
grep -q 'more than a UNIX socket path may be' <<<"$out" || fail "message: $out"
[ ! -e "$deep" ] || fail "state dir created although the socket path cannot fit: $(find "$deep" | head)"
say "socket path too long: $(tail -n 1 <<<"$out")"
