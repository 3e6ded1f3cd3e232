#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Five creates at once (ssh_port auto, VNC display auto) all succeed with
# five distinct SSH ports and five distinct VNC displays, every VNC port
# answers RFB; five destroys at once then leave nothing.
TEST_NAME=lifecycle-parallel
. "$(dirname "$0")/lib.sh"
lc_setup parallel

N=5
names=()
for ((i = 1; i <= N; i++)); do
	names+=("par$i")
	lc_spec "par$i" >/dev/null
done

t0=$(lc_ms)
pids=()
for n in "${names[@]}"; do
	vmc create "$LC_TMP/$n.yaml" > "$LC_TMP/$n.out" 2>&1 &
	pids+=("$!")
done
failed=()
for ((i = 0; i < N; i++)); do
	wait "${pids[$i]}" || failed+=("${names[$i]} (exit $?): $(tr '\n' ' ' < "$LC_TMP/${names[$i]}.out")")
done
t1=$(lc_ms)
if [ ${#failed[@]} -gt 0 ]; then
	printf '  %s\n' "${failed[@]}"
	fail "${#failed[@]} of $N parallel creates failed"
fi
say "$N parallel creates took $((t1 - t0)) ms"

list=$(vmc list --json) || fail "list failed"
[ "$(jq length <<<"$list")" = "$N" ] || fail "list shows $(jq length <<<"$list") VMs"
[ "$(jq '[.[] | select(.state == "running")] | length' <<<"$list")" = "$N" ] ||
	fail "not all running: $(jq -c '[.[] | {name, state}]' <<<"$list")"
ssh=$(jq -r '.[].ssh_port' <<<"$list" | sort -u | wc -l)
vnc=$(jq -r '.[].vnc.display' <<<"$list" | sort -u | wc -l)
[ "$ssh" = "$N" ] || fail "SSH ports not distinct: $(jq -c '[.[].ssh_port]' <<<"$list")"
[ "$vnc" = "$N" ] || fail "VNC displays not distinct: $(jq -c '[.[].vnc.display]' <<<"$list")"
[ "$(jq -r '.[].pid' <<<"$list" | sort -u | wc -l)" = "$N" ] || fail "pids not distinct"
for n in "${names[@]}"; do
	pid=$(jq -r --arg n "$n" '.[] | select(.name == $n) | .pid' <<<"$list")
	lc_is_qemu "$pid" || fail "$n: pid $pid is not QEMU"
	port=$(jq -r --arg n "$n" '.[] | select(.name == $n) | .vnc.port' <<<"$list")
	lc_assert_vnc_auth "$port"
	port=$(jq -r --arg n "$n" '.[] | select(.name == $n) | .ssh_port' <<<"$list")
	lc_port_listens "$port" || fail "$n: nothing listens on SSH port $port"
done
[ "$(lc_qemu_pids | wc -l)" = "$N" ] || fail "$(lc_qemu_pids | wc -l) QEMUs run, not $N"
say "ssh ports $(jq -c '[.[].ssh_port]' <<<"$list"), vnc displays $(jq -c '[.[].vnc.display]' <<<"$list")"

pids=()
for n in "${names[@]}"; do
	vmc destroy --force "$n" > "$LC_TMP/$n.out" 2>&1 &
	pids+=("$!")
done
failed=()
for ((i = 0; i < N; i++)); do
	wait "${pids[$i]}" || failed+=("${names[$i]} (exit $?): $(tr '\n' ' ' < "$LC_TMP/${names[$i]}.out")")
done
if [ ${#failed[@]} -gt 0 ]; then
	printf '  %s\n' "${failed[@]}"
	fail "${#failed[@]} of $N parallel destroys failed"
fi
[ -z "$(ls -A "$VMCTL_STATE_DIR/vms")" ] || fail "left in vms/: $(ls -A "$VMCTL_STATE_DIR/vms")"
lc_assert_no_qemu "after the destroys"
lc_server_gone || fail "tmux server left: $(tmux -L "$VMCTL_TMUX_SOCKET" ls 2>&1)"
say "$N parallel destroys left nothing"
