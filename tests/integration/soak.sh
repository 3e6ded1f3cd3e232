#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Soak: SOAK_CYCLES (default 2; `make soak` runs 20) cycles of five VMs
# (busybox guest, TCG, 128M) going create -> stop -> start -> destroy, the
# five in parallel at each step.  After every step:
#   - every command exited 0 (0 errors);
#   - every VM is in the state the step leaves it in;
#   - the QEMUs running are exactly the running VMs' pids, and the tmux
#     sessions exactly theirs (0 leaked processes; no server once none
#     runs);
#   - the running VMs' SSH ports and VNC ports are all distinct, and so
#     they are in every `vmctl list` a monitor takes throughout
#     (0 port clashes).
# Prints the time of each step and cycle.  SOAK_VMS changes the count.
TEST_NAME=soak
. "$(dirname "$0")/lib.sh"
lc_setup soak

CYCLES=${SOAK_CYCLES:-2}
N=${SOAK_VMS:-5}
case $CYCLES$N in *[!0-9]*) fail "SOAK_CYCLES and SOAK_VMS are numbers" ;; esac
names=()
for ((i = 1; i <= N; i++)); do
	names+=("soak$i")
	lc_spec "soak$i" >/dev/null
done

# parallel WHAT CMD...: CMD NAME for every VM at once; any failure fails.
parallel() {
	local what=$1 i failed=() pids=()
	shift
	for n in "${names[@]}"; do
		"$@" "$n" > "$LC_TMP/$n.out" 2>&1 &
		pids+=("$!")
	done
	for ((i = 0; i < N; i++)); do
		wait "${pids[$i]}" ||
			failed+=("${names[$i]} (exit $?): $(tr '\n' ' ' < "$LC_TMP/${names[$i]}.out")")
	done
	if [ ${#failed[@]} -gt 0 ]; then
		printf '  %s\n' "${failed[@]}"
		fail "cycle $cycle: ${#failed[@]} of $N ${what}s failed"
	fi
}

create_one() { vmc create "$LC_TMP/$1.yaml"; }
stop_one() { vmc stop "$1" --timeout 60; }
start_one() { vmc start "$1"; }
destroy_one() { vmc destroy "$1"; }
# ready_one NAME: the guest booted (boot K of this cycle: the log is kept
# across start, new with each create) and handles the power button.
ready_one() { lc_wait_ready "$1" 300 "$boot"; }

# distinct_ports LIST-JSON: the running VMs' SSH and VNC ports are distinct
# (prints the clash otherwise).
distinct_ports() {
	jq -e '[.[] | select(.state == "running")] as $r
		| ([$r[].ssh_port] | length) == ([$r[].ssh_port] | unique | length)
		and ([$r[].vnc.port] | length) == ([$r[].vnc.port] | unique | length)' \
		<<<"$1" >/dev/null && return 0
	jq -c '[.[] | select(.state == "running") | {name, ssh_port, vnc: .vnc.port}]' <<<"$1"
	return 1
}

# check WANT: every VM is in state WANT ("gone": none is left), QEMUs and
# tmux sessions are exactly those of the running VMs, ports distinct.
check() {
	local want=$1 list qemus pids sessions want_sessions
	list=$(vmc list --json) || fail "cycle $cycle: list failed"
	if [ "$want" = gone ]; then
		[ "$(jq length <<<"$list")" = 0 ] ||
			fail "cycle $cycle: VMs left after destroy: $(jq -c '[.[].name]' <<<"$list")"
		[ -z "$(ls -A "$VMCTL_STATE_DIR/vms" 2>/dev/null)" ] ||
			fail "cycle $cycle: left in vms/: $(ls -A "$VMCTL_STATE_DIR/vms")"
	else
		[ "$(jq --arg s "$want" '[.[] | select(.state == $s)] | length' <<<"$list")" = "$N" ] ||
			fail "cycle $cycle: not all $want: $(jq -c '[.[] | {name, state}]' <<<"$list")"
	fi
	distinct_ports "$list" >/dev/null ||
		fail "cycle $cycle: port clash: $(distinct_ports "$list")"
	# A stopping QEMU may take a moment to be reaped by tmux.
	pids=$(jq -r '.[] | select(.state == "running") | .pid' <<<"$list" | sort -n)
	for _ in $(seq 50); do
		qemus=$(lc_qemu_pids | sort -n)
		[ "$qemus" = "$pids" ] && break
		sleep 0.1
	done
	[ "$qemus" = "$pids" ] ||
		fail "cycle $cycle ($want): QEMUs $(echo $qemus) but running VMs' pids $(echo $pids)"
	want_sessions=$(jq -r '.[] | select(.state == "running") | "vmctl-" + .name' <<<"$list" | sort)
	for _ in $(seq 50); do
		sessions=$( (tmux -L "$VMCTL_TMUX_SOCKET" ls -F '#{session_name}' 2>/dev/null || true) | sort)
		[ "$sessions" = "$want_sessions" ] && break
		sleep 0.1
	done
	[ "$sessions" = "$want_sessions" ] ||
		fail "cycle $cycle ($want): tmux sessions '$(echo $sessions)', running VMs '$(echo $want_sessions)'"
	if [ -z "$want_sessions" ]; then
		wait_for 5 lc_server_gone ||
			fail "cycle $cycle ($want): a tmux server runs with no VM"
	fi
}

# The monitor: `vmctl list` all along; a clash among running VMs is
# written to clashes, a failing list to errors.
monitor() {
	local list
	while [ ! -e "$LC_TMP/stop-monitor" ]; do
		if list=$("$VMCTL" list --json 2>"$LC_TMP/monitor.err"); then
			distinct_ports "$list" >> "$LC_TMP/clashes" || true
		else
			cat "$LC_TMP/monitor.err" >> "$LC_TMP/errors"
		fi
		echo >> "$LC_TMP/samples"
		sleep 0.5
	done
}
: > "$LC_TMP/clashes"
: > "$LC_TMP/errors"
: > "$LC_TMP/samples"
monitor &
monitor_pid=$!

step() {   # WHAT: time since the last step, kept for the summary
	local now
	now=$(lc_ms)
	times+=("$1 $((now - t_step))")
	t_step=$now
}

t_all=$(lc_ms)
for ((cycle = 1; cycle <= CYCLES; cycle++)); do
	times=()
	t_cycle=$(lc_ms)
	t_step=$t_cycle
	parallel create create_one;   check running; step create
	boot=1; parallel boot ready_one; step boot
	parallel stop stop_one;       check stopped; step stop
	parallel start start_one;     check running; step start
	boot=2; parallel boot ready_one; step boot
	parallel destroy destroy_one; check gone;    step destroy
	say "cycle $cycle/$CYCLES: $(( $(lc_ms) - t_cycle )) ms (ms per step: ${times[*]})"
	[ ! -s "$LC_TMP/clashes" ] || fail "port clash seen by the monitor: $(cat "$LC_TMP/clashes")"
	[ ! -s "$LC_TMP/errors" ] || fail "vmctl list failed: $(cat "$LC_TMP/errors")"
done
touch "$LC_TMP/stop-monitor"
wait "$monitor_pid" || true
[ ! -s "$LC_TMP/clashes" ] || fail "port clash seen by the monitor: $(cat "$LC_TMP/clashes")"
[ ! -s "$LC_TMP/errors" ] || fail "vmctl list failed: $(cat "$LC_TMP/errors")"
lc_assert_no_qemu "after the soak"
lc_server_gone || fail "tmux server left after the soak"
say "PASS: $CYCLES cycles of $N VMs in $(( ($(lc_ms) - t_all) / 1000 )) s: 0 errors, 0 leaked processes, 0 port clashes ($(wc -l < "$LC_TMP/samples") list samples)"
