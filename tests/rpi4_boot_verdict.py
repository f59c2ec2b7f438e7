#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judges the boot of make rpi4's SD-only card on QEMU raspi4b (tests/rpi4-boot.sh).

usage: rpi4_boot_verdict.py LOG
Checks, each counted as one test: U-Boot ran the card's boot.scr and read the four
files from the card; Xen 4.20 started; Xen gave Dom0 512 MiB, all of it below 1 GiB
(the seed's first bug: devices on the RPi4 reach only the first GiB); Dom0 runs on the
upstream tree ("Machine model: Raspberry Pi 4 Model B") and reached /init under Xen;
the Rust stack loaded (xen_core, xen_swiotlb_rs, xen_privcmd_rs, xen_xenfs_rs); Xen's
toolstack came up on the Rust privcmd and xenfs and `xl info` and `xl list` answered;
the report finished; the log has no kernel report.
Prints "rpi4-boot: N passed, N failed, 0 skipped".
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ktap import SPLAT_RE  # noqa: E402

MODULES = ["xen_core", "xen_swiotlb_rs", "xen_privcmd_rs", "xen_xenfs_rs"]


def main() -> int:
    with open(sys.argv[1], errors="replace") as f:
        lines = [l.rstrip("\r\n") for l in f]
    text = "\n".join(lines)
    checks = []

    def check(name, ok, detail=""):
        checks.append((name, bool(ok), detail))

    check("U-Boot's bootflow ran the card's boot script",
          re.search(r"Booting bootflow 'mmc@[0-9a-f]+\.bootdev\.part_1' with script", text))
    reads = re.findall(r"^(\d+) bytes read in", text, re.M)
    check("U-Boot read the DTB, Xen, the kernel and the initramfs from the card",
          len(reads) >= 4, reads)
    check("Xen 4.20 started", re.search(r"\(XEN\) Xen version 4\.20", text))
    m = re.search(r"Allocating 1:1 mappings totalling (\d+)MB for dom0", text)
    banks = [(int(a, 16), int(b, 16)) for a, b in
             re.findall(r"\(XEN\) BANK\[\d+\] 0x([0-9a-f]+)-0x([0-9a-f]+)", text)]
    check("Dom0 has 512 MiB, all below 1 GiB",
          m and m.group(1) == "512" and banks and all(e <= 1 << 30 for _, e in banks),
          (m and m.group(0), [(hex(a), hex(b)) for a, b in banks]))
    check("Dom0 runs on the upstream Raspberry Pi 4 B tree",
          "Machine model: Raspberry Pi 4 Model B" in text)
    check("Dom0 reached /init under Xen",
          re.search(r"XRS: up: Linux .* Dom0 under xen 4\.20", text))
    loaded = next((l for l in lines if l.startswith("XRS: modules loaded:")), "")
    check("the Rust stack loaded: " + ", ".join(MODULES),
          all(re.search(rf"\b{m}\b", loaded) for m in MODULES), loaded)
    check("Xen's daemons started on the Rust privcmd and xenfs",
          re.search(r"XRS: daemons: xenstored \d+, xenconsoled \d+", text)
          and not re.search(r"^XRS: bad:", text, re.M))
    check("xl info answered", re.search(r"^XRS:\s+xen_version\s+: 4\.20", text, re.M)
          or re.search(r"^XRS:\s+host\s+:", text, re.M))
    check("xl list shows Domain-0", re.search(r"^XRS:\s+Domain-0\s+0\s", text, re.M))
    check("the report finished", "XRS: done" in text)
    splats = [l for l in lines if SPLAT_RE.search(l)]
    check("no kernel report", not splats, splats[:3])

    failed = [c for c in checks if not c[1]]
    for name, ok, detail in checks:
        print(f"  rpi4-boot {'ok' if ok else 'FAILED'}: {name}" + ("" if ok else f" ({detail})"))
    print(f"rpi4-boot: {len(checks) - len(failed)} passed, {len(failed)} failed, 0 skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
