#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Build a fake host (sysfs, proc, dev) from a compact JSON description.

    scripts/gen-sysfs.py HOST.json OUTDIR

writes OUTDIR/sys, OUTDIR/proc and OUTDIR/dev laid out the way Linux lays
them out, so vmctl (--sysfs-root, VMCTL_PROC_ROOT, VMCTL_DEV_ROOT) and
lspci (-A linux-sysfs -O sysfs.path=OUTDIR/sys/bus/pci) read them as a real
machine, and OUTDIR/manifest.json: every PCI function as generated, for
tests to compare against.  The descriptions live in tests/fixtures/sysfs/.

What is mirrored:
  sys/devices/pciDDDD:BB/DDDD:BB:DD.F/...   bridges nest their children
  sys/bus/pci/devices/ADDR -> the device      (relative links, as the
  sys/bus/pci/drivers/NAME/ADDR -> device      kernel makes them)
  DEVICE/driver -> bus/pci/drivers/NAME, DEVICE/subsystem -> bus/pci
  DEVICE/iommu_group -> kernel/iommu_groups/N, whose devices/ADDR links back
  DEVICE/{vendor,device,class,revision,subsystem_*,config,resource,irq,
          numa_node,driver_override,modalias,boot_vga (VGA only),
          reset_method (when given), rom (with "rom": a plain file holding
          a synthesized option ROM, where the kernel has its attribute)}
  config: 256 bytes whose ids, class, revision, header type, (bridges)
          bus numbers and BARs agree with the attributes
  bus/pci/drivers/NAME/module -> module/NAME when NAME ('-' as '_') is
          a loaded module (else the driver reads as built in)
  sys/class/iommu/{dmarN,ivhdN} with intel-iommu/ecap or amd-iommu/features
  sys/firmware/acpi/tables/{DMAR,IVRS,...}: the ACPI tables the firmware has
  sys/dev/block/MAJ:MIN, sys/class/block/NAME: disks under their PCI
          controller, partitions, device-mapper devices with slaves/
  sys/class/net/NAME under its PCI function, or virtual with lower_* links
  sys/module/NAME for loaded modules
  sys/kernel/mm/ksm/{run,pages_*,full_scans,...} (only with "ksm")
  sys/devices/system/cpu/{online,cpuN/topology/...} and
  sys/devices/system/node/nodeN/{cpulist,meminfo,hugepages/...},
          sys/kernel/mm/hugepages/... (only with "topology")
  proc/{self/mountinfo,net/route,net/ipv6_route,cmdline,modules,cpuinfo,
        meminfo,interrupts,uptime (with "uptime")}
  dev/mapper/NAME -> ../dm-N

The description (all keys optional but "devices"):
  cpu        {"vendor": "GenuineIntel", "model": "...", "flags": "...",
              "count": 4}
  cmdline    the kernel command line
  modules    loaded modules (proc/modules, sys/module)
  meminfo    {"HugePages_Total": 0, "HugePages_Free": 0, "Hugepagesize": 2048}
  iommu      null (off) or {"type": "intel"|"amd", "units": 1,
              "ecap": "0x...", "pci": "00:00.2" or a list, one per unit
              (AMD: the IOMMU functions the ivhdN units hang off)}
  acpi_tables  the ACPI tables under sys/firmware/acpi/tables (["DMAR"]:
             the firmware describes a VT-d IOMMU, "IVRS" an AMD-Vi one,
             whether or not the kernel turned it on); default: DMAR for
             an "intel" iommu, IVRS for an "amd" one, none without
  interrupt_remapping  true: proc/interrupts shows IR-PCI-MSI chips
  uptime     seconds since boot (proc/uptime); absent: no such file
  root       {"block": "nvme0n1p2", "fstype": "ext4", "source": "/dev/...",
              "majmin": "0:31" (to override, e.g. btrfs)}
  blocks     [{"name": "nvme0n1", "majmin": "259:0", "pci": "03:00.0",
               "via": "nvme/nvme0", "partitions": {"nvme0n1p2": "259:2"}},
              {"name": "nvme0n1", ..., "subsys": "nvme-subsys0",
               "controllers": [{"name": "nvme0", "pci": "03:00.0"}]}
               (NVMe multipath: under devices/virtual/nvme-subsystem),
              {"name": "dm-0", "majmin": "254:0", "mapper": "vg-root",
               "slaves": ["nvme0n1p3"]}]
  nets       [{"name": "eno1", "pci": "00:1f.6"},
              {"name": "br0", "lower": ["eno1"]}]
  route      interface of the IPv4 default route; route6: of IPv6's
  topology   CPUs and NUMA: {"packages": 2, "cores": 8, "threads": 2,
              "offline": [31], "nodes": [NODE, ...]}: CPU numbers as
              Linux gives them (thread t of core c of package p is
              t*packages*cores + p*cores + c), each package one node;
              without "nodes" no node directories (a host without NUMA).
              NODE: {"memory": MiB, "free": MiB, "hugepages": {"2M":
              [total, free], "1G": [total, free]}}.  PROC/meminfo's
              MemTotal becomes the nodes' sum, cpuinfo counts the CPUs,
              and a PCI function's local_cpulist is its node's CPUs.
  ksm        kernel samepage merging: {"run": 1, "pages_sharing": 5000,
              ...}: any attribute of sys/kernel/mm/ksm over the defaults
              of an idle kernel (run 0, counters 0, sleep_millisecs 20,
              pages_to_scan 100, merge_across_nodes 1); a value null
              leaves the file out; without "ksm" no directory (a kernel
              without CONFIG_KSM)
  devices    the PCI tree: each entry
      {"addr": "[DDDD:]BB:DD.F", "id": "vvvv:dddd", "class": "ccsspp",
       "rev": "a1", "subsys": "vvvv:dddd", "driver": "nvidia",
       "override": "vfio-pci", "group": LABEL or null (none) or absent
       (a group of its own slot), "numa": 0, "boot_vga": 1,
       "reset": "flr bus", "children": [...],
       "bars": {"0": "16M", "1": "32G p64", "5": "128 io"} (BAR index:
       size with K/M/G; "64" a 64-bit BAR, "p" prefetchable, "io" ports),
       "rom": "128K" (an expansion ROM BAR and a `rom` file: an x86 and
       an EFI image for the function's ids, or "rom_ids": "vvvv:dddd")}
  A list item may carry "repeat": {"n": 8}: it stands for 8 copies with
  n = 0..7 ({"b": 4, "d": 32}: 128 copies, every combination), and
  "{EXPR}" or "{EXPR:FMT}" in its strings is replaced by format(EXPR, FMT),
  EXPR being a Python expression over the repeat variables
  ("{0x18+n*0x10:02x}:00.0", "{['nvidia','vfio-pci'][n]}").  Repeats
  nest: children see their ancestors' variables.
"""
import itertools
import json
import os
import re
import struct
import sys

TEMPLATE = re.compile(r"\{([^{}]+)\}")


def subst(value, env):
    if isinstance(value, str):
        def one(m):
            body = m.group(1)
            scope = {"__builtins__": {}}
            try:    # trusted test data: a Python expression...
                return format(eval(body, scope, dict(env)))
            except SyntaxError:  # ...or one with a format spec
                expr, _, fmt = body.rpartition(":")
                return format(eval(expr, scope, dict(env)), fmt)
        return TEMPLATE.sub(one, value) if env else value
    if isinstance(value, list):
        return expand(value, env)
    if isinstance(value, dict):
        return {k: subst(v, env) for k, v in value.items() if k != "repeat"}
    return value


def expand(items, env=None):
    """A list with its "repeat" items multiplied out."""
    env = env or {}
    out = []
    for item in items:
        if isinstance(item, dict) and "repeat" in item:
            names = list(item["repeat"])
            for values in itertools.product(
                    *(range(item["repeat"][v]) for v in names)):
                out.append(subst(item, {**env, **dict(zip(names, values))}))
        else:
            out.append(subst(item, env))
    return out


def cpulist(cpus):
    """The kernel's list syntax: [0, 1, 2, 5] -> "0-2,5"."""
    out, cpus = [], sorted(cpus)
    i = 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        out.append("%d" % cpus[i] if i == j else "%d-%d" % (cpus[i], cpus[j]))
        i = j + 1
    return ",".join(out)


def parse_size(s):
    """ "16M" -> 16 << 20 """
    units = {"K": 10, "M": 20, "G": 30, "T": 40}
    s = str(s)
    if s[-1:].upper() in units:
        return int(s[:-1]) << units[s[-1].upper()]
    return int(s)


def parse_bars(bars):
    """{"1": "32G p64"} -> [(index, size, io, mem64, prefetch)]"""
    out = []
    for index, spec in sorted(bars.items(), key=lambda kv: int(kv[0])):
        words = spec.split()
        flags = "".join(words[1:])
        io = "io" in flags
        out.append((int(index), parse_size(words[0]), io,
                    not io and "64" in flags, not io and "p" in flags))
    return out


def option_rom(vendor, device, size):
    """An x86 image and an EFI image (the last), each half of SIZE, in the
    PCI Firmware Specification's layout, as a GPU's ROM holds them."""
    rom = bytearray()
    halves = [(0, size // 2), (3, size - size // 2)] if size >= 1024 \
        else [(3, size)]
    for n, (code, length) in enumerate(halves):
        units = length // 512
        img = bytearray(units * 512)
        img[0:2] = b"\x55\xaa"
        if code == 3:
            struct.pack_into("<HI", img, 2, units, 0x0EF1)
        else:
            img[2] = min(units, 255)
            img[3] = 0xEB
        struct.pack_into("<H", img, 0x18, 0x1C)
        pcir = bytearray(0x18)
        pcir[0:4] = b"PCIR"
        struct.pack_into("<HHHH", pcir, 4, vendor, device, 0, 0x18)
        pcir[0x0D:0x10] = bytes([0, 0, 3])
        struct.pack_into("<H", pcir, 0x10, units)
        pcir[0x14] = code
        pcir[0x15] = 0x80 if n == len(halves) - 1 else 0
        img[0x1C:0x1C + 0x18] = pcir
        if code == 0:
            init = img[2] * 512
            img[init - 1] = (0x100 - sum(img[:init - 1]) % 256) % 256
        rom += img
    return bytes(rom)


def parse_addr(s):
    parts = s.split(":")
    if len(parts) == 2:
        parts = ["0000"] + parts
    dom, bus, rest = parts
    dev, fn = rest.split(".")
    return int(dom, 16), int(bus, 16), int(dev, 16), int(fn, 16)


def fmt_addr(a):
    return "%04x:%02x:%02x.%x" % a


class Gen:
    def __init__(self, desc, out):
        self.desc = desc
        self.out = os.path.abspath(out)
        self.sys = os.path.join(self.out, "sys")
        self.proc = os.path.join(self.out, "proc")
        self.dev = os.path.join(self.out, "dev")
        self.devices = {}      # addr tuple -> record
        self.order = []
        self.groups = {}       # label -> number
        self.iommu = desc.get("iommu")
        self.windows = {}      # BAR kind -> next free address

    def place(self, size, kind):
        """An address for a BAR of SIZE, aligned to it, in its window."""
        start = {"io": 0xE000, "mem32": 0xC0000000, "mem64": 0x6000000000}
        nxt = self.windows.setdefault(kind, start[kind])
        base = (nxt + size - 1) // size * size
        self.windows[kind] = base + size
        return base

    # -- files -------------------------------------------------------------
    def write(self, path, data, mode=0o644):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        os.chmod(path, mode)

    def link(self, path, target):
        """A relative symlink at PATH to the absolute TARGET."""
        os.makedirs(os.path.dirname(path), exist_ok=True)
        rel = os.path.relpath(target, os.path.dirname(path))
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(rel, path)

    # -- the PCI tree ------------------------------------------------------
    def collect(self, entries, parent, parent_dir, depth):
        entries = sorted(expand(entries), key=lambda e: parse_addr(e["addr"]))
        for e in entries:
            a = parse_addr(e["addr"])
            if a in self.devices:
                sys.exit("gen-sysfs: %s twice" % fmt_addr(a))
            if parent_dir is None:
                base = os.path.join(self.sys, "devices",
                                    "pci%04x:%02x" % (a[0], a[1]))
            else:
                base = parent_dir
            path = os.path.join(base, fmt_addr(a))
            rec = {"addr": a, "e": e, "path": path, "parent": parent,
                   "children": [], "depth": depth}
            self.devices[a] = rec
            self.order.append(a)
            if parent is not None:
                self.devices[parent]["children"].append(a)
            self.collect(e.get("children", []), a, path, depth + 1)

    def assign_groups(self):
        next_group = 0
        for a in self.order:
            rec = self.devices[a]
            e = rec["e"]
            if not self.iommu or ("group" in e and e["group"] is None):
                rec["group"] = None
                continue
            label = e.get("group", "slot:%04x:%02x:%02x" % a[:3])
            label = str(label)
            if label not in self.groups:
                self.groups[label] = next_group
                next_group += 1
            rec["group"] = self.groups[label]

    def bus_range(self, a):
        rec = self.devices[a]
        kids = rec["children"]
        if not kids:
            sec = int(rec["e"].get("secondary", "0"), 16)
            return sec, sec
        buses = {k[1] for k in kids}
        if len(buses) != 1:
            sys.exit("gen-sysfs: children of %s on several buses" % fmt_addr(a))
        sub = max(self.bus_range(k)[1] for k in kids)
        return buses.pop(), max(sub, kids[0][1])

    def config(self, a, rec, vendor, device, cls, rev, subsys, bridge):
        c = bytearray(256)
        struct.pack_into("<HH", c, 0, vendor, device)
        io_bar = any(b[2] for b in rec.get("bars", []))
        struct.pack_into("<HH", c, 4, 0x0407 if bridge or io_bar else 0x0406,
                         0x0010)
        c[8] = rev
        c[9] = cls & 0xff
        c[10] = (cls >> 8) & 0xff
        c[11] = (cls >> 16) & 0xff
        multi = any(b[:3] == a[:3] and b != a for b in self.devices)
        c[0x0e] = (1 if bridge else 0) | (0x80 if multi and a[3] == 0 else 0)
        if bridge:
            sec, sub = self.bus_range(a)
            c[0x18], c[0x19], c[0x1a] = a[1], sec, sub
        else:
            struct.pack_into("<HH", c, 0x2c, *subsys)
        c[0x3d] = 1
        for index, _size, io, mem64, pref, base in rec.get("bars", []):
            low = (base & ~0x3) | 0x1 if io else \
                (base & 0xFFFFFFF0) | (0x4 if mem64 else 0) | (0x8 if pref else 0)
            struct.pack_into("<I", c, 0x10 + 4 * index, low & 0xFFFFFFFF)
            if mem64:
                struct.pack_into("<I", c, 0x14 + 4 * index, base >> 32)
        if rec.get("rom") and not bridge:
            struct.pack_into("<I", c, 0x30, rec["rom"][1] & 0xFFFFF800)
        # A PCI Express capability, so the device reads as PCIe.
        c[0x34] = 0x40
        c[0x40] = 0x10
        c[0x41] = 0x00
        parent = self.devices[rec["parent"]]["e"] if rec["parent"] else None
        if rec["e"].get("switch_upstream"):
            kind = 0x5            # switch upstream port
        elif bridge:
            kind = 0x4 if parent is None else 0x6   # root / downstream port
        else:
            kind = 0x9 if parent is None else 0x0   # integrated / endpoint
        struct.pack_into("<H", c, 0x42, 0x0002 | (kind << 4))
        return bytes(c)

    def make_device(self, a):
        rec = self.devices[a]
        e = rec["e"]
        path = rec["path"]
        vendor, device = (int(x, 16) for x in e["id"].split(":"))
        cls = int(e["class"], 16)
        bridge = (cls >> 8) in (0x0604, 0x0609) or bool(e.get("bridge"))
        rev = int(e.get("rev", "00"), 16)
        subsys = (0, 0) if bridge else \
            tuple(int(x, 16) for x in e.get("subsys", e["id"]).split(":"))
        numa = int(e.get("numa", -1))
        w = self.write
        w(path + "/vendor", "0x%04x\n" % vendor)
        w(path + "/device", "0x%04x\n" % device)
        w(path + "/class", "0x%06x\n" % cls)
        w(path + "/revision", "0x%02x\n" % rev)
        w(path + "/subsystem_vendor", "0x%04x\n" % subsys[0])
        w(path + "/subsystem_device", "0x%04x\n" % subsys[1])
        w(path + "/irq", "%d\n" % e.get("irq", 0))
        w(path + "/numa_node", "%d\n" % numa)
        w(path + "/enable", "1\n")
        w(path + "/local_cpulist", "%s\n" % self.local_cpulist(numa))
        w(path + "/driver_override", "%s\n" % e.get("override", "(null)"))
        w(path + "/modalias", "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X\n"
          % (vendor, device, subsys[0], subsys[1], cls >> 16,
             (cls >> 8) & 0xff, cls & 0xff))
        w(path + "/uevent", "DRIVER=%s\nPCI_CLASS=%X\nPCI_ID=%04X:%04X\n"
          "PCI_SLOT_NAME=%s\n" % (e.get("driver", ""), cls, vendor, device,
                                  fmt_addr(a)))
        lines = ["0x0000000000000000 0x0000000000000000 "
                 "0x0000000000000000\n"] * (17 if bridge else 13)
        rec["bars"] = []
        for index, size, io, mem64, pref in parse_bars(e.get("bars", {})):
            base = self.place(size, "io" if io else "mem64" if mem64 else "mem32")
            flags = 0x100 if io else 0x200 | (0x100000 if mem64 else 0) \
                | (0x2000 if pref else 0) | (0x40000 if pref else 0)
            lines[index] = "0x%016x 0x%016x 0x%016x\n" % (base, base + size - 1, flags)
            rec["bars"].append((index, size, io, mem64, pref, base))
        if "rom" in e and not bridge:
            size = parse_size(e["rom"])
            base = self.place(size, "mem32")
            lines[6] = "0x%016x 0x%016x 0x%016x\n" % (base, base + size - 1, 0x46200)
            rec["rom"] = (size, base)
            rv, rd = (int(x, 16) for x in e.get("rom_ids", e["id"]).split(":"))
            w(path + "/rom", option_rom(rv, rd, size), 0o600)
        w(path + "/resource", "".join(lines))
        w(path + "/config", self.config(a, rec, vendor, device, cls, rev,
                                        subsys, bridge))
        if (cls >> 8) == 0x0300:
            w(path + "/boot_vga", "%d\n" % e.get("boot_vga", 0))
        if "reset" in e:
            w(path + "/reset_method", e["reset"] + "\n")
        for f in ("remove", "rescan", "reset") if "reset" in e else ("remove", "rescan"):
            w(path + "/" + f, "", 0o200)
        self.link(path + "/subsystem", self.sys + "/bus/pci")
        self.link(self.sys + "/bus/pci/devices/" + fmt_addr(a), path)
        drv = e.get("driver")
        if drv:
            ddir = self.sys + "/bus/pci/drivers/" + drv
            for f in ("bind", "unbind", "new_id", "remove_id", "uevent"):
                if not os.path.exists(ddir + "/" + f):
                    w(ddir + "/" + f, "", 0o200)
            mod = drv.replace("-", "_")
            if mod in self.desc.get("modules", []):
                self.link(ddir + "/module", self.sys + "/module/" + mod)
            self.link(ddir + "/" + fmt_addr(a), path)
            self.link(path + "/driver", ddir)
        g = rec["group"]
        if g is not None:
            gdir = "%s/kernel/iommu_groups/%d" % (self.sys, g)
            self.link(path + "/iommu_group", gdir)
            self.link(gdir + "/devices/" + fmt_addr(a), path)
            if not os.path.exists(gdir + "/type"):
                w(gdir + "/type", "DMA\n")
                w(gdir + "/reserved_regions",
                  "0x00000000fee00000 0x00000000feefffff msi\n")
            if self.iommu_dir and not os.path.isdir(path + "/iommu"):
                self.link(path + "/iommu", self.iommu_dir)
        buses = self.bus_range(a) if bridge else None
        return {"address": fmt_addr(a), "vendor": "%04x" % vendor,
                "device": "%04x" % device, "class": "%06x" % cls,
                "revision": "%02x" % rev,
                "subsystem": None if bridge else "%04x:%04x" % subsys,
                "bridge": bridge, "driver": drv, "iommu_group": g,
                "numa_node": numa,
                "bars": {str(b[0]): b[1] for b in rec["bars"]},
                "rom": rec["rom"][0] if rec.get("rom") else None,
                "secondary": "%02x" % buses[0] if buses else None,
                "subordinate": "%02x" % buses[1] if buses else None,
                "parent": fmt_addr(rec["parent"]) if rec["parent"] else None}

    # -- IOMMU, disks, NICs --------------------------------------------------
    def make_iommu(self):
        self.iommu_dir = None
        os.makedirs(self.sys + "/kernel/iommu_groups", exist_ok=True)
        os.makedirs(self.sys + "/class/iommu", exist_ok=True)
        io = self.iommu
        if not io:
            return
        for u in range(io.get("units", 1)):
            if io["type"] == "intel":
                d = "%s/devices/virtual/iommu/dmar%d" % (self.sys, u)
                self.write(d + "/intel-iommu/ecap", io.get("ecap", "0xf0205e") + "\n")
                self.write(d + "/intel-iommu/cap", io.get("cap", "0xd2008c40660462") + "\n")
                self.write(d + "/intel-iommu/version", "1:0\n")
                self.link(self.sys + "/class/iommu/dmar%d" % u, d)
            else:
                where = io.get("pci")
                if isinstance(where, list):
                    where = where[u]
                pci = self.devices[parse_addr(where)]["path"] if where \
                    else self.sys + "/devices/virtual"
                d = "%s/iommu/ivhd%d" % (pci, u)
                self.write(d + "/amd-iommu/features", io.get("features", "0x25bf732fa2295afe") + "\n")
                self.write(d + "/amd-iommu/cap", "0x00190040\n")
                self.link(self.sys + "/class/iommu/ivhd%d" % u, d)
            if self.iommu_dir is None:
                self.iommu_dir = d

    def make_acpi(self):
        tables = self.desc.get("acpi_tables")
        if tables is None:
            kind = (self.iommu or {}).get("type")
            tables = {"intel": ["DMAR"], "amd": ["IVRS"]}.get(kind, [])
        for t in tables:
            # the signature and a header's worth of bytes; nobody parses it
            self.write(self.sys + "/firmware/acpi/tables/" + t,
                       t.encode() + struct.pack("<I", 36) + bytes(28), 0o444)

    def make_blocks(self):
        self.block_paths = {}
        pending = expand(self.desc.get("blocks", []))
        for b in pending:
            if "slaves" in b:
                continue
            if "subsys" in b:
                # NVMe native multipath: the namespace hangs off a
                # virtual subsystem that links to its controllers.
                sd = "%s/devices/virtual/nvme-subsystem/%s" % (self.sys, b["subsys"])
                for c in b["controllers"]:
                    cd = os.path.join(self.devices[parse_addr(c["pci"])]["path"],
                                      "nvme", c["name"])
                    self.write(cd + "/dev", c.get("majmin", "240:0") + "\n")
                    self.link(sd + "/" + c["name"], cd)
                d = sd + "/" + b["name"]
            else:
                a = parse_addr(b["pci"])
                d = os.path.join(self.devices[a]["path"], b.get("via", ""),
                                 "block", b["name"])
            self.add_block(b["name"], d, b["majmin"], False)
            for part, mm in sorted(b.get("partitions", {}).items()):
                self.add_block(part, d + "/" + part, mm, True)
        for b in pending:
            if "slaves" not in b:
                continue
            d = "%s/devices/virtual/block/%s" % (self.sys, b["name"])
            self.add_block(b["name"], d, b["majmin"], False)
            if "mapper" in b:
                self.write(d + "/dm/name", b["mapper"] + "\n")
                self.link(self.dev + "/mapper/" + b["mapper"],
                          self.dev + "/" + b["name"])
            for s in b["slaves"]:
                self.link(d + "/slaves/" + s, self.block_paths[s])
                self.link(self.block_paths[s] + "/holders/" + b["name"], d)

    def add_block(self, name, d, majmin, partition):
        self.write(d + "/dev", majmin + "\n")
        self.write(d + "/size", "1953525168\n")
        self.write(d + "/uevent", "DEVNAME=%s\nDEVTYPE=%s\n"
                   % (name, "partition" if partition else "disk"))
        if partition:
            self.write(d + "/partition", name[-1] + "\n")
        self.link(self.sys + "/dev/block/" + majmin, d)
        self.link(self.sys + "/class/block/" + name, d)
        self.block_paths[name] = d

    def make_nets(self):
        paths = {}
        nets = expand(self.desc.get("nets", []))
        nets.append({"name": "lo"})
        for i, n in enumerate(nets):
            if "pci" in n:
                d = os.path.join(self.devices[parse_addr(n["pci"])]["path"],
                                 "net", n["name"])
                self.link(d + "/device", self.devices[parse_addr(n["pci"])]["path"])
            else:
                d = "%s/devices/virtual/net/%s" % (self.sys, n["name"])
            self.write(d + "/ifindex", "%d\n" % (i + 1))
            self.write(d + "/operstate", "up\n")
            self.write(d + "/address", "52:54:00:00:%02x:%02x\n" % (i >> 8, i & 0xff))
            self.link(self.sys + "/class/net/" + n["name"], d)
            paths[n["name"]] = d
        for n in nets:
            for low in n.get("lower", []):
                self.link(paths[n["name"]] + "/lower_" + low, paths[low])
                self.link(paths[low] + "/upper_" + n["name"], paths[n["name"]])
                self.link(paths[low] + "/master", paths[n["name"]])

    # -- CPUs and NUMA nodes --------------------------------------------------
    def topology(self):
        """{cpu: (package, core, thread)} of the "topology" description."""
        t = self.desc.get("topology")
        if not t:
            return {}
        pk, co, th = t.get("packages", 1), t.get("cores", 1), t.get("threads", 1)
        return {h * pk * co + p * co + c: (p, c, h)
                for p in range(pk) for c in range(co) for h in range(th)}

    def node_cpus(self, node):
        return sorted(c for c, (p, _, _) in self.topology().items() if p == node)

    def local_cpulist(self, numa):
        t = self.desc.get("topology")
        if not t or numa < 0 or numa >= len(t.get("nodes", [])):
            return "0-3"
        return cpulist(self.node_cpus(numa))

    def make_cpus(self):
        t = self.desc.get("topology")
        if not t:
            return
        topo = self.topology()
        offline = set(t.get("offline", []))
        base = self.sys + "/devices/system/cpu"
        self.write(base + "/online", cpulist(sorted(set(topo) - offline)) + "\n")
        self.write(base + "/possible", cpulist(sorted(topo)) + "\n")
        self.write(base + "/present", cpulist(sorted(topo)) + "\n")
        for cpu, (p, c, _) in sorted(topo.items()):
            d = "%s/cpu%d" % (base, cpu)
            if cpu != 0:
                self.write(d + "/online", "%d\n" % (cpu not in offline))
            if cpu in offline:
                continue    # the kernel drops an offline CPU's topology
            # the kernel's sibling masks hold online CPUs only
            sib = sorted(k for k, v in topo.items()
                         if v[:2] == (p, c) and k not in offline)
            pkg = sorted(k for k, v in topo.items()
                         if v[0] == p and k not in offline)
            self.write(d + "/topology/core_id", "%d\n" % c)
            self.write(d + "/topology/physical_package_id", "%d\n" % p)
            self.write(d + "/topology/thread_siblings_list", cpulist(sib) + "\n")
            self.write(d + "/topology/core_siblings_list", cpulist(pkg) + "\n")
        nodes = t.get("nodes", [])
        if not nodes:
            return
        nbase = self.sys + "/devices/system/node"
        ids = cpulist(range(len(nodes)))
        self.write(nbase + "/online", ids + "\n")
        self.write(nbase + "/possible", ids + "\n")
        totals = {}
        for n, node in enumerate(nodes):
            d = "%s/node%d" % (nbase, n)
            cpus = self.node_cpus(n)
            self.write(d + "/cpulist", cpulist(cpus) + "\n")
            for cpu in cpus:
                self.link("%s/cpu%d" % (d, cpu), "%s/cpu%d" % (base, cpu))
                self.link("%s/cpu%d/node%d" % (base, cpu, n), d)
            huge = node.get("hugepages", {})
            mem = node.get("memory", 65536) * 1024
            free = node.get("free", node.get("memory", 65536) // 2) * 1024
            hp_total = hp_free = 0
            for name, kb in (("2M", 2048), ("1G", 1048576)):
                nr, fr = huge.get(name, [0, 0])
                h = "%s/hugepages/hugepages-%dkB" % (d, kb)
                self.write(h + "/nr_hugepages", "%d\n" % nr)
                self.write(h + "/free_hugepages", "%d\n" % fr)
                self.write(h + "/surplus_hugepages", "0\n")
                tot = totals.setdefault(kb, [0, 0])
                tot[0] += nr
                tot[1] += fr
                if kb == 2048:
                    hp_total, hp_free = nr, fr
            self.write(d + "/meminfo", "".join(
                "Node %d %s%s\n" % (n, k + ":", v) for k, v in (
                    ("MemTotal", "%16d kB" % mem),
                    ("MemFree", "%17d kB" % free),
                    ("MemUsed", "%17d kB" % (mem - free)),
                    ("HugePages_Total", "%6d" % hp_total),
                    ("HugePages_Free", "%7d" % hp_free),
                    ("HugePages_Surp", "%7d" % 0))))
        mm = self.sys + "/kernel/mm/hugepages"
        for kb, (nr, fr) in sorted(totals.items()):
            h = "%s/hugepages-%dkB" % (mm, kb)
            self.write(h + "/nr_hugepages", "%d\n" % nr)
            self.write(h + "/free_hugepages", "%d\n" % fr)
            self.write(h + "/resv_hugepages", "0\n")
            self.write(h + "/surplus_hugepages", "0\n")

    # -- KSM -----------------------------------------------------------------
    KSM_DEFAULTS = {"run": 0, "pages_shared": 0, "pages_sharing": 0,
                    "pages_unshared": 0, "pages_volatile": 0,
                    "full_scans": 0, "sleep_millisecs": 20,
                    "pages_to_scan": 100, "merge_across_nodes": 1,
                    "max_page_sharing": 256, "stable_node_chains": 0,
                    "stable_node_dups": 0, "use_zero_pages": 0}

    def make_ksm(self):
        ksm = self.desc.get("ksm")
        if ksm is None:
            return
        d = self.sys + "/kernel/mm/ksm"
        os.makedirs(d, exist_ok=True)
        for k, v in {**self.KSM_DEFAULTS, **ksm}.items():
            if v is not None:
                self.write("%s/%s" % (d, k), "%s\n" % v)

    # -- proc ----------------------------------------------------------------
    def make_proc(self):
        d = self.desc
        p = self.proc
        root = d.get("root", {})
        mm = root.get("majmin")
        if mm is None and "block" in root:
            with open(self.block_paths[root["block"]] + "/dev") as f:
                mm = f.read().strip()
        source = root.get("source", "/dev/" + root.get("block", "root"))
        fstype = root.get("fstype", "ext4")
        self.write(p + "/self/mountinfo",
                   "22 28 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
                   "23 28 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
                   "24 28 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,size=16318744k,mode=755\n"
                   "28 1 %s / / rw,relatime shared:1 - %s %s rw\n"
                   "30 28 0:26 / /run rw,nosuid,nodev,noexec,relatime shared:5 - tmpfs tmpfs rw,mode=755\n"
                   % (mm or "0:1", fstype, source))
        route = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        if d.get("route"):
            route += "%s\t00000000\t0102A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n" % d["route"]
            route += "%s\t0002A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n" % d["route"]
        self.write(p + "/net/route", route)
        v6 = "00000000000000000000000000000001 80 00000000000000000000000000000000 00 " \
             "00000000000000000000000000000000 00000000 00000001 00000000 00000001 lo\n"
        if d.get("route6"):
            v6 += "00000000000000000000000000000000 00 00000000000000000000000000000000 00 " \
                  "fe800000000000000000000000000001 00000400 00000001 00000000 00000003 %8s\n" \
                  % d["route6"]
        v6 += "00000000000000000000000000000000 00 00000000000000000000000000000000 00 " \
              "00000000000000000000000000000000 ffffffff 00000001 00000000 00200200 lo\n"
        self.write(p + "/net/ipv6_route", v6)
        if "uptime" in d:
            self.write(p + "/uptime", "%.2f %.2f\n" % (d["uptime"], d["uptime"] * 3.5))
        self.write(p + "/cmdline", d.get("cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet") + "\n")
        mods = d.get("modules", [])
        self.write(p + "/modules", "".join(
            "%s 16384 0 - Live 0x0000000000000000\n" % m for m in mods))
        for m in mods:
            self.write("%s/module/%s/refcnt" % (self.sys, m), "0\n")
            self.write("%s/module/%s/initstate" % (self.sys, m), "live\n")
        cpu = d.get("cpu", {})
        info = ""
        count = cpu.get("count", len(self.topology()) or 4)
        for i in range(count):
            info += ("processor\t: %d\nvendor_id\t: %s\ncpu family\t: 6\n"
                     "model name\t: %s\nflags\t\t: %s\n\n"
                     % (i, cpu.get("vendor", "GenuineIntel"),
                        cpu.get("model", "Generic CPU"),
                        cpu.get("flags", "fpu vme de pse tsc msr pae")))
        self.write(p + "/cpuinfo", info)
        mem = {"MemTotal": 32768000, "MemFree": 20000000, "HugePages_Total": 0,
               "HugePages_Free": 0, "HugePages_Rsvd": 0, "HugePages_Surp": 0,
               "Hugepagesize": 2048}
        nodes = d.get("topology", {}).get("nodes", [])
        if nodes:
            mem["MemTotal"] = sum(n.get("memory", 65536) for n in nodes) * 1024
            mem["MemFree"] = sum(n.get("free", n.get("memory", 65536) // 2)
                                 for n in nodes) * 1024
            mem["HugePages_Total"] = sum(n.get("hugepages", {}).get("2M", [0, 0])[0]
                                         for n in nodes)
            mem["HugePages_Free"] = sum(n.get("hugepages", {}).get("2M", [0, 0])[1]
                                        for n in nodes)
        mem.update(d.get("meminfo", {}))
        self.write(p + "/meminfo", "".join(
            "%s:%s%s\n" % (k, " " * max(1, 16 - len(k)),
                           ("%8d kB" % v) if k not in ("HugePages_Total",
                                                       "HugePages_Free",
                                                       "HugePages_Rsvd",
                                                       "HugePages_Surp")
                           else "%8d" % v)
            for k, v in mem.items()))
        chip = "IR-PCI-MSI" if d.get("interrupt_remapping") else "PCI-MSI"
        ioapic = "IR-IO-APIC" if d.get("interrupt_remapping") else "IO-APIC"
        self.write(p + "/interrupts",
                   "            CPU0       CPU1\n"
                   "   0:         33          0   %s    2-edge      timer\n"
                   "   9:          0          0   %s    9-fasteoi   acpi\n"
                   " 120:          0          0   %s 327680-edge      xhci_hcd\n"
                   "NMI:          0          0   Non-maskable interrupts\n"
                   % (ioapic, ioapic, chip))

    def run(self):
        self.collect(self.desc["devices"], None, None, 0)
        self.assign_groups()
        self.make_iommu()
        self.make_acpi()
        manifest = [self.make_device(a) for a in sorted(self.order)]
        os.makedirs(self.sys + "/bus/pci/drivers", exist_ok=True)
        os.makedirs(self.sys + "/bus/pci/slots", exist_ok=True)
        os.makedirs(self.dev, exist_ok=True)
        self.make_blocks()
        self.make_nets()
        self.make_cpus()
        self.make_ksm()
        self.make_proc()
        with open(os.path.join(self.out, "manifest.json"), "w") as f:
            json.dump({"functions": manifest,
                       "groups": len(self.groups)}, f, indent=1)
        return len(manifest)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen-sysfs.py HOST.json OUTDIR")
    with open(sys.argv[1]) as f:
        desc = json.load(f)
    n = Gen(desc, sys.argv[2]).run()
    print("gen-sysfs: %s: %d PCI functions" % (sys.argv[1], n), file=sys.stderr)


if __name__ == "__main__":
    main()
