#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judges the virtio-blk boot (tests/blk-test.sh in Dom0 under Xen).

usage: blk_verdict.py LOG DISK_IMAGE
Checks, each counted as one test: for the "direct" and the "forced" run, 64 MiB read
back with the checksum they were written with, the I/O went the expected way through
the Rust ops (direct: no bounce; forced: every mapping bounced), no call was refused,
and unloading was refused while the disk was bound; then that unloading after unbind
worked, the C ops read the same data back, the disk image on the host holds it, and the
log has no kernel report. Prints "blk-xen: N passed, N failed, 0 skipped".
"""

import hashlib
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ktap import SPLAT_RE  # noqa: E402

MIB = 1 << 20


def main() -> int:
    log, disk = sys.argv[1], sys.argv[2]
    with open(log, errors="replace") as f:
        lines = [l.rstrip("\r\n") for l in f]
    runs, io, flags = {}, {}, {}
    reread = None
    for l in lines:
        m = re.match(r"XRS-BLK: (\w+) bytes=(\d+) want=(\w+) got=(\w+)", l)
        if m:
            runs[m.group(1)] = (int(m.group(2)), m.group(3), m.group(4))
        m = re.match(r"XRS-BLK: (\w+) io (\w+):(-?\d+)", l)
        if m:
            io.setdefault(m.group(1), {})[m.group(2)] = int(m.group(3))
        m = re.match(r"XRS-BLK: (\S+)=(\w+)$", l)
        if m:
            flags[m.group(1)] = m.group(2)
        m = re.match(r"XRS-BLK: (\w+) unload-while-bound=(\w+)", l)
        if m:
            flags[m.group(1) + " unload-while-bound"] = m.group(2)
        m = re.match(r"XRS-BLK: reread-on-c-ops got=(\w+)", l)
        if m:
            reread = m.group(1)

    checks = []

    def check(name, ok, detail=""):
        checks.append((name, bool(ok), detail))

    for run in ("direct", "forced"):
        r = runs.get(run)
        check(f"{run}: 64 MiB written and read back intact",
              r and r[0] >= 64 * MIB and r[1] == r[2], r)
        s = io.get(run, {})
        if run == "direct":
            check("direct: mapped in place, nothing bounced",
                  s.get("direct", 0) > 0 and s.get("bounced_bytes", -1) == 0, s)
        else:
            check("forced: every mapping bounced",
                  s.get("bounced_forced", 0) > 0 and s.get("direct", -1) == 0
                  and s.get("bounced_bytes", 0) >= 2 * 64 * MIB, s)
        check(f"{run}: no refused call", s.get("failures", -1) == 0, s)
        check(f"{run}: unload refused while bound",
              flags.get(f"{run} unload-while-bound") == "refused")
    check("unload after unbind", flags.get("unload-after-unbind") == "ok")
    last = runs.get("forced")
    check("C ops read the same data", last and reread == last[1], reread)
    if last and os.path.exists(disk):
        with open(disk, "rb") as f:
            host = hashlib.md5(f.read(last[0])).hexdigest()
        check("disk image on the host holds the data", host == last[1], host)
    else:
        check("disk image on the host holds the data", False, "no forced run or no image")
    splats = [l for l in lines if SPLAT_RE.search(l)]
    check("no kernel report", not splats, splats[:3])

    failed = [c for c in checks if not c[1]]
    for name, ok, detail in checks:
        print(f"  blk-xen {'ok' if ok else 'FAILED'}: {name}" + ("" if ok else f" ({detail})"))
    print(f"blk-xen: {len(checks) - len(failed)} passed, {len(failed)} failed, 0 skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
