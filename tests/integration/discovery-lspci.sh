#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The fake hosts read right with the real lspci: for every description in
# tests/fixtures/sysfs/, `lspci -A linux-sysfs -O sysfs.path=SYS/bus/pci`
# must list exactly the functions scripts/gen-sysfs.py made (its
# manifest.json), with their ids, class, revision, subsystem, driver,
# IOMMU group and NUMA node (-vmm -k), their place under their bridges
# (-PP: the sysfs nesting) and the bridges' bus numbers (-vv: config
# space), so vmctl's view of a fixture is the one pciutils has.
TEST_NAME=discovery-lspci
. "$(dirname "$0")/lib.sh"
need python3 lspci

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vmctl-lspci.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export LC_ALL=C
n=0
for desc in "$ROOT"/tests/fixtures/sysfs/*.json; do
	host=$(basename "$desc" .json)
	t=$TMP/$host
	python3 "$ROOT/scripts/gen-sysfs.py" "$desc" "$t" 2>/dev/null ||
		fail "$host: gen-sysfs.py failed"
	L=(lspci -A linux-sysfs -O "sysfs.path=$t/sys/bus/pci")
	"${L[@]}" -vmm -n -D -k > "$t/vmm" 2>/dev/null ||
		fail "$host: lspci -vmm failed"
	"${L[@]}" -PP -D -n > "$t/pp" 2>/dev/null || fail "$host: lspci -PP failed"
	"${L[@]}" -vv -D -n > "$t/vv" 2>/dev/null || fail "$host: lspci -vv failed"
	"${L[@]}" -t > "$t/tree" 2>/dev/null || fail "$host: lspci -t failed"
	python3 - "$t" "$host" <<'PY' || fail "$host: lspci disagrees"
import json, re, sys
t, host = sys.argv[1:]
want = {f["address"]: f for f in json.load(open(t + "/manifest.json"))["functions"]}
errors = []
def err(m): errors.append(m)

# -vmm: one record per function
got = {}
for rec in open(t + "/vmm").read().strip().split("\n\n"):
    kv = dict(l.split(":\t", 1) for l in rec.splitlines() if ":\t" in l)
    got[kv["Slot"]] = kv
if set(got) != set(want):
    err("functions: lspci has %d, manifest %d; only lspci: %s; only manifest: %s"
        % (len(got), len(want), sorted(set(got) - set(want))[:5],
           sorted(set(want) - set(got))[:5]))
for a, w in want.items():
    g = got.get(a)
    if g is None:
        continue
    checks = [("Class", w["class"][:4]), ("Vendor", w["vendor"]),
              ("Device", w["device"]), ("Rev", w["revision"]),
              ("ProgIf", w["class"][4:]), ("Driver", w["driver"]),
              ("IOMMUGroup", None if w["iommu_group"] is None else str(w["iommu_group"])),
              ("NUMANode", None if w["numa_node"] < 0 else str(w["numa_node"]))]
    if w["subsystem"] and w["subsystem"] != "0000:0000":
        sv, sd = w["subsystem"].split(":")
        checks += [("SVendor", sv), ("SDevice", sd)]
    for key, value in checks:
        if key == "Rev" and value == "00" and key not in g:
            continue
        if g.get(key) != value:
            err("%s %s: lspci %r, manifest %r" % (a, key, g.get(key), value))

# -PP: the path of bridges above each function = the sysfs nesting
for line in open(t + "/pp"):
    path = line.split()[0]
    parts = path.split("/")
    addr = parts[-1] if len(parts) == 1 else parts[0][:5] + parts[-1]
    parent = None
    if len(parts) > 1:
        parent = parts[-2] if len(parts) > 2 else parts[0]
        parent = parent if len(parent) == 12 else parts[0][:5] + parent
    w = want.get(addr)
    if w is None:
        err("-PP lists unknown %s" % addr)
    elif w["parent"] != parent:
        err("%s: lspci -PP parent %s, manifest %s" % (addr, parent, w["parent"]))

# -vv: bridges' bus numbers from config space
def lspci_size(x):
    # lspci's show_size(): the largest unit that divides the size
    units = ["", "K", "M", "G", "T"]
    i = 0
    while i < len(units) - 1 and x % 1024 == 0:
        x //= 1024
        i += 1
    return "%d%s" % (x, units[i])

regions = {}
cur = None
for line in open(t + "/vv"):
    m = re.match(r"^([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) ", line)
    if m:
        cur = m.group(1)
        regions[cur] = {}
        continue
    m = re.search(r"Region (\d+): .*\[size=(\w+)\]", line)
    if m and cur:
        regions[cur][m.group(1)] = m.group(2)
    m = re.search(r"Expansion ROM at .*\[size=(\w+)\]", line)
    if m and cur:
        regions[cur]["rom"] = m.group(1)
for a, w in want.items():
    sizes = {k: lspci_size(v) for k, v in w.get("bars", {}).items()}
    if w.get("rom"):
        sizes["rom"] = lspci_size(w["rom"])
    if regions.get(a, {}) != sizes:
        err("%s: lspci regions %s, manifest %s" % (a, regions.get(a), sizes))

cur = None
for line in open(t + "/vv"):
    m = re.match(r"^([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) ", line)
    if m:
        cur = m.group(1)
        continue
    m = re.search(r"Bus: primary=([0-9a-f]+), secondary=([0-9a-f]+), subordinate=([0-9a-f]+)", line)
    if m and cur:
        w = want[cur]
        if (m.group(1), m.group(2), m.group(3)) != (cur[5:7], w["secondary"], w["subordinate"]):
            err("%s: bus numbers %s, manifest %s/%s" % (cur, m.groups(), w["secondary"], w["subordinate"]))
for a, w in want.items():
    if w["parent"] and want[w["parent"]]["secondary"] != a[5:7]:
        err("%s: on bus %s, its bridge's secondary is %s" % (a, a[5:7], want[w["parent"]]["secondary"]))
for e in errors[:20]:
    print("%s: %s" % (host, e))
sys.exit(1 if errors else 0)
PY
	n=$((n + 1))
done
[ "$n" -ge 6 ] || fail "only $n fixtures"
say "ok: lspci reads all $n fake hosts as described"
