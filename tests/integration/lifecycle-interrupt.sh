#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# An interrupted create can always be recovered from.  `vmctl create` is
# killed (SIGKILL to vmctl alone, or Ctrl-C: SIGINT to its process group)
# at many points: after fixed delays, and as soon as its VM dir, its
# `creating` marker, its vm.json, its tmux session, its QMP socket or its
# pidfile appears.  Then
#   A: the same create is run again: it succeeds, or, only when the first
#      create had in fact finished, says the VM exists (and destroy works);
#   B: (a second interruption at the same point) destroy cleans it up.
# Either way the VM then runs exactly one QEMU, and a final destroy leaves
# no VM dir, no QEMU (none from the killed attempt either), no session.
# The narrow windows (killed between mkdir and the `creating` marker, or
# before the first vm.json) are also checked deterministically, with the
# files such a create leaves made by hand.  Every point is tried even when
# one fails; the failures are listed at the end.
TEST_NAME=lifecycle-interrupt
. "$(dirname "$0")/lib.sh"
lc_setup interrupt

# interrupted NAME SIGNAL WHEN: start `vmctl create` of NAME in its own
# process group, interrupt it at WHEN (a delay in seconds, or a file under
# the VM dir, or "session"), and leave in INT_RC its exit status and in
# INT_FINISHED 1 if it had completed the create.
interrupted() {
	local name=$1 sig=$2 when=$3 dir pid deadline
	dir=$(lc_vmdir "$name")
	# In its own process group, with SIGINT at its default (a
	# non-interactive shell starts background jobs with SIGINT ignored).
	python3 -c 'import os, signal, sys
os.setsid()
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' "$VMCTL" create "$LC_TMP/$name.yaml" \
		> "$LC_TMP/$name.first" 2>&1 &
	pid=$!
	deadline=$((SECONDS + 60))
	case $when in
	[0-9]*) sleep "$when" ;;
	session) until lc_has_session "$name" || ! kill -0 "$pid" 2>/dev/null ||
			[ $SECONDS -ge $deadline ]; do :; done ;;
	*) until [ -e "$dir/$when" ] || ! kill -0 "$pid" 2>/dev/null ||
			[ $SECONDS -ge $deadline ]; do :; done ;;
	esac
	case $sig in
	KILL) kill -KILL "$pid" 2>/dev/null || true ;;
	INT) kill -INT -- "-$pid" 2>/dev/null || true ;;
	esac
	INT_RC=0
	wait "$pid" 2>/dev/null || INT_RC=$?
	INT_LEFT="[$(ls -A "$dir" 2>/dev/null | tr '\n' ' ')]"
	INT_FINISHED=0
	if [ -d "$dir" ] && [ ! -e "$dir/creating" ] && [ -e "$dir/vm.json" ]; then
		INT_FINISHED=1
	fi
	case $sig:$INT_RC in KILL:137|INT:130|INT:1|*:0) ;;
	*) fail "$sig: vmctl create exited $INT_RC" ;;
	esac
	# Whatever it left, list must still work.
	INT_LIST=$(vmc list --json 2>"$LC_TMP/list.err") ||
		fail "$name: list fails after an interrupted create: $(cat "$LC_TMP/list.err")"
	INT_STATE=$(jq -r --arg n "$name" '.[] | select(.name == $n) | .state' <<<"$INT_LIST")
}

# runs_once NAME WHAT: NAME runs, with exactly one QEMU (the one status
# names; a QEMU from the killed attempt must be gone).
runs_once() {
	local st pid qemus
	st=$(lc_status "$1")
	[ "$(jq -r .state <<<"$st")" = running ] || fail "$2: $1 not running: $st"
	pid=$(jq -r .pid <<<"$st")
	lc_is_qemu "$pid" || fail "$2: pid $pid is not QEMU"
	only_qemu() { [ "$(lc_qemu_pids "$1")" = "$2" ]; }
	wait_for 10 only_qemu "$1" "$pid" ||
		fail "$2: QEMUs of $1: $(lc_qemu_pids "$1" | tr '\n' ' '), want only $pid"
}

# destroyed NAME WHAT: destroy works and leaves nothing of NAME.
destroyed() {
	local out
	out=$(vmc destroy --force "$1" 2>&1) || fail "$2: destroy failed: $out"
	[ ! -e "$(lc_vmdir "$1")" ] || fail "$2: VM dir left after destroy"
	lc_assert_no_qemu "$2: after destroy" "$1"
	lc_has_session "$1" && fail "$2: tmux session left after destroy"
	return 0
}

# recover NAME WHAT: A, then B, as described above (in a subshell: a
# failure ends this point only, and is counted).
recover() {
	local name=$1 sig=$2 when=$3 what="$2 at $3" first second rc out
	# A: run the same create again.
	interrupted "$name" "$sig" "$when"
	first="rc $INT_RC, ${INT_STATE:-no VM}"
	rc=0
	out=$(vmc create "$LC_TMP/$name.yaml" 2>&1) || rc=$?
	if [ "$INT_FINISHED" = 1 ]; then
		[ "$rc" = 1 ] && grep -q 'already exists' <<<"$out" ||
			fail "$what: the first create had finished; the second said (exit $rc): $out"
		runs_once "$name" "$what (finished)"
		destroyed "$name" "$what (finished)"
		vmc create "$LC_TMP/$name.yaml" >/dev/null 2>&1 ||
			fail "$what: create after destroy failed"
		first="$first, finished"
	else
		[ "$rc" = 0 ] || fail "$what: create after an interrupted create failed (exit $rc): $(
			tr '\n' ' ' <<<"$out")
    the first create left: $INT_LEFT"
	fi
	runs_once "$name" "$what"
	destroyed "$name" "$what"

	# B: destroy what the interrupted create left.
	interrupted "$name" "$sig" "$when"
	second="rc $INT_RC, ${INT_STATE:-no VM}"
	if [ -e "$(lc_vmdir "$name")" ]; then
		destroyed "$name" "$what, then destroy"
	fi
	lc_assert_no_qemu "$what, then destroy" "$name"
	lc_has_session "$name" && fail "$what: tmux session left after destroy"
	vmc create "$LC_TMP/$name.yaml" >/dev/null 2>&1 ||
		fail "$what: create after the cleanup failed"
	runs_once "$name" "$what, then destroy"
	destroyed "$name" "$what, then destroy"
	printf '  %-16s A: %-28s B: %s\n' "$what" "$first" "$second"
}

points=(
	KILL:0 KILL:0.02 KILL:0.05 KILL:0.1 KILL:0.2 KILL:0.5
	KILL:creating KILL:vm.json KILL:session KILL:qmp.sock KILL:qemu.pid
	INT:0.05 INT:vm.json INT:session INT:qmp.sock
)
i=0
bad=()
for p in "${points[@]}"; do
	i=$((i + 1))
	lc_spec "int$i" >/dev/null
	( recover "int$i" "${p%%:*}" "${p#*:}" ) || {
		bad+=("${p/:/ at }")
		vmc destroy --force "int$i" >/dev/null 2>&1 || true
	}
done

# The states a create killed at the wrong instant leaves, made by hand (the
# windows are narrow, the delays above hit them only now and then):
#   a VM dir and the marker's temporary file (killed while writing it),
#   just the marker (killed before the VM's lock and vm.json existed),
#   the marker, lock and spec (killed before the first vm.json).
# A create of the same name must succeed: no create ever finished.
states=(".creating.tmp" "creating" "creating lock spec.json" "")
for files in "${states[@]}"; do
	i=$((i + 1))
	name=int$i
	lc_spec "$name" >/dev/null
	mkdir -p "$(lc_vmdir "$name")"
	for f in $files; do : > "$(lc_vmdir "$name")/$f"; done
	[ -z "$files" ] || [ "${files#*spec.json}" = "$files" ] ||
		printf '{}' > "$(lc_vmdir "$name")/spec.json"
	rc=0
	out=$(vmc create "$LC_TMP/$name.yaml" 2>&1) || rc=$?
	if [ "$rc" != 0 ]; then
		say "create over a VM dir holding only [${files:-nothing}]: exit $rc: $(tr '\n' ' ' <<<"$out")"
		bad+=("a VM dir holding only [${files:-nothing}]")
	fi
	vmc destroy --force "$name" >/dev/null 2>&1 ||
		bad+=("destroy of a VM dir holding only [${files:-nothing}]")
	[ ! -e "$(lc_vmdir "$name")" ] ||
		bad+=("destroy left a VM dir that held only [${files:-nothing}]")
done

lc_assert_no_qemu "at the end"
[ -z "$(ls -A "$VMCTL_STATE_DIR/vms")" ] || fail "left in vms/: $(ls -A "$VMCTL_STATE_DIR/vms")"
wait_for 10 lc_server_gone || fail "tmux server left: $(tmux -L "$VMCTL_TMUX_SOCKET" ls 2>&1)"
if [ ${#bad[@]} -gt 0 ]; then
	printf '  failed: %s\n' "${bad[@]}"
	fail "${#bad[@]} interruptions not recovered from"
fi
say "${#points[@]} interruption points and ${#states[@]} left-over states recovered"
