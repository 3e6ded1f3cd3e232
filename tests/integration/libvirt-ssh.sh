#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# ssh, wait and vnc on a libvirt host (--connect qemu:///system, libvirtd
# started by scripts/libvirtd.sh), with the Debian 12 cloud image: one
# guest boot.  A create that fails leaves no key directory; `create
# --wait` keeps the VM's keys in STATE_DIR/libvirt/UUID (0700, keys 0600,
# no private host key, no seed) and returns once the guest's lease
# answers ssh with the pinned key; `vmctl ssh NAME -- cat /etc/hostname`
# is the VM's name, exit statuses and words pass through; `ssh -F` with
# `ssh-config`'s output logs in and `cp` copies both ways; `wait` agrees;
# `vnc` prints the port and password of the live XML (and they open the
# VNC server); a replaced host key is refused by ssh and by wait; a
# stopped VM is said so; destroy removes the key directory.  Where a
# second libvirt host can run here (helpers/remote-host.sh: ip netns),
# the VM is moved there and steps 5-7 run on it over qemu+ssh: ssh jumps
# through that host with the URI's own key and pinned host key, and so
# does `ssh -F FILE` with `vmctl ssh-config NAME`'s output.
TEST_NAME=libvirt-ssh
. "$(dirname "$0")/lib.sh"
need jq qemu-img ssh scp ssh-keygen virsh
unset VMCTL_SYSFS_ROOT VMCTL_PROC_ROOT VMCTL_DEV_ROOT VMCTL_CONNECT
URI=qemu:///system
LVURI=$URI       # where lv() reaches the VM: this host, or the second one
vsh() { virsh -q -c "$URI" "$@"; }
lv() { "$VMCTL" --connect "$LVURI" "$@"; }
REMOTE=          # the second host, when started

[ "$(id -u)" -eq 0 ] || skip "qemu:///system needs root here"
vsh version >/dev/null 2>&1 ||
	skip "libvirtd is not running (as root: scripts/libvirtd.sh start)"
vsh net-info vmctl >/dev/null 2>&1 ||
	skip "no libvirt network vmctl (scripts/libvirtd.sh start)"
IMG_DIR=${VMCTL_TEST_CACHE:-/var/cache/vmctl-test}/cloud
"$ROOT/scripts/build-cloud-image.sh" "$IMG_DIR" >&2 || skip "cannot build the cloud image"
[ -f "$IMG_DIR/debian-12-test.qcow2" ] || skip "no cloud image"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-lvssh.XXXXXX")
export LC_ALL=C VMCTL_STATE_DIR=$TMP/state VMCTL_HOSTS_FILE=$TMP/hosts.yaml
KEYS=$VMCTL_STATE_DIR/libvirt
# $$ alone may repeat in another PID namespace sharing this libvirtd
id=$$-$RANDOM
vm=lvssh-$id bad=lvssh-bad-$id
uploaded=()      # kernel and initrd volumes this run sent (prefixes)
base_name=

cleanup() {
	local rc=$? d v
	set +e
	for d in "$vm" "$bad"; do
		vsh destroy "$d" >/dev/null 2>&1
		vsh undefine --nvram "$d" >/dev/null 2>&1 ||
			vsh undefine "$d" >/dev/null 2>&1
		vsh vol-delete --pool vmctl "$d.qcow2" >/dev/null 2>&1
		vsh vol-delete --pool vmctl "$d-seed.iso" >/dev/null 2>&1
		vsh vol-delete --pool vmctl "$d-serial.log" >/dev/null 2>&1
	done
	# the base is this run's own; kernel and initrd only if it sent them
	for p in ${base_name:+"$base_name"} "${uploaded[@]}"; do
		for v in $(vsh vol-list vmctl | awk '{ print $1 }' |
			grep -F -- "$p."); do
			vsh vol-delete --pool vmctl "$v" >/dev/null 2>&1
		done
	done
	[ -z "$REMOTE" ] || remote_host_stop
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT

# What a create sent besides the base: deleted at the end.
note_uploads() {
	local f
	for f in "$IMG_DIR/vmlinuz" "$IMG_DIR/initrd.img"; do
		grep -qF "Uploaded $f to" "$1" &&
			uploaded+=("base-sha256-$(sha256sum "$f" | cut -d' ' -f1).raw")
	done
	return 0
}

# A base of this run's own (another digest), so deleting it at the end
# cannot touch another test's VM.
cp "$IMG_DIR/debian-12-test.qcow2" "$TMP/base.qcow2"
qemu-img resize -q "$TMP/base.qcow2" "+$(( $$ % 1000 + 1 ))M"
base_name=base-sha256-$(sha256sum "$TMP/base.qcow2" | cut -d' ' -f1).qcow2

spec() { # NAME [EXTRA YAML]
	cat > "$TMP/$1.yaml" <<YAML
name: $1
cpus: 2
memory: 1G
accel: tcg
disk:
  image: $TMP/base.qcow2
kernel:
  image: $IMG_DIR/vmlinuz
  initrd: $IMG_DIR/initrd.img
  # no_timer_check: under TCG on a loaded host the IO-APIC timer check
  # can fail and panic the guest.
  cmdline: root=LABEL=root rw console=ttyS0 no_timer_check
cloud_init: {user: vmadmin}
# a display of its own: libvirt's autoport starts at 5900, where direct
# VMs of other tests listen too (QEMU then fails to bind, a race)
vnc: {listen: 127.0.0.1, display: $(( 50 + RANDOM % 50 ))}
${2:-}
YAML
	printf '%s\n' "$TMP/$1.yaml"
}

# 1. A create that fails after its keys were made leaves none of them.
rc=0
lv create "$(spec "$bad" "qemu: {binary: $TMP/no-qemu}")" > /dev/null \
	2> "$TMP/err-bad" || rc=$?
note_uploads "$TMP/err-bad"
[ "$rc" -ne 0 ] || fail "create with a missing emulator succeeded"
grep -q "defining the domain" "$TMP/err-bad" ||
	fail "the bad create failed before its keys: $(cat "$TMP/err-bad")"
[ -z "$(ls -A "$KEYS" 2>/dev/null)" ] ||
	fail "a failed create left keys: $(ls -A "$KEYS")"
! vsh dominfo "$bad" >/dev/null 2>&1 || fail "a failed create left its domain"
say "failed create: no domain, no keys ($(tail -n 1 "$TMP/err-bad"))"

# 2. create --wait: up when the lease answers ssh with the pinned key and
# cloud-init is done.
start=$SECONDS
lv create --wait=900 "$(spec "$vm")" > "$TMP/create.out" 2> "$TMP/create.err" ||
	fail "create --wait failed: $(cat "$TMP/create.out" "$TMP/create.err")"
note_uploads "$TMP/create.err"
grep -q "^Ready after [0-9.]* s: vmctl ssh $vm\$" "$TMP/create.out" ||
	fail "create --wait did not say ready: $(cat "$TMP/create.out")"
say "create --wait took $((SECONDS - start)) s: $(grep -o 'Ready after [0-9.]* s' "$TMP/create.out")"

uuid=$(vsh domuuid "$vm") || fail "no domain $vm"
dir=$KEYS/$uuid
[ -d "$dir" ] || fail "no key directory $dir: $(ls -la "$KEYS")"
[ "$(stat -c %a "$KEYS")" = 700 ] && [ "$(stat -c %a "$dir")" = 700 ] ||
	fail "key directories not 0700: $(stat -c '%a %n' "$KEYS" "$dir")"
for f in id_ed25519 known_hosts spec.json; do
	[ "$(stat -c %a "$dir/$f")" = 600 ] || fail "$f is not 0600"
done
[ ! -e "$dir/ssh_host_ed25519_key" ] && [ ! -e "$dir/seed.iso" ] ||
	fail "the guest's private host key or the seed stayed here: $(ls "$dir")"
[ "$(ls -A "$KEYS")" = "$uuid" ] || fail "more than the key directory: $(ls -A "$KEYS")"
grep -q "^vmctl-$vm ssh-ed25519 " "$dir/known_hosts" ||
	fail "known_hosts does not pin vmctl-$vm: $(cat "$dir/known_hosts")"

# 3. ssh: the guest's name, exit statuses and words as given.
name=$(lv ssh "$vm" -- cat /etc/hostname 2> "$TMP/err3") ||
	fail "ssh failed: $(cat "$TMP/err3")"
[ "$name" = "$vm" ] || fail "ssh cat /etc/hostname: '$name', want $vm"
rc=0
lv ssh "$vm" -- sh -c 'exit 7' || rc=$?
[ "$rc" = 7 ] || fail "remote exit status 7 came back as $rc"
words=$(lv ssh "$vm" -- printf '%s|' 'a b' '$HOME')
[ "$words" = 'a b|$HOME|' ] || fail "arguments were not passed as given: $words"
ip=$(lv status "$vm" --json | jq -r .ip)
printed=$(lv ssh --print "$vm")
for want in "IdentityFile=$dir/id_ed25519 " "UserKnownHostsFile=$dir/known_hosts " \
	"StrictHostKeyChecking=yes " "HostKeyAlias=vmctl-$vm " "HostName=$ip " \
	"User=vmadmin "; do
	case $printed in *"$want"*) ;; *) fail "ssh --print lacks '$want': $printed" ;; esac
done
case $printed in *ProxyJump*) fail "a local URI jumps: $printed" ;; esac
# ssh-config: OpenSSH's own ssh logs in with it; cp copies both ways
lv ssh-config "$vm" > "$TMP/ssh.conf" || fail "ssh-config"
out=$(ssh -F "$TMP/ssh.conf" -o BatchMode=yes "$vm" cat /etc/hostname) ||
	fail "ssh -F with ssh-config's output: $(cat "$TMP/ssh.conf")"
[ "$out" = "$vm" ] || fail "ssh -F: hostname '$out'"
printf 'x\n%.0s' $(seq 100) > "$TMP/a b\$c"
lv cp "$TMP/a b\$c" "$vm:f g" && lv cp "$vm:f g" "$TMP/back" ||
	fail "cp to and from the guest"
cmp "$TMP/a b\$c" "$TMP/back" || fail "cp: the bytes differ"
out=$(lv wait "$vm" --timeout 60) || fail "wait on a ready VM failed"
case $out in "VM $vm: ready after "*) ;; *) fail "wait said: $out" ;; esac
vout=$(lv -v wait "$vm" --for ssh --timeout 60 2>&1 >/dev/null) || fail "wait --for ssh failed"
case $vout in *"VM $vm: address (DHCP lease) after "*"VM $vm: SSH accepting the key after "*) ;;
*) fail "wait -v --for ssh said: $vout" ;; esac
case $vout in *cloud-init*) fail "wait --for ssh asked cloud-init: $vout" ;; esac
say "ssh to $ip: hostname $name, exit status, words; wait: $out"

# 4. vnc: the port and password of the live domain, and they work.
vnc=$(lv vnc "$vm" --json) || fail "vnc --json failed"
vsh dumpxml --security-info "$vm" > "$TMP/live.xml"
xport=$(grep -o "<graphics type='vnc' port='[0-9]*'" "$TMP/live.xml" | grep -o "[0-9]*'$" | tr -d "'")
xpass=$(grep -o "passwd='[^']*'" "$TMP/live.xml" | sed "s/passwd='\(.*\)'/\1/")
[ -n "$xport" ] && [ -n "$xpass" ] || fail "no VNC port or password in the live XML"
[ "$(jq -r .port <<<"$vnc")" = "$xport" ] || fail "vnc port: $vnc, XML $xport"
[ "$(jq -r .password <<<"$vnc")" = "$xpass" ] || fail "vnc password: $vnc"
[ "$(jq -r .endpoint <<<"$vnc")" = "127.0.0.1:$xport" ] || fail "vnc endpoint: $vnc"
[ "$(jq -r .backend <<<"$vnc")/$(jq -r .host <<<"$vnc")/$(jq -r .running <<<"$vnc")" = \
	"libvirt/$URI/true" ] || fail "vnc backend/host/running: $vnc"
text=$(lv vnc "$vm")
[ "$text" = "endpoint: 127.0.0.1:$xport
url:      vnc://127.0.0.1:$xport
password: $xpass" ] || fail "vnc text: $text"
login=$(lc_vnc_login "$xport" "$xpass") && [ "$login" != ok ] &&
	fail "the VNC server refused vmctl's password: $login"
say "vnc: port $xport and password as in the live XML (login: ${login:-no DES here})"

# 4b. On another host: moved there cold, the guest boots on that host's
# NAT network; ssh reaches it through the host (ProxyJump, with the key
# and pinned host key the URI names) and the same pinned guest key.
shown_uri=$URI   # how vmctl names the VM's host in messages
if ip netns list >/dev/null 2>&1; then
	. "$ROOT/tests/integration/helpers/remote-host.sh"
	rrc=0
	remote_host_start "$TMP/remote" || rrc=$?
	if [ "$rrc" -eq 0 ]; then
		REMOTE=$REMOTE_URI
		printf 'hosts:\n  far: %s\n' "$REMOTE_URI" > "$VMCTL_HOSTS_FILE"
		start=$SECONDS
		lv move "$vm" --to far > "$TMP/move.out" 2> "$TMP/move.err" ||
			fail "move to the second host: $(cat "$TMP/move.err")"
		LVURI=far shown_uri=$REMOTE_URI
		lv wait "$vm" --timeout 900 > "$TMP/rwait" 2>&1 ||
			fail "wait there: $(cat "$TMP/rwait")"
		name=$(lv ssh "$vm" -- cat /etc/hostname 2> "$TMP/err4b") ||
			fail "ssh there: $(cat "$TMP/err4b")"
		[ "$name" = "$vm" ] || fail "ssh there: hostname '$name'"
		printed=$(lv ssh --print "$vm")
		case $printed in
		*"ProxyCommand=ssh -F $dir/ssh-jump.conf -W "*) ;;
		*) fail "ssh there does not jump with the URI's keys: $printed" ;;
		esac
		grep -q "IdentityFile \"$REMOTE_DIR/ssh/id_ed25519\"" "$dir/ssh-jump.conf" ||
			fail "the jump config: $(cat "$dir/ssh-jump.conf")"
		# the printed config carries the jump: ssh -F needs no more
		lv ssh-config "$vm" > "$TMP/far.conf" || fail "ssh-config there"
		name=$(ssh -F "$TMP/far.conf" -o BatchMode=yes "$vm" \
			cat /etc/hostname 2> "$TMP/err4c") ||
			fail "ssh -F with ssh-config there: $(cat "$TMP/err4c" "$TMP/far.conf")"
		[ "$name" = "$vm" ] || fail "ssh -F there: hostname '$name'"
		lv cp "$vm:/etc/hostname" "$TMP/rhost" && [ "$(cat "$TMP/rhost")" = "$vm" ] ||
			fail "cp from the guest there"
		say "moved to $REMOTE_IP, up again in $((SECONDS - start)) s; ssh through it: hostname $name"
	else
		[ "$rrc" -eq 77 ] || fail "the second host did not start"
		say "no second host here: ssh through a remote host not tested"
	fi
fi

# 5. A replaced host key is refused, by ssh and by wait.
lv ssh "$vm" -- sudo sh -c 'rm -f /etc/ssh/ssh_host_ed25519_key* &&
	ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key &&
	systemctl restart ssh' || fail "replacing the guest's host key"
if lv ssh "$vm" -- true 2> "$TMP/err5"; then
	fail "a replaced host key was accepted"
fi
grep -q "not the one vmctl pinned" "$TMP/err5" || fail "unclear refusal: $(cat "$TMP/err5")"
if lv wait "$vm" --timeout 60 2> "$TMP/err5w"; then
	fail "wait accepted a replaced host key"
fi
grep -q "not the one vmctl pinned" "$TMP/err5w" || fail "wait: $(cat "$TMP/err5w")"
say "replaced host key refused: $(tail -n 1 "$TMP/err5")"

# 6. Stopped: ssh and vnc say so.
lv kill "$vm" > /dev/null || fail "kill"
rc=0
lv ssh "$vm" -- true 2> "$TMP/err6" || rc=$?
[ "$rc" = 1 ] && grep -q "VM $vm is stopped" "$TMP/err6" ||
	fail "ssh to a stopped VM: $rc $(cat "$TMP/err6")"
text=$(lv vnc "$vm") && [ "$(tail -n 1 <<<"$text")" = "(VM $vm is stopped)" ] ||
	fail "vnc of a stopped VM: $text"
! lv wait "$vm" --timeout 5 2> "$TMP/err6w" &&
	grep -q "waiting for SSH: VM $vm stopped while waiting" "$TMP/err6w" &&
	grep -q "the serial log: vmctl --connect $shown_uri logs $vm" "$TMP/err6w" ||
	fail "wait on a stopped VM: $(cat "$TMP/err6w")"
say "stopped: ssh, vnc and wait say so ($(head -n 1 "$TMP/err6w"))"

# 7. destroy removes the key directory.
lv destroy --force "$vm" > /dev/null || fail "destroy"
[ ! -e "$dir" ] || fail "destroy left $dir"
if [ -n "$REMOTE" ]; then
	! remote_virsh dominfo "$vm" >/dev/null 2>&1 || fail "destroy left the domain there"
else
	! vsh dominfo "$vm" >/dev/null 2>&1 || fail "destroy left the domain"
fi
say "destroy removed the domain and $dir"
