#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 9: a VM's base never changes under it.  The cache names entries by
# digest, so a republished URL is a new entry beside the one older VMs
# use; a start refuses a base that changed; the .verified stamp is trusted
# only while the file is the one it recorded; `image list` and `image
# prune`; wave-1 (URL-named) entries keep working; the download is fsynced
# before it is renamed into place.
TEST_NAME=image-cache
. "$(dirname "$0")/lib.sh"
need qemu-img strace
lc_setup cache
IMAGES=$VMCTL_STATE_DIR/images

mkdir -p "$LC_TMP/www"
python3 "$ROOT/tests/integration/helpers/httpserver.py" "$LC_TMP/www" \
	"$LC_TMP/port" "$LC_TMP/http.log" &
wait_for 10 test -s "$LC_TMP/port" || fail "HTTP server did not start"
URL="http://127.0.0.1:$(cat "$LC_TMP/port")/disk.raw"

# publish TAG: a 4 MiB raw image whose bytes say TAG; prints its sha256
publish() {
	python3 -c 'import sys; sys.stdout.buffer.write(sys.argv[1].encode().ljust(4 << 20, b"\0"))' \
		"$1" > "$LC_TMP/www/disk.raw.tmp"
	mv "$LC_TMP/www/disk.raw.tmp" "$LC_TMP/www/disk.raw"
	sha256sum < "$LC_TMP/www/disk.raw" | cut -d' ' -f1
}
gets() { grep -c 'GET /disk.raw' "$LC_TMP/http.log" || true; }
spec() {   # spec NAME SHA256
	lc_spec "$1" "" "disk: {image: $URL, sha256: $2}
cloud_init: false" >/dev/null
}
base_of() { jq -r .base_image "$(lc_vmdir "$1")/vm.json"; }

# 1. Debian republishes "latest": the second create gets a new entry and
#    the first VM's base keeps its bytes.
A=$(publish one)
spec vma "$A"
ASAN_OPTIONS=detect_leaks=0 strace -f -y -e trace=fsync,rename,renameat,renameat2 -o "$LC_TMP/strace" \
	"$VMCTL" create --no-start "$LC_TMP/vma.yaml" >/dev/null 2>"$LC_TMP/err" || fail "create vma: $(cat "$LC_TMP/err")"
# fsync of the .part before it is renamed into place (LeakSanitizer cannot
# run under strace)
awk '/fsync\(.*\.part>\)/ { synced = 1 } /rename.*\.part"/ { exit !synced }' \
	"$LC_TMP/strace" || fail "the download was renamed into place unsynced:
$(grep -E 'part' "$LC_TMP/strace")"
B=$(publish two)
spec vmb "$B"
"$VMCTL" create --no-start "$LC_TMP/vmb.yaml" >/dev/null || fail "create vmb"
[ "$(base_of vma)" != "$(base_of vmb)" ] || fail "both VMs share one base file"
[ "$(sha256sum < "$(base_of vma)" | cut -d' ' -f1)" = "$A" ] ||
	fail "vma's base was replaced by the republished image"
[ "$(sha256sum < "$(base_of vmb)" | cut -d' ' -f1)" = "$B" ] || fail "vmb's base is wrong"
say "republished URL: a new entry; the old VM's base is untouched"

# 2. The same URL and digest again: no download.
n=$(gets)
spec vmb2 "$B"
"$VMCTL" create --no-start "$LC_TMP/vmb2.yaml" >/dev/null || fail "create vmb2"
[ "$(gets)" = "$n" ] || fail "the same URL and digest were downloaded again"
[ "$(base_of vmb2)" = "$(base_of vmb)" ] || fail "vmb2 does not share vmb's entry"

# 3. A stamp whose file changed is not trusted: a corrupted entry is
#    hashed again, found wrong and fetched again (restored, not reused).
entry=$(base_of vmb)
chmod u+w "$entry"
printf 'XX' | dd of="$entry" bs=1 seek=100 conv=notrunc status=none
spec vmb3 "$B"
"$VMCTL" create --no-start "$LC_TMP/vmb3.yaml" >/dev/null || fail "create vmb3"
[ "$(gets)" -gt "$n" ] || fail "a changed entry was trusted on its stamp"
[ "$(sha256sum < "$entry" | cut -d' ' -f1)" = "$B" ] || fail "the entry was not restored"
say "stamps are trusted only while the file is the one they recorded"

# 4. start: a base whose identity changed but whose digest still matches
#    is accepted (and the record updated); changed bytes are refused.
touch -d '2001-01-01' "$(base_of vma)"
"$VMCTL" start vma >/dev/null || fail "start over a touched but intact base"
"$VMCTL" kill vma >/dev/null
[ "$(jq .base_id.mtime "$(lc_vmdir vma)/vm.json")" = "$(stat -c %Y "$(base_of vma)")" ] ||
	fail "the new identity of vma's base was not recorded"
chmod u+w "$(base_of vma)"
printf 'evil' | dd of="$(base_of vma)" bs=1 seek=0 conv=notrunc status=none
if "$VMCTL" start vma 2>"$LC_TMP/err"; then
	fail "a VM started over a base whose bytes changed"
fi
grep -q "base image $(base_of vma) changed since the VM was created" "$LC_TMP/err" ||
	fail "unclear refusal: $(cat "$LC_TMP/err")"
[ "$(wc -l < "$LC_TMP/err")" = 1 ] || fail "refusal is not one line: $(cat "$LC_TMP/err")"
say "start: $(cat "$LC_TMP/err")"
lc_assert_no_qemu "refused start"

# A local base (no digest): any change of identity is refused.
qemu-img create -q -f raw "$LC_TMP/local.raw" 4M
lc_spec vml "" "disk: {image: $LC_TMP/local.raw}
cloud_init: false" >/dev/null
"$VMCTL" create --no-start "$LC_TMP/vml.yaml" >/dev/null || fail "create vml"
jq -e '.base_id.ino and (.base_digest == null)' "$(lc_vmdir vml)/vm.json" >/dev/null ||
	fail "no identity recorded for a local base"
echo more >> "$LC_TMP/local.raw"
if "$VMCTL" start vml 2>"$LC_TMP/err"; then
	fail "a VM started over a local base that changed"
fi
grep -q "base image $LC_TMP/local.raw changed.*no digest" "$LC_TMP/err" ||
	fail "unclear refusal: $(cat "$LC_TMP/err")"
say "local base changed: refused"

# 5. Wave-1 entries (named after the URL) stay usable: a VM over one
#    starts (its base is recorded then), and a create of that URL and
#    digest adopts the entry without a download.
"$VMCTL" destroy vmb3 >/dev/null
"$VMCTL" destroy vmb2 >/dev/null
C=$(publish three)
old="$IMAGES/$(printf %s "$URL" | sha256sum | cut -c1-16)-disk.raw"
cp "$LC_TMP/www/disk.raw" "$old"
echo "sha256:$C" > "$old.verified"
lc_spec vmold "" "disk: {image: $old}
cloud_init: false" >/dev/null
"$VMCTL" create --no-start "$LC_TMP/vmold.yaml" >/dev/null || fail "create vmold"
jq 'del(.base_id, .base_digest)' "$(lc_vmdir vmold)/vm.json" > "$LC_TMP/vm.json"
cp "$LC_TMP/vm.json" "$(lc_vmdir vmold)/vm.json"
"$VMCTL" start vmold >/dev/null || fail "a wave-1 VM does not start"
"$VMCTL" kill vmold >/dev/null
jq -e ".base_id.ino and .base_digest == \"sha256:$C\"" "$(lc_vmdir vmold)/vm.json" >/dev/null ||
	fail "the wave-1 VM's base was not recorded: $(cat "$(lc_vmdir vmold)/vm.json")"
n=$(gets)
spec vmc "$C"
"$VMCTL" create --no-start "$LC_TMP/vmc.yaml" >/dev/null || fail "create vmc"
[ "$(gets)" = "$n" ] || fail "a verified wave-1 entry was downloaded again"
say "wave-1 entries: used, recorded, adopted"

# 6. image list / prune.
: > "$IMAGES/sha256-$(printf 'f%.0s' $(seq 64)).part"
"$VMCTL" destroy vmb >/dev/null
"$VMCTL" image list --json > "$LC_TMP/list.json" || fail "image list"
jq -e --arg a "sha256:$A" --arg b "sha256:$B" --arg url "$URL" '
	(map(select(.digest == $a))[0] | .vms == ["vma"] and .urls == [$url] and .size == 4194304) and
	(map(select(.digest == $b))[0] | .vms == []) and
	(map(select(.legacy))[0] | .vms == ["vmc", "vmold"])' "$LC_TMP/list.json" >/dev/null ||
	fail "image list --json: $(cat "$LC_TMP/list.json")"
"$VMCTL" image list | grep -q "^sha256:${A:0:13}.*vma" || fail "image list: $("$VMCTL" image list)"
"$VMCTL" image prune --dry-run > "$LC_TMP/dry" || fail "prune --dry-run"
grep -q "would remove sha256-$B\$" "$LC_TMP/dry" || fail "dry run: $(cat "$LC_TMP/dry")"
[ -f "$IMAGES/sha256-$B" ] || fail "--dry-run removed something"
"$VMCTL" image prune > "$LC_TMP/prune" || fail "prune"
grep -q "^removed sha256-$B\$" "$LC_TMP/prune" || fail "prune: $(cat "$LC_TMP/prune")"
grep -q '^removed sha256-f*\.part$' "$LC_TMP/prune" || fail "stray .part kept: $(cat "$LC_TMP/prune")"
grep -q '^freed [0-9.]* MiB$' "$LC_TMP/prune" || fail "prune does not say what it freed"
[ ! -e "$IMAGES/sha256-$B" ] && [ ! -e "$IMAGES/sha256-$B.verified" ] ||
	fail "the unused entry is still there"
[ -f "$IMAGES/sha256-$A" ] && [ -f "$old" ] && [ -f "$IMAGES/sha256-$C" ] ||
	fail "prune removed an entry a VM uses"
say "image list and prune: $(tr '\n' ';' < "$LC_TMP/prune")"
