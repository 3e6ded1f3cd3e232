#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Install everything vmctl needs to build, run and test, from Debian's
# packages.  Idempotent and non-interactive.  As root it needs no sudo;
# as another user it runs itself through sudo, and only when something is
# missing (checking needs no privilege).
set -eu

BUILD="build-essential pkg-config libyaml-dev libcjson-dev libcurl4-openssl-dev
       libssl-dev libisofs-dev libpci-dev libvirt-dev libxml2-dev"
# libvirt for --connect: the daemon and its QEMU driver, virsh, and for the
# NAT network dnsmasq and iptables.  Not libvirt-daemon-system (it wants
# polkitd and an init system's units): scripts/libvirtd.sh does its part.
RUN="qemu-system-x86 qemu-utils ovmf swtpm swtpm-tools tmux openssh-client pciutils pci.ids gpgv
     libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients dnsmasq-base
     iptables"
TEST="clang libclang-rt-14-dev valgrind python3 jq socat cpio busybox-static
      hyperfine shellcheck debootstrap e2fsprogs fdisk strace gnupg
      libvirt-clients openssh-server mandoc zsh fish
      dpkg-dev debhelper fakeroot lintian systemd"
# (dpkg-dev, debhelper, fakeroot, lintian: scripts/build-deb.sh; systemd:
# systemctl and systemd-analyze for tests/integration/systemd-unit.sh.)
# (openssh-server: the sshd of the tests' second libvirt host, which runs
# it in its own namespaces; the machine's own sshd is not started here.)
PKGS="$BUILD $RUN $TEST"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps.sh: all dependencies are installed"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		exec sudo -- "$0" "$@"
	fi
	echo "install-deps.sh: missing:$missing; run it as root (or install sudo)" >&2
	exit 77
fi

export DEBIAN_FRONTEND=noninteractive
# Only refresh package lists when they are missing or a day old.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages' -mtime -1 2>/dev/null | head -n 1)" ]; then
	apt-get update -q
fi
# Packages install, daemons do not start (openssh-server, libvirt: the
# tests start their own): a policy-rc.d for the install, unless the
# machine has one.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 0755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
echo "install-deps.sh: installed:$missing"
