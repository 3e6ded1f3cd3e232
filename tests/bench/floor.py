#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The floor under `vmctl create`: what any launcher of the same VM must do.

    floor.py ARGV_JSON VMDIR BASE

ARGV_JSON is `vmctl cmdline SPEC --json` (QEMU's exact argv), VMDIR the
VM directory that argv names (its overlay, QMP socket, pidfile).  Timed
from here: `qemu-img create` of the overlay on BASE, QEMU started with the
argv (its serial log on fd 3, as vmctl's launcher gives it), and QMP asked
until `query-status` says running.  Prints the milliseconds, leaves QEMU
killed and VMDIR empty of what it made.  The timer starts after Python
has started, so nothing of this script's own start-up is counted.
"""
import json
import os
import socket
import subprocess
import sys
import time


def qmp_status(path):
    """QEMU's run state over QMP, or None while it does not answer."""
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(path)
            f = s.makefile("rw")
            json.loads(f.readline())
            for cmd in ("qmp_capabilities", "query-status"):
                f.write(json.dumps({"execute": cmd}) + "\n")
                f.flush()
                while True:
                    r = json.loads(f.readline())
                    if "event" not in r:
                        break
            return r.get("return", {}).get("status")
    except (OSError, ValueError):
        return None


def qmp_running(path, deadline):
    while time.monotonic() < deadline:
        if qmp_status(path) == "running":
            return True
        time.sleep(0.002)
    return False


def main():
    argv = json.load(open(sys.argv[1]))
    vmdir, base = sys.argv[2], sys.argv[3]
    overlay = os.path.join(vmdir, "disk.qcow2")
    qmp = os.path.join(vmdir, "qmp.sock")
    for f in (overlay, qmp):
        if os.path.exists(f):
            os.unlink(f)
    log = os.open(os.path.join(vmdir, "serial.log"),
                  os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    t0 = time.monotonic()
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", base,
                    "-F", "qcow2", overlay], check=True)
    os.dup2(log, 3, inheritable=True)
    q = subprocess.Popen(argv, pass_fds=(3,), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ok = qmp_running(qmp, t0 + 30)
    ms = (time.monotonic() - t0) * 1000
    q.kill()
    q.wait()
    for f in (overlay, qmp):
        if os.path.exists(f):
            os.unlink(f)
    if not ok:
        print("floor: QEMU did not say running within 30 s", file=sys.stderr)
        return 1
    print("%d" % ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
