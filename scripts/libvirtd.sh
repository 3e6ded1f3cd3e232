#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# libvirtd for vmctl's tests (and CI), on a machine without systemd.
#
#   scripts/libvirtd.sh start    start virtlogd and libvirtd, the vmctl network
#   scripts/libvirtd.sh stop     stop what `start` started, nothing else
#   scripts/libvirtd.sh status   exit 0 when qemu:///system answers
#
# Idempotent: `start` with a libvirtd already answering (the system's own,
# say, under systemd) only makes sure the network is there; `stop` stops
# only the daemons a `start` of this script started (recorded in
# /run/libvirt/vmctl-started).
#
# What it sets up, as root, on a fresh Debian 12 with libvirt-daemon and
# libvirt-daemon-driver-qemu but not libvirt-daemon-system (whose
# postinst does the same, and which would pull in polkitd, an init
# system's units and a "default" network that autostarts):
#   - the libvirt-qemu user and group and the kvm group (Debian's libvirt is
#     built to run QEMU as libvirt-qemu);
#   - /etc/libvirt/qemu.conf, only where there is none: QEMU runs as root
#     here, so test images in 0700 temporary directories are readable (the
#     DAC driver relabels files, never their directories).  Without
#     /dev/kvm, domains are type='qemu' (TCG); nothing is configured for it;
#   - /run/libvirt, /var/log/libvirt, /var/lib/libvirt;
#   - swtpm's local CA (/var/lib/swtpm-localca) owned by tss, the user
#     libvirt runs swtpm_setup as (see ensure_swtpm_localca);
#   - virtlogd (QEMU's stdout/stderr and serial logs go through it) and
#     libvirtd, each daemonized with -d;
#   - the NAT network "vmctl": bridge vmctlbr0, 192.168.123.0/24, DHCP from
#     .2 to .254 (dnsmasq), defined, started and autostarted.  Its own
#     name and subnet keep clear of a "default" network (192.168.122.0/24)
#     a machine may already have.  NAT needs iptables.
set -eu

URI=qemu:///system
NET=vmctl
RUN=/run/libvirt
MARK=$RUN/vmctl-started
WAIT_SECONDS=${LIBVIRTD_WAIT_SECONDS:-30}

die() { echo "libvirtd.sh: $*" >&2; exit 1; }
say() { echo "libvirtd.sh: $*"; }

answers() { virsh -q -c "$URI" version >/dev/null 2>&1; }

need_root() {
	[ "$(id -u)" -eq 0 ] || { echo "libvirtd.sh: run as root" >&2; exit 77; }
	for c in libvirtd virtlogd virsh; do
		command -v "$c" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
		command -v "$c" >/dev/null 2>&1 ||
			die "$c not installed (scripts/install-deps.sh)"
	done
}

ensure_users() {
	getent group kvm >/dev/null || groupadd --system kvm
	getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
	getent passwd libvirt-qemu >/dev/null ||
		useradd --system --gid libvirt-qemu --groups kvm \
			--home-dir /var/lib/libvirt --no-create-home \
			--shell /usr/sbin/nologin libvirt-qemu
	mkdir -p "$RUN" /var/log/libvirt /var/lib/libvirt /etc/libvirt
	if [ ! -e /etc/libvirt/qemu.conf ]; then
		cat > /etc/libvirt/qemu.conf <<'EOF'
# Written by vmctl's scripts/libvirtd.sh (no libvirt-daemon-system here):
# QEMU runs as root, for tests whose images live in private temp dirs.
user = "root"
group = "root"
EOF
	fi
}

# libvirt runs swtpm_setup as its swtpm_user: tss where that user exists
# when libvirtd starts, root otherwise.  A libvirtd started before
# swtpm-tools created tss therefore fills the local CA with root's files,
# and from the next libvirtd on every TPM domain fails to start ("Need
# read/write rights on /var/lib/swtpm-localca/.lock.swtpm-localca for user
# tss").  Give the CA back to tss, as swtpm-tools' postinst made it.
ensure_swtpm_localca() {
	ca=/var/lib/swtpm-localca
	[ -d "$ca" ] && getent passwd tss >/dev/null || return 0
	if [ -n "$(find "$ca" ! -user tss -print -quit)" ]; then
		chown -R tss:root "$ca"
		say "$ca given back to tss (files of a swtpm_setup run as root)"
	fi
}

# pid_alive PIDFILE: the daemon named in PIDFILE runs.
pid_alive() {
	[ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

ensure_network() {
	if ! virsh -q -c "$URI" net-info "$NET" >/dev/null 2>&1; then
		xml=$(mktemp)
		cat > "$xml" <<EOF
<network>
  <name>$NET</name>
  <forward mode='nat'/>
  <bridge name='vmctlbr0' stp='on' delay='0'/>
  <ip address='192.168.123.1' netmask='255.255.255.0'>
    <dhcp><range start='192.168.123.2' end='192.168.123.254'/></dhcp>
  </ip>
</network>
EOF
		virsh -q -c "$URI" net-define "$xml" >/dev/null ||
			{ rm -f "$xml"; die "cannot define network $NET"; }
		rm -f "$xml"
	fi
	virsh -q -c "$URI" net-autostart "$NET" >/dev/null 2>&1 || true
	if ! virsh -q -c "$URI" net-info "$NET" 2>/dev/null |
	     grep -q '^Active: *yes'; then
		virsh -q -c "$URI" net-start "$NET" >/dev/null ||
			die "cannot start network $NET (iptables, dnsmasq?)"
	fi
}

start() {
	need_root
	t0=$(date +%s%N)
	ensure_swtpm_localca
	if answers; then
		ensure_network
		say "libvirtd already answers on $URI; network $NET active"
		return 0
	fi
	ensure_users
	if ! pid_alive /run/virtlogd.pid; then
		virtlogd -d
		echo virtlogd >> "$MARK"
	fi
	if ! pid_alive /run/libvirtd.pid; then
		libvirtd -d
		echo libvirtd >> "$MARK"
	fi
	deadline=$(($(date +%s) + WAIT_SECONDS))
	until answers; do
		[ "$(date +%s)" -lt "$deadline" ] ||
			die "libvirtd does not answer on $URI after ${WAIT_SECONDS}s (see /var/log/libvirt/libvirtd.log)"
		sleep 0.1
	done
	ensure_network
	say "libvirtd answers on $URI; network $NET active ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
}

# stop_daemon NAME: SIGTERM the daemon of /run/NAME.pid, wait for it.
stop_daemon() {
	pidfile=/run/$1.pid
	pid_alive "$pidfile" || return 0
	pid=$(cat "$pidfile")
	kill -TERM "$pid"
	i=0
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -gt 100 ]; then
			say "$1 ($pid) ignores SIGTERM; SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.1
	done
	rm -f "$pidfile"
}

stop() {
	need_root
	if [ ! -s "$MARK" ]; then
		say "nothing to stop (this script started no daemon)"
		return 0
	fi
	# Take the network down while libvirtd can: dnsmasq and the bridge
	# outlive libvirtd otherwise.
	if grep -qx libvirtd "$MARK" && answers; then
		virsh -q -c "$URI" net-destroy "$NET" >/dev/null 2>&1 || true
	fi
	grep -qx libvirtd "$MARK" && stop_daemon libvirtd
	grep -qx virtlogd "$MARK" && stop_daemon virtlogd
	rm -f "$MARK"
	say "stopped"
}

status() {
	if answers; then
		virsh -q -c "$URI" version | sed 's/^/libvirtd.sh: /'
		return 0
	fi
	say "libvirtd does not answer on $URI (scripts/libvirtd.sh start)"
	return 1
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) status ;;
*) echo "usage: scripts/libvirtd.sh start|stop|status" >&2; exit 64 ;;
esac
