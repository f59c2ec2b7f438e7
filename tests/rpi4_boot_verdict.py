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
the report finished; the log has no kernel report. Then tests/rpi4-test.sh's steps
("XRS-RPI4:"): none is bad; the Rust xen-swiotlb was attached to the legacy SDHCI,
EMMC2 and the DMA engine, the DMA engine bound to its driver again, the SD controllers
keeping theirs, and has its ops on all three; its debugfs range report shows, for each, the table the kernel read
from the upstream tree (CPU 0 at bus 0xC0000000, 1 GiB: /soc's and emmc2-bus's
dma-ranges) and its translations: physical 0 is bus 0xC0000000 and back, the last page
of the first GiB is bus 0xFFFFF000, and 0x40000000 has no bus address; a file written to
the card's FAT partition reads back with the same MD5 after the page cache is dropped;
the KUnit suite xen_swiotlb_board ran its 3 cases on the three devices and passed
them all, its mappings through the Rust ops (their counters moved, none failed); the
core's address suites xen_dma_ranges, xen_dma_p2m and xen_dma_virt passed on the
board's memory map (Dom0's RAM below 1 GiB).
(dmatest is not run: it hangs QEMU's raspi4b, with the C ops too; Documentation/rpi4.md.)
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
    rpi = [l[len("XRS-RPI4: "):] for l in lines if l.startswith("XRS-RPI4: ")]
    check("the RPi4 steps ran and none was bad",
          "done" in rpi and not any(l.startswith("bad:") for l in rpi),
          [l for l in rpi if l.startswith("bad:")][:4] or rpi[-1:])
    devs = ["fe300000.mmc", "fe340000.mmc", "fe007000.dma-controller"]
    check("xen_swiotlb_rs attached to the SDHCI, EMMC2 and the DMA engine",
          f"ok: xen_swiotlb_rs attached to {','.join(devs)}" in rpi)
    for d in devs:
        # The DMA engine is unbound and bound again around the attach, the SD controllers
        # (PIO) keep their driver.
        how = (f"ok: bound {d} to " if d.endswith("dma-controller") else f"ok: {d} keeps ")
        check(f"{d}: {'bound to its driver again' if 'dma' in d else 'kept its driver'}, "
              "with the Rust ops",
              any(l.startswith(how) for l in rpi)
              and any(re.match(rf"devices: {re.escape(d)}: ops=rust rebinds=\d+", l) for l in rpi))
        rg = [l[len(f"ranges: {d}: "):] for l in rpi if l.startswith(f"ranges: {d}: ")]
        check(f"{d}: its range table from the upstream tree: cpu 0x0 at dma 0xc0000000, 1 GiB",
              rg and [l for l in rg if l.startswith("range ")] == ["range cpu 0x0 dma 0xc0000000 size 0x40000000"],
              rg[:2])
        check(f"{d}: physical 0 is bus 0xc0000000 and back; 0x3ffff000 is 0xfffff000; "
              "0x40000000 has none",
              "phys 0x0 -> machine 0x0 -> dma 0xc0000000 -> phys 0x0" in rg
              and "phys 0x3ffff000 -> machine 0x3ffff000 -> dma 0xfffff000 -> phys 0x3ffff000" in rg
              and "phys 0x40000000 -> machine 0x40000000 -> dma none" in rg, rg)
    m = next((re.match(r"card: wrote (\d+) bytes md5 (\w+), read back md5 (\w+)", l) for l in rpi
              if l.startswith("card: wrote")), None)
    check("a file of 1 MiB written to the card's FAT partition reads back the same",
          m and m.group(1) == "1048576" and m.group(2) == m.group(3), m and m.groups())
    suite = next((l for l in rpi if l.startswith("board suite: pass:")), "")
    check("KUnit xen_swiotlb_board: 3 cases on the board's devices, all passed",
          re.match(r"board suite: pass:3 fail:0 skip:0 total:3$", suite), suite or rpi[-3:])
    for s in ("xen_dma_ranges", "xen_dma_p2m", "xen_dma_virt"):
        got = next((l for l in rpi if l.startswith(f"core suite {s}: ")), "")
        m = re.match(rf"core suite {s}: pass:(\d+) fail:0 skip:0 total:(\d+)$", got)
        check(f"KUnit {s} on this board's memory map: all passed",
              m and m.group(1) == m.group(2) and int(m.group(1)) > 0, got)
    cnt = next((l for l in rpi if l.startswith("board suite: ops counters")), "")
    c = re.match(r"board suite: ops counters before: direct=(\d+) bounced_bytes=(\d+) failures=(\d+); "
                 r"after: direct=(\d+) bounced_bytes=(\d+) failures=(\d+)", cnt)
    check("the suite's mappings went through the Rust ops (in place and bounced), none failed",
          c and int(c.group(4)) > int(c.group(1)) and int(c.group(5)) > int(c.group(2))
          and c.group(3) == c.group(6), cnt)
    card = next((l for l in rpi if l.startswith("card: ops counters")), "")
    cm = re.match(r"card: ops counters before: direct=(\d+) bounced_bytes=(\d+) .*; "
                  r"after: direct=(\d+) bounced_bytes=(\d+)", card)
    card_note = ("the card's controller mapped "
                 f"{int(cm.group(3)) - int(cm.group(1))} buffers through the Rust ops"
                 if cm else "no card counters")
    splats = [l for l in lines if SPLAT_RE.search(l)]
    check("no kernel report", not splats, splats[:3])

    failed = [c for c in checks if not c[1]]
    for name, ok, detail in checks:
        print(f"  rpi4-boot {'ok' if ok else 'FAILED'}: {name}" + ("" if ok else f" ({detail})"))
    print(f"  rpi4-boot note: {card_note} (0: QEMU's SDHCI worked by PIO)")
    print(f"rpi4-boot: {len(checks) - len(failed)} passed, {len(failed)} failed, 0 skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
