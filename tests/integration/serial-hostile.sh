#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A guest's serial output never reaches the terminal raw.  The guest
# writes what it likes on its console; here hostile bytes (OSC title and
# clipboard, CSI, DCS, C1 controls as raw bytes and as UTF-8, a CR that
# overwrites a line, invalid UTF-8) land in a VM's serial.log, and
#   - `vmctl logs` prints the text without any of them (`--raw`: exactly),
#   - `vmctl logs -f` filters too, with sequences split across writes,
#   - `vmctl wait`'s timeout error quotes the log's tail filtered,
#   - `vmctl status` (text and --json) of the crashed VM shows the tail
#     filtered.
TEST_NAME=serial-hostile
. "$(dirname "$0")/lib.sh"
lc_setup hostile

# term_safe FILE: nothing in FILE that a terminal would obey: no C0
# control but \n and \t, no DEL, valid UTF-8 without U+0080-U+009F.
term_safe() {
	python3 - "$1" <<'PY'
import re, sys
data = open(sys.argv[1], "rb").read()
try:
    text = data.decode("utf-8")
except UnicodeDecodeError as e:
    sys.exit("invalid UTF-8 at byte %d: %r" % (e.start, data[e.start:e.start + 8]))
m = re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)
if m:
    sys.exit("control character U+%04X at %d: %r" % (ord(m.group()), m.start(),
             text[max(0, m.start() - 10):m.start() + 10]))
PY
}

# What the guest "prints": each line carries a word that must survive.
hostile=$'boot: \e]0;PWNED-TITLE\a\e]52;c;cm0gLXJmIH4K\e\\\e[2J\e[HTITLE-GONE\r\n'
hostile+=$'\e[1;31mRED\e[0m \ePq#0;2;0;0;0\e\\DCS-GONE \e_apc\e\\APC-GONE\r\n'
hostile+=$'\x9b31mRAWC1\x9b0m \x9d0;raw-osc\aRAWOSC \xc2\x9b32mUTF8C1\xc2\x9b0m\r\n'
hostile+=$'hidden-by-cr\rOVERWRITE\r\n'
hostile+=$'bad-utf8 \xff\xc0\xaf\xed\xa0\x80 end\r\n'
hostile+=$'bell\a backspace\b nul-free\x05 LAST-LINE\r\n'
want_words=(TITLE-GONE RED DCS-GONE APC-GONE RAWC1 RAWOSC UTF8C1 hidden-by-cr
	OVERWRITE bad-utf8 LAST-LINE)

check_filtered() {   # WHAT FILE: FILE is safe and holds every word
	local w
	term_safe "$2" || fail "$1: output not terminal-safe"
	for w in "${want_words[@]}"; do
		grep -q -- "$w" "$2" || fail "$1: lost \"$w\": $(cat -v "$2")"
	done
	grep -q 'PWNED-TITLE\|raw-osc\|cm0gLXJm' "$2" &&
		fail "$1: an OSC payload was printed: $(cat -v "$2")"
	grep -qx 'OVERWRITE' "$2" ||
		fail "$1: the CR overwrite is not a line of its own: $(cat -v "$2")"
	grep -q $'\xef\xbf\xbd' "$2" || fail "$1: invalid UTF-8 not replaced"
	return 0
}

vm=hostile
spec=$(lc_spec $vm "" "cloud_init: {user: vmadmin}")
vmc create "$spec" >/dev/null 2>&1 || fail "create failed"
log=$(lc_vmdir $vm)/serial.log
# Once ready the guest is silent, so what follows is the log's tail.
lc_wait_ready $vm

# ---- logs -f: sequences split across writes, each after a poll
"$VMCTL" logs -f $vm > "$LC_TMP/follow.out" 2>&1 &
follow=$!
sleep 0.5
half=$(( ${#hostile} / 2 ))
printf '%s' $'split: \e]0;SPLIT-PWN' >> "$log"; sleep 0.5
printf '%s' $'ED\a\e[3' >> "$log"; sleep 0.5
printf '%s' $'1mSPLIT-OK\xc2' >> "$log"; sleep 0.5
printf '%s\r\n' $'\x9b0m' >> "$log"; sleep 0.5
printf '%s' "${hostile:0:half}" >> "$log"; sleep 0.5
printf '%s' "${hostile:half}" >> "$log"
wait_for 10 grep -q LAST-LINE "$LC_TMP/follow.out" ||
	fail "logs -f did not print the last line: $(cat -v "$LC_TMP/follow.out")"
kill "$follow"; wait "$follow" 2>/dev/null || true
check_filtered "logs -f" "$LC_TMP/follow.out"
grep -q 'split: SPLIT-OK' "$LC_TMP/follow.out" ||
	fail "logs -f: split sequences not removed whole: $(cat -v "$LC_TMP/follow.out")"
say "logs -f filters, across writes too"

# ---- wait: its timeout error quotes the tail of the log
out=$(vmc wait $vm --timeout 2 2>&1) && fail "wait succeeded on a guest without SSH"
printf '%s\n' "$out" > "$LC_TMP/wait.out"
grep -q 'last lines of the serial log' "$LC_TMP/wait.out" ||
	fail "wait error without the serial tail: $out"
check_filtered "wait error" "$LC_TMP/wait.out"
say "wait's error shows the tail filtered"

# ---- the VM crashes: status shows the tail
pid=$(lc_status $vm | jq -r .pid)
kill -9 "$pid"
lc_assert_no_qemu "kill -9" $vm
vmc status $vm > "$LC_TMP/status.out" 2>&1 || fail "status failed"
grep -q 'state: *crashed' "$LC_TMP/status.out" ||
	fail "not crashed: $(cat -v "$LC_TMP/status.out")"
check_filtered "status" "$LC_TMP/status.out"
vmc status $vm --json > "$LC_TMP/status.json" || fail "status --json failed"
jq -r '.serial_tail[]' "$LC_TMP/status.json" > "$LC_TMP/tail.txt" ||
	fail "status --json is not JSON: $(cat -v "$LC_TMP/status.json")"
check_filtered "status --json" "$LC_TMP/tail.txt"
say "status of the crashed VM shows the tail filtered"

# ---- logs and logs --raw
vmc logs $vm > "$LC_TMP/logs.out" || fail "logs failed"
check_filtered "logs" "$LC_TMP/logs.out"
grep -q 'split: SPLIT-OK' "$LC_TMP/logs.out" || fail "logs: split line wrong"
vmc logs --raw $vm > "$LC_TMP/raw.out" || fail "logs --raw failed"
cmp -s "$log" "$LC_TMP/raw.out" || fail "logs --raw is not the log byte for byte"
say "logs filters; logs --raw gives the bytes"

vmc destroy $vm >/dev/null 2>&1 || fail "destroy failed"
lc_assert_no_qemu "after destroy"
say "PASS"
