#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 9: a checksum list signed with OpenPGP (disk.checksum_sig_url +
# disk.keyring) is checked with gpgv before it is trusted; with a good
# signature a list over plain http is fine, a bad one is refused before
# the image is downloaded.  An unsigned list over plain http is refused at
# validation (exit 65).
TEST_NAME=image-signature
. "$(dirname "$0")/lib.sh"
need gpg gpgv qemu-img python3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-sig.XXXXXX")
export VMCTL_STATE_DIR="$TMP/state" VMCTL_TMUX_SOCKET="vmctl-test-sig-$$"
export GNUPGHOME="$TMP/gnupg"
SERVER=
cleanup() {
	local rc=$?
	set +e
	[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null
	gpgconf --kill all >/dev/null 2>&1
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT

mkdir -m 700 "$GNUPGHOME"
gpg --batch -q --pinentry-mode loopback --passphrase '' \
	--quick-gen-key 'vmctl test <test@vmctl.invalid>' ed25519 sign never 2>/dev/null ||
	skip "gpg cannot generate a key here"
gpg --batch -q --export > "$TMP/release.gpg"
mkdir -m 700 "$TMP/other"
GNUPGHOME="$TMP/other" gpg --batch -q --pinentry-mode loopback --passphrase '' \
	--quick-gen-key 'someone else <x@vmctl.invalid>' ed25519 sign never 2>/dev/null
GNUPGHOME="$TMP/other" gpg --batch -q --export > "$TMP/other.gpg"

mkdir "$TMP/www"
qemu-img create -q -f qcow2 "$TMP/www/disk.qcow2" 16M
(cd "$TMP/www" && sha256sum disk.qcow2 > SHA256SUMS)
gpg --batch -q --detach-sign -o "$TMP/www/SHA256SUMS.sig" "$TMP/www/SHA256SUMS"
python3 "$ROOT/tests/integration/helpers/httpserver.py" "$TMP/www" "$TMP/port" \
	"$TMP/http.log" &
SERVER=$!
wait_for 10 test -s "$TMP/port" || fail "HTTP server did not start"
URL="http://127.0.0.1:$(cat "$TMP/port")"

spec() {   # spec NAME KEYRING [SIG-NAME]
	cat > "$TMP/$1.yaml" <<YAML
name: $1
memory: 128M
accel: tcg
disk:
  image: $URL/disk.qcow2
  checksum_url: $URL/SHA256SUMS
  checksum_sig_url: $URL/${3:-SHA256SUMS.sig}
  keyring: $2
cloud_init: false
vnc: false
YAML
}

spec good "$TMP/release.gpg"
"$VMCTL" create --no-start "$TMP/good.yaml" >/dev/null 2>"$TMP/err" ||
	fail "a signed list over http was refused: $(cat "$TMP/err")"
say "good signature: accepted"

# Signed by a key not in the keyring: refused, nothing downloaded.
spec stranger "$TMP/other.gpg"
"$VMCTL" destroy good >/dev/null
rm -rf "$VMCTL_STATE_DIR/images"
: > "$TMP/http.log"
if "$VMCTL" create --no-start "$TMP/stranger.yaml" 2>"$TMP/err"; then
	fail "a signature by an unknown key was accepted"
fi
grep -q "bad or unknown signature" "$TMP/err" || fail "unclear error: $(cat "$TMP/err")"
! grep -q 'GET /disk.qcow2' "$TMP/http.log" || fail "the image was downloaded anyway"
say "unknown key: $(tail -n 1 "$TMP/err")"

# A list changed after it was signed: refused.
cp "$TMP/www/SHA256SUMS" "$TMP/sums.orig"
sed -i 's/^./0/' "$TMP/www/SHA256SUMS"
spec tampered "$TMP/release.gpg"
if "$VMCTL" create --no-start "$TMP/tampered.yaml" 2>"$TMP/err"; then
	fail "a tampered list was accepted"
fi
grep -q "bad or unknown signature" "$TMP/err" || fail "unclear error: $(cat "$TMP/err")"
[ ! -d "$VMCTL_STATE_DIR/vms/tampered" ] || fail "the refused create left a VM dir"
say "tampered list: refused"

# Unsigned over plain http: a spec error.
sed '/checksum_sig_url\|keyring/d' "$TMP/good.yaml" > "$TMP/unsigned.yaml"
set +e
"$VMCTL" validate "$TMP/unsigned.yaml" 2>"$TMP/err"
rc=$?
set -e
[ "$rc" = 65 ] || fail "an unsigned http list: exit $rc, not 65"
grep -q "plain http:// URL" "$TMP/err" || fail "unclear error: $(cat "$TMP/err")"
say "unsigned list over http: $(cat "$TMP/err")"
