#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A second libvirt "host" on this machine, for migration tests.
#
#   . tests/integration/helpers/remote-host.sh
#   remote_host_start || skip ...      sets REMOTE_URI, REMOTE_IP, ...
#   remote_virsh list --all            virsh on the remote's libvirtd
#   remote_host_stop                   (in the test's trap; safe always)
#
# or as a script: remote-host.sh start|stop|status DIR.
#
# The host is a network namespace (a veth pair: $REMOTE_NET.1 on this
# side, $REMOTE_NET.2 inside) and a mount namespace of its own: a tmpfs
# over /run (so /run/libvirt, the daemons' pid files and sshd's privsep
# directory are its own) and private bind mounts over /var/lib/libvirt,
# /var/log/libvirt, /var/cache/libvirt and /etc/libvirt (a copy of this
# machine's *.conf files, without its domains, networks and pools, with a
# host_uuid of its own: libvirt refuses to migrate to "the same host").
# In it run virtlogd, libvirtd (TCG; a `vmctl` NAT network with its own
# bridge and subnet and a `vmctl` pool) and an sshd listening only on
# $REMOTE_NET.2:22, whose host key is made here and pinned in a
# known_hosts file; root's key is authorized only through this host's
# own authorized_keys (AuthorizedKeysFile): /root/.ssh is never touched.
#
# REMOTE_URI is qemu+ssh://root@IP/system with keyfile, known_hosts and
# a `command` (an ssh that reads only this host's ssh_config, which pins
# the key: libvirt's plain ssh transport hands known_hosts to libssh
# only).  Nothing here touches the main libvirtd.  stop removes all
# that start made (domains, daemons, namespace, veth, files), also after
# a failed or partial start.

REMOTE_NET=${REMOTE_NET:-10.78.0}
REMOTE_IP=$REMOTE_NET.2
REMOTE_WAIT_S=${REMOTE_WAIT_S:-30}

_rh_say() { echo "remote-host: $*" >&2; }

# remote_virsh ARGS: virsh against the remote libvirtd, in its namespaces.
remote_virsh() {
	local pid
	pid=$(cat "$REMOTE_DIR/libvirtd.pid" 2>/dev/null) || return 1
	nsenter -t "$pid" -m -n virsh -q -c qemu:///system "$@"
}

# The remote's view of a path under /var/lib/libvirt or /var/log/libvirt.
remote_path() {
	case $1 in
	/var/lib/libvirt/*) echo "$REMOTE_DIR/lib/${1#/var/lib/libvirt/}" ;;
	/var/log/libvirt/*) echo "$REMOTE_DIR/log/${1#/var/log/libvirt/}" ;;
	*) echo "$1" ;;
	esac
}

_rh_inside() { # the script run inside the namespaces
	cat <<EOF
set -eu
mount -t tmpfs -o mode=0755 vmctl-remote-run /run
mkdir -p /run/libvirt /run/sshd /run/lock
mount --bind '$REMOTE_DIR/lib' /var/lib/libvirt
mount --bind '$REMOTE_DIR/log' /var/log/libvirt
mount --bind '$REMOTE_DIR/cache' /var/cache/libvirt
mount --bind '$REMOTE_DIR/etc' /etc/libvirt
ip link set lo up
virtlogd -d
libvirtd -d
i=0
while [ ! -s /run/libvirtd.pid ] || [ ! -s /run/virtlogd.pid ]; do
	i=\$((i + 1)); [ \$i -lt 100 ] || exit 1; sleep 0.05
done
cp /run/virtlogd.pid '$REMOTE_DIR/virtlogd.pid'
cp /run/libvirtd.pid '$REMOTE_DIR/libvirtd.pid'
/usr/sbin/sshd -f '$REMOTE_DIR/ssh/sshd_config'
EOF
}

_rh_network_xml() {
	cat <<EOF
<network>
  <name>vmctl</name>
  <forward mode='nat'/>
  <bridge name='vmctlbr7' stp='on' delay='0'/>
  <ip address='192.168.124.1' netmask='255.255.255.0'>
    <dhcp><range start='192.168.124.2' end='192.168.124.254'/></dhcp>
  </ip>
</network>
EOF
}

# remote_host_start [DIR]: 0 with REMOTE_URI set; 1 on failure (stop
# has been run); 77 when this machine cannot have one.
remote_host_start() {
	local t0 ns veth uuid key i
	t0=$(date +%s%N)
	[ "$(id -u)" -eq 0 ] || { _rh_say "needs root"; return 77; }
	for c in ip nsenter unshare sshd ssh-keygen libvirtd virtlogd virsh; do
		command -v "$c" >/dev/null 2>&1 ||
			{ _rh_say "$c is not installed"; return 77; }
	done
	if ip -br addr | grep -q " $REMOTE_NET\.1/"; then
		_rh_say "$REMOTE_NET.1 is in use already (REMOTE_NET=...)"
		return 77
	fi
	REMOTE_DIR=${1:-$(mktemp -d "${TMPDIR:-/tmp}/vmctl-remote.XXXXXX")}
	export REMOTE_DIR
	mkdir -p "$REMOTE_DIR" && chmod 0755 "$REMOTE_DIR" || return 1
	ns=vmctlrh$$
	veth=vrh$$
	echo "$ns" > "$REMOTE_DIR/netns"
	echo "$veth" > "$REMOTE_DIR/veth"
	if ! ip netns add "$ns" 2>/dev/null; then
		rm -f "$REMOTE_DIR/netns"
		_rh_say "ip netns is not available"
		remote_host_stop
		return 77
	fi
	mkdir -p "$REMOTE_DIR"/{lib,log/qemu,cache,etc,ssh} "$REMOTE_DIR/etc/qemu" \
		"$REMOTE_DIR/etc/storage" &&
	cp /etc/libvirt/*.conf "$REMOTE_DIR/etc/" &&
	{ [ ! -d /etc/libvirt/nwfilter ] ||
	  cp -r /etc/libvirt/nwfilter "$REMOTE_DIR/etc/"; } || {
		remote_host_stop; return 1; }
	uuid=$(cat /proc/sys/kernel/random/uuid)
	echo "host_uuid = \"$uuid\"" >> "$REMOTE_DIR/etc/libvirtd.conf"
	echo "$uuid" > "$REMOTE_DIR/host_uuid"
	# ssh: the host's key, the client's key, both only here
	key=$REMOTE_DIR/ssh
	ssh-keygen -q -t ed25519 -N '' -f "$key/host_key" -C remote-host &&
	ssh-keygen -q -t ed25519 -N '' -f "$key/id_ed25519" -C remote-client ||
		{ remote_host_stop; return 1; }
	cp "$key/id_ed25519.pub" "$key/authorized_keys"
	echo "$REMOTE_IP $(cut -d' ' -f1,2 "$key/host_key.pub")" > \
		"$key/known_hosts"
	cat > "$key/sshd_config" <<EOF
ListenAddress $REMOTE_IP:22
HostKey $key/host_key
PidFile $REMOTE_DIR/sshd.pid
AuthorizedKeysFile $key/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
EOF
	cat > "$key/ssh_config" <<EOF
Host $REMOTE_IP
  UserKnownHostsFile $key/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  IdentityFile $key/id_ed25519
  IdentitiesOnly yes
  BatchMode yes
  ConnectTimeout 10
EOF
	printf '#!/bin/sh\nexec ssh -F %s "$@"\n' "$key/ssh_config" > "$key/ssh"
	chmod 0755 "$key/ssh"
	# the wire
	ip link add "${veth}h" type veth peer name "${veth}n" &&
	ip link set "${veth}n" netns "$ns" &&
	ip addr add "$REMOTE_NET.1/24" dev "${veth}h" &&
	ip link set "${veth}h" up &&
	ip -n "$ns" addr add "$REMOTE_IP/24" dev "${veth}n" &&
	ip -n "$ns" link set "${veth}n" up || {
		_rh_say "cannot make the veth pair"; remote_host_stop; return 1; }
	_rh_inside > "$REMOTE_DIR/inside.sh"
	if ! ip netns exec "$ns" unshare -m --propagation private \
	     sh "$REMOTE_DIR/inside.sh" > "$REMOTE_DIR/inside.log" 2>&1; then
		_rh_say "cannot start the daemons: $(tail -3 "$REMOTE_DIR/inside.log")"
		remote_host_stop
		return 1
	fi
	i=0
	until remote_virsh version >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -gt $((REMOTE_WAIT_S * 10)) ]; then
			_rh_say "its libvirtd does not answer"
			remote_host_stop
			return 1
		fi
		sleep 0.1
	done
	_rh_network_xml > "$REMOTE_DIR/net.xml"
	remote_virsh net-define "$REMOTE_DIR/net.xml" >/dev/null &&
	remote_virsh net-start vmctl >/dev/null &&
	remote_virsh pool-define-as vmctl dir --target \
		/var/lib/libvirt/images/vmctl >/dev/null &&
	remote_virsh pool-build vmctl >/dev/null &&
	remote_virsh pool-start vmctl >/dev/null || {
		_rh_say "cannot make its network or pool"
		remote_host_stop
		return 1
	}
	REMOTE_URI="qemu+ssh://root@$REMOTE_IP/system?keyfile=$key/id_ed25519&known_hosts=$key/known_hosts&no_verify=0&command=$key/ssh"
	export REMOTE_URI REMOTE_IP
	echo "$REMOTE_URI" > "$REMOTE_DIR/uri"
	i=0
	until virsh -q -c "$REMOTE_URI" version >/dev/null 2>&1; do
		i=$((i + 1))
		if [ "$i" -gt $((REMOTE_WAIT_S * 10)) ]; then
			_rh_say "$REMOTE_URI does not answer: $(virsh -q -c "$REMOTE_URI" version 2>&1 | head -2)"
			remote_host_stop
			return 1
		fi
		sleep 0.1
	done
	REMOTE_START_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
	export REMOTE_START_MS
	_rh_say "$REMOTE_URI answers (host_uuid $uuid, ${REMOTE_START_MS} ms)"
	return 0
}

# _rh_kill_pidfile FILE: SIGTERM, wait up to 5 s, SIGKILL.
_rh_kill_pidfile() {
	local pid i=0
	pid=$(cat "$1" 2>/dev/null) || return 0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -lt 50 ] || { kill -KILL "$pid" 2>/dev/null; break; }
		sleep 0.1
	done
}

# remote_host_stop: everything remote_host_start made is gone.
remote_host_stop() {
	local ns veth mntns d pid p i left
	[ -n "${REMOTE_DIR:-}" ] && [ -d "$REMOTE_DIR" ] || return 0
	if remote_virsh version >/dev/null 2>&1; then
		for d in $(remote_virsh list --all --name 2>/dev/null); do
			remote_virsh destroy "$d" >/dev/null 2>&1
			remote_virsh undefine --nvram "$d" >/dev/null 2>&1 ||
				remote_virsh undefine "$d" >/dev/null 2>&1
		done
		remote_virsh net-destroy vmctl >/dev/null 2>&1
		remote_virsh pool-destroy vmctl >/dev/null 2>&1
	fi
	mntns=
	pid=$(cat "$REMOTE_DIR/libvirtd.pid" 2>/dev/null) &&
		mntns=$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)
	_rh_kill_pidfile "$REMOTE_DIR/sshd.pid"
	_rh_kill_pidfile "$REMOTE_DIR/libvirtd.pid"
	_rh_kill_pidfile "$REMOTE_DIR/virtlogd.pid"
	# Whatever else lives in its mount namespace (QEMU, dnsmasq, an ssh
	# session) was started by it: end those, one by one.
	for i in 1 2 3 4 5 6 7 8 9 10; do
		left=
		for p in /proc/[0-9]*; do
			[ -n "$mntns" ] &&
			[ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$mntns" ] ||
				continue
			left=1
			kill -KILL "${p#/proc/}" 2>/dev/null
		done
		[ -z "$left" ] && break
		sleep 0.2
	done
	ns=$(cat "$REMOTE_DIR/netns" 2>/dev/null)
	for i in 1 2 3 4 5 6 7 8 9 10; do
		[ -n "$ns" ] && [ -e "/run/netns/$ns" ] || break
		ip netns del "$ns" 2>/dev/null || sleep 0.3
	done
	[ -z "$ns" ] || [ ! -e "/run/netns/$ns" ] ||
		_rh_say "cannot delete network namespace $ns"
	veth=$(cat "$REMOTE_DIR/veth" 2>/dev/null) &&
		ip link del "${veth}h" 2>/dev/null
	rm -rf "$REMOTE_DIR"
	unset REMOTE_DIR REMOTE_URI
	return 0
}

remote_host_status() {
	[ -n "${REMOTE_DIR:-}" ] && [ -s "$REMOTE_DIR/uri" ] &&
		virsh -q -c "$(cat "$REMOTE_DIR/uri")" version
}

# As a script: remote-host.sh start|stop|status DIR
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case ${1:-} in
	start)
		[ -n "${2:-}" ] || { echo "usage: $0 start DIR" >&2; exit 64; }
		mkdir -p "$2"
		remote_host_start "$2" || exit $?
		echo "$REMOTE_URI"
		;;
	stop) REMOTE_DIR=${2:?DIR}; remote_host_stop ;;
	status) REMOTE_DIR=${2:?DIR}; remote_host_status ;;
	*) echo "usage: $0 start|stop|status DIR" >&2; exit 64 ;;
	esac
fi
