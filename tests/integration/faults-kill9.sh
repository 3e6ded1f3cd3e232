#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Faults: vmctl dies at every step of create, start, stop and destroy, and
# the next vmctl commands converge.
#
# A step is one of vmctl's own calls that change state (FX_CALLS: renames,
# unlinks, mkdirs, each child program started, each signal sent, each lock
# taken), listed by tracing the command once; strace then kills vmctl
# (SIGKILL) on entering that call, or interrupts it there (SIGINT, what
# Ctrl-C sends: vmctl's children are never running at such a point, so
# the signal reaching vmctl alone is what a Ctrl-C to its process group
# does).  SIGKILL at every step of all four commands, SIGINT at every step
# of create and start; FAULTS_FULL=1 adds SIGINT for stop and destroy and
# SIGTERM for all four.  After each interruption:
#   - `vmctl list --json` and `vmctl status` work and tell the truth: a VM
#     reported running has a live QEMU with that pid, and a VM whose QEMU
#     lives through the listing is not reported stopped or crashed;
#   - the follow-up command completes: the same create (a killed create
#     also with destroy instead), start, stop, destroy;
#   - nothing is left that no VM owns: no QEMU whose VM does not record
#     it, no vmctl-* tmux session without its running VM, no tmux server
#     without sessions, no serial-log keeper (`__run-qemu`) without its
#     QEMU;
#   - a start or stop, killed anywhere, leaves the VM's disk.qcow2 overlay
#     in place: the same file, still backed by the base image.
# The guest is a 36-byte multiboot kernel that halts at once, so QEMU is
# "running" on QMP within a second and costs no CPU after
# (FAULTS_GUEST=busybox boots the busybox test guest instead).  Every step
# is tried even when one fails; the failures are listed at the end.
TEST_NAME=faults-kill9
. "$(dirname "$0")/lib.sh"
need strace qemu-img timeout
[ -x "$VMCTL" ] || skip "$VMCTL is not built (make)"
lc_setup faults

FX_CALLS=rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,rmdir,clone,clone3,fork,vfork,flock,kill,pidfd_send_signal
VM=f
DIR=$(lc_vmdir "$VM")
BASE=$LC_TMP/base.qcow2
SPEC=$LC_TMP/$VM.yaml
FX_BAD=()
FX_T0=$SECONDS

qemu-img create -q -f qcow2 "$BASE" 16M || fail "qemu-img create failed"
if [ "${FAULTS_GUEST:-}" = busybox ]; then
	kernel="{image: $LC_GUEST/vmlinuz, initrd: $LC_GUEST/initrd.img, cmdline: console=ttyS0 panic=-1}"
else
	# A multiboot header (magic, flags: load addresses given, checksum;
	# header, load, load end: all of the file, bss end: none, entry
	# 0x100020), then the code: cli; hlt; jmp hlt.
	printf '%b' '\x02\xb0\xad\x1b' '\x00\x00\x01\x00' '\xfe\x4f\x51\xe4' \
		'\x00\x00\x10\x00' '\x00\x00\x10\x00' '\x00\x00\x00\x00' \
		'\x00\x00\x00\x00' '\x20\x00\x10\x00' '\xfa\xf4\xeb\xfd' \
		> "$LC_TMP/halt.bin"
	kernel="{image: $LC_TMP/halt.bin}"
fi
# No VNC: one TCP port less to race other tests' QEMUs for.
cat > "$SPEC" <<YAML
name: $VM
cpus: 1
memory: 64M
accel: tcg
kernel: $kernel
disk: {image: $BASE}
network: {ssh_port: auto, ssh_listen: 127.0.0.1}
vnc: false
YAML

# Under strace, LeakSanitizer cannot work and fails the run (make asan):
# traced runs go without it; the untraced ones still check for leaks.
FX_ASAN="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# fx_vmctl ARGS...: vmctl, its output in FX_OUT, its exit status in FX_RC.
fx_vmctl() {
	FX_RC=0
	FX_OUT=$(timeout -k 5 60 "$VMCTL" "$@" 2>&1) || FX_RC=$?
}

# fx_steps ARGS...: vmctl ARGS, traced (it must succeed); FX_STEPS gets
# its calls of FX_CALLS in order, "SYSCALL N" for the Nth of that call.
# A call that failed (mkdir of a dir that is there, unlink of a file that
# is not) changes nothing, so when the call before it failed too, killing
# at it finds what killing at that one did: it is left out (but with
# FAULTS_FULL=1).
fx_steps() {
	local rc=0
	ASAN_OPTIONS=$FX_ASAN timeout -k 5 60 strace -o "$LC_TMP/trace" \
		-e trace="$FX_CALLS" "$VMCTL" "$@" > "$LC_TMP/out" 2>&1 || rc=$?
	[ "$rc" = 0 ] || fail "traced vmctl $*: exit $rc: $(cat "$LC_TMP/out")"
	mapfile -t FX_STEPS < <(awk -F'(' -v all="${FAULTS_FULL:-0}" '
		/^[a-z0-9_]+\(/ {
			n[$1]++; failed = / = -1 [A-Z]/
			if (all == 1 || !(failed && prev)) print $1, n[$1]
			prev = failed
		}' "$LC_TMP/trace")
	[ "${#FX_STEPS[@]}" -gt 0 ] || fail "strace saw no step of vmctl $*"
	say "vmctl ${1}: ${#FX_STEPS[@]} steps: $(printf '%s\n' "${FX_STEPS[@]}" |
		awk '!n[$1]++ { o[++k] = $1 } END { for (i = 1; i <= k; i++)
			printf "%s%s x%d", (i > 1 ? ", " : ""), o[i], n[o[i]] }')"
}

# fx_interrupted SIGNAL SYSCALL N ARGS...: vmctl ARGS, sent SIGNAL on
# entering its Nth call of SYSCALL; its exit status in FX_RC.  (The
# braces take bash's "Killed" notice.)
fx_interrupted() {
	local sig=$1 sc=$2 n=$3
	shift 3
	FX_RC=0
	{
		ASAN_OPTIONS=$FX_ASAN timeout -k 5 60 strace -o /dev/null \
			-e trace="$sc" -e inject="$sc:signal=$sig:when=$n" \
			"$VMCTL" "$@" > "$LC_TMP/out" 2>&1 || FX_RC=$?
	} 2>/dev/null
	FX_OUT=$(cat "$LC_TMP/out")
}

# fx_procs: "qemu PID VM" for each live QEMU of this test's state dir,
# "keeper PID VM" for each serial-log keeper (or launcher not yet QEMU):
# a process running `vmctl __run-qemu`.  One ps: this runs often.
fx_procs() {
	ps -eww -o pid=,stat=,comm=,args= | awk -v vms="$VMCTL_STATE_DIR/vms/" '
		$2 ~ /^[ZX]/ { next }
		{ i = index($0, vms); if (!i) next
		  vm = substr($0, i + length(vms)); sub(/\/.*/, "", vm) }
		$3 ~ /^qemu/ { print "qemu", $1, vm; next }
		$5 == "__run-qemu" { print "keeper", $1, vm }'
}

# fx_qemus [VM]: the pids of this test's live QEMUs (of VM), one a line.
fx_qemus() {
	fx_procs | awk -v vm="${1:-}" '$1 == "qemu" && (vm == "" || $3 == vm) { print $2 }'
}

# fx_recorded: the pid vm.json records for the VM (0: none).
fx_recorded() {
	local p
	p=$(jq -r '.pid // 0' "$DIR/vm.json" 2>/dev/null) || p=0
	echo "${p:-0}"
}

# fx_judge WHAT STATE PID BEFORE AFTER: what vmctl said (STATE, PID) is
# the truth, given the VM's QEMUs before and after it was asked.
fx_judge() {
	local what=$1 state=$2 pid=$3 before=" $4 " after=" $5 " q
	if [ "$state" = running ]; then
		case "$before$after" in *" $pid "*) ;;
		*) fail "$what: reported running with pid $pid, which is not its QEMU (QEMUs: $before/$after)" ;;
		esac
	fi
	for q in $before; do
		case $after in *" $q "*) ;; *) continue ;; esac
		case $state in
		running) [ "$pid" = "$q" ] ||
			fail "$what: reported running as pid $pid, but its QEMU is $q" ;;
		creating|incomplete) ;;
		*) fail "$what: reported ${state:-absent} while its QEMU $q lives" ;;
		esac
	done
}

# fx_truth WHAT: list and status work, and tell the truth.
fx_truth() {
	local before after out state pid
	before=$(fx_qemus "$VM" | tr '\n' ' ')
	out=$(timeout 60 "$VMCTL" list --json 2>"$LC_TMP/err") ||
		fail "$1: vmctl list fails: $(cat "$LC_TMP/err")"
	[ ! -s "$LC_TMP/err" ] || fail "$1: vmctl list complains: $(cat "$LC_TMP/err")"
	after=$(fx_qemus "$VM" | tr '\n' ' ')
	state=$(jq -r --arg n "$VM" '.[] | select(.name == $n) | .state' <<<"$out") ||
		fail "$1: vmctl list --json is not JSON: $out"
	pid=$(jq -r --arg n "$VM" '.[] | select(.name == $n) | .pid // 0' <<<"$out")
	[ -n "$state" ] || [ ! -d "$DIR" ] || fail "$1: vmctl list omits $VM, whose dir is there"
	fx_judge "$1: list" "$state" "$pid" "$before" "$after"
	[ -d "$DIR" ] || return 0
	before=$(fx_qemus "$VM" | tr '\n' ' ')
	out=$(timeout 60 "$VMCTL" status "$VM" --json 2>"$LC_TMP/err") ||
		fail "$1: vmctl status fails: $(cat "$LC_TMP/err")"
	after=$(fx_qemus "$VM" | tr '\n' ' ')
	state=$(jq -r .state <<<"$out") || fail "$1: vmctl status --json is not JSON: $out"
	pid=$(jq -r '.pid // 0' <<<"$out")
	fx_judge "$1: status" "$state" "$pid" "$before" "$after"
}

# fx_orphans: print what no VM owns (nothing: all is well).
fx_orphans() {
	local kind pid vm rec s
	rec=$(fx_recorded)
	while read -r kind pid vm; do
		case $kind in
		qemu) [ "$vm" = "$VM" ] && [ "$pid" = "$rec" ] ||
			echo "QEMU $pid of VM $vm (whose record names pid $rec)" ;;
		keeper) fx_qemus "$vm" | grep -q . ||
			echo "log keeper $pid of VM $vm without its QEMU" ;;
		esac
	done < <(fx_procs)
	for s in $(tmux -L "$VMCTL_TMUX_SOCKET" ls -F '#{session_name}' 2>/dev/null); do
		[ "$s" = "vmctl-$VM" ] && [ "$rec" != 0 ] || echo "tmux session $s"
	done
	[ "$rec" != 0 ] || lc_server_gone || echo "a tmux server without sessions"
}
fx_no_orphans() { [ -z "$(fx_orphans)" ]; }

# fx_settled WHAT: nothing left that no VM owns (within 10 s: a QEMU that
# vmctl killed may take a moment to go).
fx_settled() {
	wait_for 10 fx_no_orphans || fail "$1: left: $(fx_orphans | tr '\n' ';')"
}

# fx_expect WHAT STATE: the VM is in STATE (running, stopped or gone), and
# nothing is left that it does not own.
fx_expect() {
	local st state pid
	if [ "$2" = gone ]; then
		[ ! -e "$DIR" ] || fail "$1: VM dir left: $(ls -A "$DIR" | tr '\n' ' ')"
	else
		st=$(timeout 60 "$VMCTL" status "$VM" --json 2>&1) ||
			fail "$1: vmctl status fails: $st"
		state=$(jq -r .state <<<"$st")
		[ "$state" = "$2" ] || fail "$1: $VM is $state, not $2"
		if [ "$2" = running ]; then
			pid=$(jq -r .pid <<<"$st")
			lc_is_qemu "$pid" || fail "$1: pid $pid is not QEMU"
			lc_has_session "$VM" || fail "$1: running without its tmux session"
		fi
	fi
	fx_settled "$1"
}

# fx_overlay WHAT: disk.qcow2 is the file it was (FX_INODE), backed by BASE.
fx_overlay() {
	local ino backing
	ino=$(stat -c %i "$DIR/disk.qcow2" 2>/dev/null) || fail "$1: disk.qcow2 is gone"
	[ "$ino" = "$FX_INODE" ] || fail "$1: disk.qcow2 was replaced (inode $FX_INODE, now $ino)"
	backing=$(qemu-img info -U --output=json "$DIR/disk.qcow2" 2>&1 |
		jq -r '."backing-filename" // empty') || true
	[ "$backing" = "$BASE" ] || fail "$1: disk.qcow2 is backed by '${backing}', not $BASE"
}

# fx_exit_ok WHAT SIGNAL: FX_RC is what SIGNAL at a step may end vmctl
# with: killed by it, or for a signal vmctl catches, failed (saying
# "interrupted", or the error of a step the signal cut short, such as a
# port taken by another QEMU, which is no longer retried).
# 0: the command finished: it did not reach that step (a call made in a
# polling loop, like tmux's in the wait for QMP, is not made as often in
# every run), or a caught signal came too late to stop it; such runs are
# counted (the file $LC_TMP/unreached).
fx_exit_ok() {
	case $2:$FX_RC in
	*:0) echo "$1" >> "$LC_TMP/unreached"; return 0 ;;
	SIGKILL:137|SIGINT:130|SIGTERM:143) return 0 ;;
	SIGINT:1|SIGTERM:1) return 0 ;;
	esac
	fail "$1: vmctl exited $FX_RC: $FX_OUT"
}

# ---- one step of each command (run in a subshell: fail ends the step) --

# create, then (HOW=create) the same create again or (HOW=destroy)
# destroy; when it left no VM dir there is nothing to follow up.
step_create() {
	local sig=$1 sc=$2 n=$3 how=$4 what="create, $1 at $2 $3, then $4"
	fx_interrupted "$sig" "$sc" "$n" create "$SPEC"
	fx_exit_ok "$what" "$sig"
	fx_truth "$what"
	if [ ! -d "$DIR" ]; then
		fx_expect "$what (no VM dir left)" gone
	elif [ "$how" = create ]; then
		local first=$FX_RC
		fx_vmctl create "$SPEC"
		if [ "$first" = 0 ]; then
			[ "$FX_RC" = 1 ] && grep -q 'already exists' <<<"$FX_OUT" ||
				fail "$what: the first create had finished; the second said (exit $FX_RC): $FX_OUT"
		else
			[ "$FX_RC" = 0 ] || fail "$what: exit $FX_RC: $FX_OUT"
		fi
		fx_expect "$what" running
		FX_INODE=$(stat -c %i "$DIR/disk.qcow2") || fail "$what: no disk.qcow2"
		fx_overlay "$what"
	else
		fx_vmctl destroy --force "$VM"
		[ "$FX_RC" = 0 ] || fail "$what: exit $FX_RC: $FX_OUT"
		fx_expect "$what" gone
	fi
}

# start (from stopped), then start again.
step_start() {
	local sig=$1 sc=$2 n=$3 what="start, $1 at $2 $3"
	fx_interrupted "$sig" "$sc" "$n" start "$VM"
	fx_exit_ok "$what" "$sig"
	fx_truth "$what"
	fx_overlay "$what"
	fx_vmctl start "$VM"
	[ "$FX_RC" = 0 ] || fail "$what, then start: exit $FX_RC: $FX_OUT"
	fx_expect "$what, then start" running
	fx_overlay "$what, then start"
}

# stop (from running), then stop again.
step_stop() {
	local sig=$1 sc=$2 n=$3 what="stop, $1 at $2 $3"
	fx_interrupted "$sig" "$sc" "$n" stop --timeout 0 "$VM"
	fx_exit_ok "$what" "$sig"
	fx_truth "$what"
	fx_overlay "$what"
	fx_vmctl stop --timeout 0 "$VM"
	[ "$FX_RC" = 0 ] || fail "$what, then stop: exit $FX_RC: $FX_OUT"
	fx_expect "$what, then stop" stopped
	fx_overlay "$what, then stop"
}

# destroy (of a running VM), then destroy again if the VM is still there.
step_destroy() {
	local sig=$1 sc=$2 n=$3 what="destroy, $1 at $2 $3"
	fx_interrupted "$sig" "$sc" "$n" destroy --force "$VM"
	fx_exit_ok "$what" "$sig"
	fx_truth "$what"
	if [ -d "$DIR" ]; then
		fx_vmctl destroy --force "$VM"
		[ "$FX_RC" = 0 ] || fail "$what, then destroy: exit $FX_RC: $FX_OUT"
	fi
	fx_expect "$what, then destroy" gone
}

# ---- driving -----------------------------------------------------------

# fx_reset STATE: bring the VM to STATE (gone, stopped, running, or
# created: running anew) through vmctl; should vmctl fail at that, by
# force (and the failure is counted).
fx_reset() {
	local q
	case $1 in
	gone) FX_RC=0; [ ! -d "$DIR" ] || fx_vmctl destroy --force "$VM" ;;
	stopped) fx_vmctl stop --timeout 0 "$VM" ;;
	running) fx_vmctl start "$VM" ;;
	created) fx_vmctl create "$SPEC" ;;
	created-stopped) fx_vmctl create --no-start "$SPEC" ;;
	esac
	if [ "$FX_RC" != 0 ]; then
		say "FAIL: reset to $1: exit $FX_RC: $FX_OUT"
		FX_BAD+=("reset to $1")
		# By force: no VM, no QEMU, no tmux server; then the wanted state.
		tmux -L "$VMCTL_TMUX_SOCKET" kill-server >/dev/null 2>&1 || true
		for q in $(fx_qemus); do kill -9 "$q" 2>/dev/null || true; done
		wait_for 10 lc_no_qemu || true
		rm -rf "$DIR"
		case $1 in
		stopped|created-stopped) fx_vmctl create --no-start "$SPEC" ;;
		running|created) fx_vmctl create "$SPEC" ;;
		esac
		[ "$FX_RC" = 0 ] || fail "cannot recover to $1: $FX_OUT"
	fi
	FX_INODE=$(stat -c %i "$DIR/disk.qcow2" 2>/dev/null) || FX_INODE=none
}

# fx_command CMD SIGNALS AFTER ARGS...: every step of vmctl CMD ARGS, for
# each of SIGNALS, from the state the VM is in now; fx_reset AFTER brings
# it back to that state after each step's follow-up command.  A create
# killed by SIGKILL is followed up both ways (create and destroy); an
# interrupted one, which undoes itself, by create.
fx_command() {
	local cmd=$1 sigs=$2 after=$3 sig step how hows label t0=$SECONDS tries=0
	shift 3
	fx_steps "$cmd" "$@"
	fx_reset "$after"
	: > "$LC_TMP/unreached"
	for sig in $sigs; do
		hows=-
		[ "$cmd" != create ] || hows=create
		[ "$cmd:$sig" != create:SIGKILL ] || hows="create destroy"
		for step in "${FX_STEPS[@]}"; do
			for how in $hows; do
				tries=$((tries + 1))
				# shellcheck disable=SC2086 # "SYSCALL N": two words
				if ! ( "step_$cmd" "$sig" $step "$how" ); then
					label="$cmd: $sig at $step"
					[ "$how" = - ] || label="$label, then $how"
					FX_BAD+=("$label")
				fi
				fx_reset "$after"
			done
		done
	done
	say "vmctl $cmd: $tries interruptions ($sigs) in $((SECONDS - t0)) s;" \
		"$(wc -l < "$LC_TMP/unreached") of them ran to completion"
}

KILL_SIGS=SIGKILL
INT_SIGS="SIGKILL SIGINT"
if [ "${FAULTS_FULL:-0}" = 1 ]; then
	KILL_SIGS="SIGKILL SIGINT SIGTERM"
	INT_SIGS=$KILL_SIGS
fi

# create: from no VM.
fx_command create "$INT_SIGS" gone "$SPEC"
# start: from stopped; its follow-up start leaves the VM running.
fx_reset created-stopped
fx_command start "$INT_SIGS" stopped "$VM"
# stop: from running.
fx_reset running
fx_command stop "$KILL_SIGS" running --timeout 0 "$VM"
# destroy: from running, a fresh VM (killed starts and stops leave
# temporary files, which would be steps no other run has).
fx_reset gone
fx_reset created
fx_command destroy "$KILL_SIGS" created --force "$VM"

fx_reset gone
fx_settled "at the end"
left=$(ls -A "$VMCTL_STATE_DIR/vms")
[ -z "$left" ] || fail "left in vms/: $left"
if [ ${#FX_BAD[@]} -gt 0 ]; then
	printf '  failed: %s\n' "${FX_BAD[@]}"
	fail "${#FX_BAD[@]} interruptions not converged from ($((SECONDS - FX_T0)) s)"
fi
say "every interruption converged ($((SECONDS - FX_T0)) s)"
