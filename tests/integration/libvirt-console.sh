#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A libvirt VM's serial log and console (--connect qemu:///system), with
# the busybox guest booted with a shell on its console (rdinit=/bin/sh):
# the log is a volume of the vmctl pool (NAME-serial.log) read through
# libvirt's storage API, its --raw bytes those of the volume and its
# plain form free of the guest's escape sequences; `logs -f` sees lines as
# they come and leaves cleanly on Ctrl-C; `console` with stdin piped runs
# a command in the guest's shell and shows its answer, Ctrl-] leaves at
# once; `restart` stops and starts it (a second boot in the log); destroy
# leaves no log volume.
TEST_NAME=libvirt-console
. "$(dirname "$0")/lib.sh"
need jq
unset VMCTL_SYSFS_ROOT VMCTL_PROC_ROOT VMCTL_DEV_ROOT VMCTL_CONNECT
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-lvcon.XXXXXX")
export LC_ALL=C VMCTL_STATE_DIR=$TMP/state VMCTL_HOSTS_FILE=$TMP/hosts.yaml
URI=qemu:///system
POOL_DIR=/var/lib/libvirt/images/vmctl
vm=lvcon$$
follower= console_pid=

vsh() { virsh -q -c "$URI" "$@"; }
lv() { "$VMCTL" --connect "$URI" "$@"; }
ms() { date +%s%3N; }

cleanup() {
	set +e
	exec 3>&- 2>/dev/null
	for p in $follower $console_pid; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	vsh destroy "$vm" >/dev/null 2>&1
	vsh undefine --nvram "$vm" >/dev/null 2>&1 ||
		vsh undefine "$vm" >/dev/null 2>&1
	for v in "$vm.qcow2" "$vm-seed.iso" "$vm-serial.log" \
		"$vm-serial.log.1"; do
		vsh vol-delete --pool vmctl "$v" >/dev/null 2>&1
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || skip "qemu:///system needs root here"
if ! command -v virsh >/dev/null 2>&1 || ! vsh version >/dev/null 2>&1; then
	skip "libvirtd is not running (as root: scripts/libvirtd.sh start)"
fi
vsh net-info vmctl >/dev/null 2>&1 ||
	skip "no libvirt network vmctl (scripts/libvirtd.sh start)"
GUEST=$(guest_dir) || skip "cannot build the test guest"

cat > "$TMP/$vm.yaml" <<YAML
name: $vm
cpus: 1
memory: 128M
accel: tcg
kernel:
  image: $GUEST/vmlinuz
  initrd: $GUEST/initrd.img
  cmdline: console=ttyS0 panic=-1 no_timer_check rdinit=/bin/sh
vnc: false
YAML

# ---- create: the serial log is a volume of the pool
lv create "$TMP/$vm.yaml" --json > "$TMP/create" 2> "$TMP/err" ||
	fail "create failed: $(cat "$TMP/err")"
[ "$(jq -r .state "$TMP/create")" = running ] || fail "create: $(cat "$TMP/create")"
logvol=$(vsh vol-path --pool vmctl "$vm-serial.log" 2>&1) ||
	fail "no log volume $vm-serial.log: $logvol"
[ "$logvol" = "$POOL_DIR/$vm-serial.log" ] || fail "log volume at $logvol"
xml=$(vsh dumpxml "$vm")
grep -q "<log file='$POOL_DIR/$vm-serial.log'" <<<"$xml" ||
	fail "the domain does not log to the pool: $(grep '<log' <<<"$xml")"

# ---- logs: the guest's boot, read through libvirt
logs_has() { lv logs "$vm" 2>/dev/null > "$TMP/has"; grep -q "$1" "$TMP/has"; }
t0=$(ms)
wait_for 120 logs_has "job control turned off" ||
	fail "logs never showed the shell: $(lv logs "$vm" 2>&1 | tail -5)"
t_boot=$(( $(ms) - t0 ))
lv logs "$vm" > "$TMP/plain" || fail "logs failed"
grep -q "Linux version" "$TMP/plain" || fail "no boot lines in logs"
lv logs --raw "$vm" > "$TMP/raw" || fail "logs --raw failed"
# --raw is the volume's bytes (the file, read here only to compare)
cmp -n "$(stat -c %s "$TMP/raw")" "$TMP/raw" "$POOL_DIR/$vm-serial.log" ||
	fail "logs --raw differs from the volume's bytes"
# busybox's shell asks the terminal where its cursor is (ESC [ 6 n):
# --raw keeps it, the plain form removes every escape
grep -q $'\e' "$TMP/raw" || fail "no escape sequence in the raw log"
grep -q $'\e' "$TMP/plain" && fail "logs let an escape sequence through"
grep -q $'\r' "$TMP/plain" && fail "logs let a CR through"

# ---- console: a command in the guest's shell, its answer back
{ sleep 1; printf 'echo marker-$((6*7))\n'; sleep 3; } |
	lv console "$vm" > "$TMP/console" 2> "$TMP/cerr" ||
	fail "console failed: $(cat "$TMP/cerr")"
grep -q "marker-42" "$TMP/console" ||
	fail "the shell's answer did not come back: $(cat -A "$TMP/console")"
grep -q "Ctrl-\]" "$TMP/cerr" || fail "no banner: $(cat "$TMP/cerr")"

# ---- logs -f: a new line as it comes; Ctrl-C leaves with status 0
# (vmctl itself in the background, not a subshell, so the signal is its)
"$VMCTL" --connect "$URI" logs -f "$vm" > "$TMP/follow" 2>&1 &
follower=$!
wait_for 30 grep -q "marker-42" "$TMP/follow" ||
	fail "logs -f did not print the log so far"
{ sleep 0.5; printf 'echo follow-$((3*3))\n'; sleep 2; } |
	lv -q console "$vm" > /dev/null || fail "console (second) failed"
wait_for 30 grep -q "follow-9" "$TMP/follow" ||
	fail "logs -f did not see the new line: $(tail -3 "$TMP/follow")"
kill -INT "$follower"
rc=0
wait "$follower" || rc=$?
follower=
[ "$rc" -eq 0 ] || fail "logs -f after Ctrl-C: exit $rc"

# ---- Ctrl-] leaves at once, though stdin stays open (attach: the same)
mkfifo "$TMP/in"
"$VMCTL" --connect "$URI" -q attach "$vm" < "$TMP/in" > /dev/null 2>&1 &
console_pid=$!
exec 3> "$TMP/in"
sleep 1
kill -0 "$console_pid" 2>/dev/null || fail "console left before Ctrl-]"
t0=$(ms)
printf '\035' >&3
wait_for 10 eval '! kill -0 "$console_pid" 2>/dev/null' ||
	fail "Ctrl-] did not leave the console"
t_escape=$(( $(ms) - t0 ))
rc=0
wait "$console_pid" || rc=$?
console_pid=
exec 3>&-
[ "$rc" -eq 0 ] || fail "console after Ctrl-]: exit $rc"

# ---- on a terminal (script(1) gives it one): raw while the console
# runs, as it was after SIGTERM
if command -v script >/dev/null 2>&1; then
	cat > "$TMP/tty.sh" <<SH
stty -g > "$TMP/tty.before"
"$VMCTL" --connect "$URI" -q console "$vm" < /dev/tty > /dev/null 2>&1 &
p=\$!
sleep 2
stty -g > "$TMP/tty.during"
kill -TERM \$p
wait \$p
echo \$? > "$TMP/tty.rc"
stty -g > "$TMP/tty.after"
SH
	sleep 8 | script -qec "bash $TMP/tty.sh" /dev/null > /dev/null 2>&1 ||
		fail "the terminal run failed"
	[ -s "$TMP/tty.after" ] || fail "the terminal run did not finish"
	[ "$(cat "$TMP/tty.rc")" = 0 ] ||
		fail "console after SIGTERM: exit $(cat "$TMP/tty.rc")"
	cmp -s "$TMP/tty.before" "$TMP/tty.during" &&
		fail "the terminal was not raw while the console ran"
	cmp -s "$TMP/tty.before" "$TMP/tty.after" ||
		fail "the terminal was not restored after SIGTERM"
fi

# ---- restart: stop (the shell ignores the power button: destroyed),
# then start; the guest boots again
lv restart "$vm" --timeout 2 > "$TMP/restart" 2>&1 ||
	fail "restart failed: $(cat "$TMP/restart")"
grep -q "^Stopped $vm: libvirt destroyed it" "$TMP/restart" &&
	grep -q "^Started VM $vm" "$TMP/restart" ||
	fail "restart said: $(cat "$TMP/restart")"
[ "$(vsh domstate "$vm")" = running ] || fail "after restart: $(vsh domstate "$vm")"
boots() { [ "$(lv logs "$vm" | grep -c "Linux version" || true)" -ge 2 ]; }
wait_for 120 boots || fail "no second boot in the log"
out=$(lv restart "$vm" --timeout 1 --json 2>&1) || fail "restart --json: $out"
[ "$(sed -n '/^{/,$p' <<<"$out" | jq -r .state)" = running ] ||
	fail "restart --json: $out"

# ---- console of a stopped VM, logs and restart of none
lv kill "$vm" > /dev/null || fail "kill failed"
rc=0
lv console "$vm" < /dev/null > /dev/null 2> "$TMP/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "is not running" "$TMP/err" ||
	fail "console of a stopped VM: exit $rc: $(cat "$TMP/err")"
for cmd in logs restart; do
	rc=0
	lv $cmd "nosuch$$" > /dev/null 2> "$TMP/err" || rc=$?
	[ "$rc" -eq 1 ] && grep -q "no VM named" "$TMP/err" ||
		fail "$cmd of no VM: exit $rc: $(cat "$TMP/err")"
done

# ---- destroy: no log volume left
lv destroy --force "$vm" > /dev/null || fail "destroy failed"
vols=$(vsh vol-list vmctl)
grep -q -- "$vm-serial" <<<"$vols" && fail "log volume left: $(grep -- "$vm" <<<"$vols")"
[ ! -e "$POOL_DIR/$vm-serial.log" ] || fail "the log file is left"

say "ok: shell on the console ${t_boot} ms after create; Ctrl-] left in ${t_escape} ms"
