#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the Debian package from a clean copy of this tree and check it.
#
#   scripts/build-deb.sh [--install] [--check]
#
# Copies the tree's files (tracked, and untracked ones git does not
# ignore: never ./vmctl or build/) to a temporary directory, runs
# `dpkg-buildpackage -us -uc -b` there and `lintian --fail-on error` on the
# result, and leaves build/deb/vmctl_VERSION_ARCH.deb (with its .changes
# and .buildinfo).  --install (root): `apt-get install` the .deb, which
# pulls its runtime dependencies, run /usr/bin/vmctl --version, and
# remove the package again so it shadows nothing.  The package's own unit
# test run (dh_auto_test) is skipped (nocheck) unless --check: `make test`
# runs those tests from the tree.
# Needs dpkg-dev, debhelper, fakeroot, lintian and the Build-Depends of
# debian/control (scripts/install-deps.sh installs them).
set -eu
cd "$(dirname "$0")/.."
top=$(pwd -P)

install=0 nocheck=nocheck
for a in "$@"; do
	case $a in
	--install) install=1 ;;
	--check) nocheck= ;;
	*) echo "usage: scripts/build-deb.sh [--install] [--check]" >&2
	   exit 64 ;;
	esac
done
for c in git dpkg-buildpackage dh fakeroot lintian; do
	command -v "$c" >/dev/null 2>&1 || {
		echo "build-deb.sh: $c is missing (scripts/install-deps.sh)" >&2
		exit 69
	}
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
src=$tmp/vmctl-$version
mkdir "$src"
# The tree as git sees it, without what a build left (files deleted but
# not yet committed are skipped).
git ls-files -z --cached --others --exclude-standard |
	xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
	tar --null -T - -cf - | tar -xf - -C "$src"

start=$(date +%s)
jobs=${DEB_JOBS:-$(nproc)}
(cd "$src" && DEB_BUILD_OPTIONS="parallel=$jobs $nocheck ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -us -uc -b) > "$tmp/build.log" 2>&1 || {
	tail -n 40 "$tmp/build.log" >&2
	echo "build-deb.sh: dpkg-buildpackage failed" >&2
	exit 1
}
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=vmctl_${version}_$arch.deb
echo "build-deb.sh: built $deb in $(( $(date +%s) - start )) s"

echo "build-deb.sh: lintian"
lintian --fail-on error --tag-display-limit 0 \
	"$tmp/vmctl_${version}_$arch.changes"

mkdir -p build/deb
rm -f build/deb/vmctl_* build/deb/vmctl-dbgsym_*
# (with the debug symbols' package the .changes names)
cp "$tmp"/vmctl*_"${version}_$arch".* build/deb/
dpkg-deb --info "build/deb/$deb" | sed -n 's/^ \(Depends\|Recommends\):/build-deb.sh: \1:/p'
echo "build-deb.sh: build/deb/$deb"

[ "$install" = 1 ] || exit 0
if dpkg-query -W -f='${Status}' vmctl 2>/dev/null | grep -q "ok installed"; then
	echo "build-deb.sh: a vmctl package is installed already; not touching it" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q "$top/build/deb/$deb" > "$tmp/apt.log" 2>&1 || {
	tail -n 20 "$tmp/apt.log" >&2
	echo "build-deb.sh: apt-get install failed" >&2
	exit 1
}
trap 'apt-get remove -y -q --purge vmctl >/dev/null 2>&1; rm -rf "$tmp"' EXIT
got=$(/usr/bin/vmctl --version)
want="vmctl $(sed -n 's/^VERSION *:= *//p' Makefile)"
[ "$got" = "$want" ] || {
	echo "build-deb.sh: /usr/bin/vmctl --version says '$got', not '$want'" >&2
	exit 1
}
# The unit as installed names the installed binary.
grep -qx 'ExecStart=/usr/bin/vmctl start %i' /lib/systemd/system/vmctl@.service || {
	echo "build-deb.sh: the installed unit does not run /usr/bin/vmctl" >&2
	exit 1
}
echo "build-deb.sh: installed: $got ($(dpkg-query -W -f='${Installed-Size}' vmctl) KiB); removing it"
apt-get remove -y -q --purge vmctl > "$tmp/apt.log" 2>&1 || {
	tail -n 20 "$tmp/apt.log" >&2
	exit 1
}
trap 'rm -rf "$tmp"' EXIT
[ ! -e /usr/bin/vmctl ] || { echo "build-deb.sh: /usr/bin/vmctl left after remove" >&2; exit 1; }
echo "build-deb.sh: removed"
