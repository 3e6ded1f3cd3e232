#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's quick start, as written: the command line of its first code
# block is read from README.md (so the two cannot drift apart) and run in
# the repository with nothing but VMCTL_IMAGE_MIRROR added, pointing at a
# file:// mirror laid out like cloud.debian.org/images/cloud whose image
# is the locally built BIOS test image (scripts/build-cloud-image.sh) and
# whose SHA512SUMS lists it.  Then the README's login (`./vmctl ssh
# default`) runs a command, and the VM is destroyed.
#
# As root: with a `sudo` first in PATH that fails the test when anything
# calls it (root needs no sudo), in a private state dir.  Then, when the
# test runs as root, the same line as an unprivileged user (nobody, with
# its own HOME and XDG dirs, no VMCTL_STATE_DIR): vmctl keeps the VM in
# $XDG_DATA_HOME/vmctl, QEMU runs without root (TCG unless the user may
# open /dev/kvm), and install-deps.sh asks for no sudo when nothing is
# missing.  Each boot is TCG with the default spec's 2 CPUs and 2G; on a
# host too loaded to boot it within create --wait's default 300 s, the
# line's only failure may be that timeout, and `vmctl wait` then gives
# the VM longer (said in the output).
TEST_NAME=quickstart
. "$(dirname "$0")/lib.sh"
need qemu-system-x86_64 qemu-img tmux ssh ssh-keygen sha512sum make setpriv

# The README's lines run ./vmctl; another build (make asan) is not it.
[ "$VMCTL" -ef "$ROOT/vmctl" ] || skip "VMCTL is not ./vmctl (the README runs ./vmctl)"

# The quick start's command line: the first line of the first code block
# after "## Quick start".
LINE=$(awk '/^## Quick start/ { q = 1; next }
	q && /^```/ { if (inblock) exit; inblock = 1; next }
	inblock { print; exit }' "$ROOT/README.md")
case $LINE in
*"scripts/install-deps.sh"*"make"*"./vmctl create --wait"*) ;;
*) fail "README's quick start is not install-deps, make, create --wait: '$LINE'" ;;
esac
case $LINE in *sudo*) fail "README's quick start needs sudo: '$LINE'" ;; esac
grep -q '`./vmctl ssh default`' "$ROOT/README.md" ||
	fail "README does not say ./vmctl ssh default logs in"
say "README: $LINE"

IMG_DIR=${VMCTL_TEST_CACHE:-/var/cache/vmctl-test}/cloud
"$ROOT/scripts/build-cloud-image.sh" "$IMG_DIR" >&2 || skip "cannot build the cloud image"
BIOS_IMG=$IMG_DIR/debian-12-test-bios.qcow2
[ -f "$BIOS_IMG" ] || skip "no BIOS cloud image"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-quickstart.XXXXXX")
chmod 0755 "$TMP"
cleanup() {
	local rc=$? s p
	set +e
	for s in "$TMP"/tmux/tmux-*/*; do
		[ -S "$s" ] && tmux -S "$s" kill-server 2>/dev/null
	done
	for p in "$TMP"/state/vms/*/qemu.pid "$TMP"/home/.local/share/vmctl/vms/*/qemu.pid \
		"$TMP"/home/data/vmctl/vms/*/qemu.pid; do
		[ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null
	done
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT

# The mirror: the default spec's image and checksum URLs with
# cloud.debian.org/images/cloud replaced by a local directory.
ORIGIN=https://cloud.debian.org/images/cloud
image_url=$(awk '$1 == "image:" { print $2 }' "$ROOT/configs/default.yaml")
sums_url=$(awk '$1 == "checksum_url:" { print $2 }' "$ROOT/configs/default.yaml")
case $image_url in "$ORIGIN"/*) ;; *) fail "default image is not under $ORIGIN: $image_url" ;; esac
case $sums_url in "$ORIGIN"/*) ;; *) fail "default checksums are not under $ORIGIN: $sums_url" ;; esac
MIRROR=$TMP/mirror
image_path=$MIRROR/${image_url#"$ORIGIN"/}
mkdir -p "$(dirname "$image_path")" "$(dirname "$MIRROR/${sums_url#"$ORIGIN"/}")"
ln -s "$BIOS_IMG" "$image_path"
printf '%s  %s\n' "$(sha512sum < "$BIOS_IMG" | cut -d' ' -f1)" "${image_url##*/}" \
	> "$MIRROR/${sums_url#"$ORIGIN"/}"
export VMCTL_IMAGE_MIRROR=file://$MIRROR

# A mirror vmctl cannot verify through is refused at once, in one line.
set +e
VMCTL_IMAGE_MIRROR=http://$RANDOM.invalid/cloud "$VMCTL" create --no-start \
	--state-dir "$TMP/refused" > "$TMP/refused.out" 2>&1
rc=$?
set -e
[ "$rc" = 64 ] && [ "$(wc -l < "$TMP/refused.out")" = 1 ] &&
	grep -q '^vmctl: VMCTL_IMAGE_MIRROR: ' "$TMP/refused.out" ||
	fail "an http:// mirror: exit $rc, $(cat "$TMP/refused.out")"
[ ! -e "$TMP/refused/vms" ] || fail "a refused mirror left a VM"

# A sudo that fails the test when called.
mkdir -p "$TMP/bin" "$TMP/tmux"
cat > "$TMP/bin/sudo" <<EOF
#!/bin/sh
echo "sudo \$*" >> "$TMP/sudo-called"
echo "quickstart: sudo was called: \$*" >&2
exit 1
EOF
chmod 0755 "$TMP/bin/sudo" "$TMP/tmux"
chmod 1777 "$TMP/tmux"

# quickstart LABEL [COMMAND-PREFIX...]: the README's line, then the login,
# then destroy, in the repository, as COMMAND-PREFIX runs it.
quickstart() {
	local label=$1 start rc
	shift
	start=$SECONDS
	set +e
	(cd "$ROOT" && "$@" bash -c "$LINE") > "$TMP/$label.out" 2>&1
	rc=$?
	# A host too busy for a TCG boot within --wait's default: the VM
	# was made; give it longer (README: vmctl wait) and say so.
	if [ "$rc" != 0 ] && grep -q "Created VM default" "$TMP/$label.out" &&
		grep -q "^vmctl: waiting for " "$TMP/$label.out"; then
		say "$label: slow host: $(grep -m 1 "^vmctl: waiting for " "$TMP/$label.out"); waiting longer"
		(cd "$ROOT" && "$@" ./vmctl wait default --timeout 900) >> "$TMP/$label.out" 2>&1
		rc=$?
	fi
	set -e
	[ "$rc" = 0 ] || { tail -n 30 "$TMP/$label.out"; fail "$label: the quick start failed ($rc)"; }
	say "$label: the quick start took $((SECONDS - start)) s:" \
		"$(grep -o 'SSH ready after [0-9.]* s\|cloud-init.*after [0-9.]* s' "$TMP/$label.out" | tail -n 1)"
	grep -q "install-deps.sh: all dependencies are installed" "$TMP/$label.out" ||
		fail "$label: install-deps.sh did not run: $(head -n 5 "$TMP/$label.out")"
	(cd "$ROOT" && "$@" ./vmctl ssh default -- test -d /home/vmadmin) ||
		fail "$label: ./vmctl ssh default does not log in"
	(cd "$ROOT" && "$@" ./vmctl destroy --force default) > /dev/null ||
		fail "$label: destroy"
	[ ! -e "$TMP/sudo-called" ] || fail "$label: sudo was called: $(cat "$TMP/sudo-called")"
	say "$label: logged in, destroyed"
}

if [ "$(id -u)" -eq 0 ]; then
	quickstart root env PATH="$TMP/bin:$PATH" TMUX_TMPDIR="$TMP/tmux" \
		VMCTL_STATE_DIR="$TMP/state" VMCTL_TMUX_SOCKET=vmctl-test-quickstart-$$
	[ -d "$TMP/state/images" ] || fail "root: the image did not go into the state dir"
	# As nobody: the default per-user state dir.
	mkdir -p "$TMP/home/data"
	chown -R 65534:65534 "$TMP/home"
	quickstart user setpriv --reuid=65534 --regid=65534 --clear-groups \
		env -i PATH="$TMP/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" \
		HOME="$TMP/home" XDG_DATA_HOME="$TMP/home/data" TMUX_TMPDIR="$TMP/tmux" \
		VMCTL_IMAGE_MIRROR="$VMCTL_IMAGE_MIRROR" LANG=C.UTF-8
	[ -d "$TMP/home/data/vmctl/images" ] ||
		fail "user: the VM's state is not in \$XDG_DATA_HOME/vmctl"
else
	mkdir -p "$TMP/home/data"
	quickstart user env -u VMCTL_STATE_DIR -u VMCTL_TMUX_SOCKET \
		PATH="$TMP/bin:$PATH" HOME="$TMP/home" \
		XDG_DATA_HOME="$TMP/home/data" TMUX_TMPDIR="$TMP/tmux"
fi
