#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judges the boot of the kernel of make patches with the stack built in
(tests/builtin-boot.sh, tests/builtin-test.sh in Dom0).

usage: builtin_verdict.py [--rpi4] LOG
QEMU virt (tests/builtin-boot.sh) checks, each counted as one test: every KUnit suite of the series ran at boot with its
whole plan and no failure; the five modules are built in and none is loaded; the
built-in xen-swiotlb took its devices from the command line and reports the disk's
transport as attached; 16 MiB went through the disk and came back intact, mapped by the
Rust ops with no failure; /dev/xen has the built-in devices; Xen's toolstack came up on
them and `xl list` shows Domain-0; no kernel report. Prints "builtin-xen: N passed, N
failed, 0 skipped" (cases KUnit skipped are named in their suite's line).

With --rpi4, the same kernel on make rpi4's SD-only card on QEMU raspi4b (tests/patches.sh):
Dom0 is up on the Raspberry Pi 4 model under Xen; the built-in xen-swiotlb attached at
boot to the board's two SD controllers and its DMA engine; no module is loaded; the
built-in xen_swiotlb_board suite ran on those devices and passed every case (none
skipped); /dev/xen has the built-in devices and `xl list` shows Domain-0; no kernel
report. Prints "builtin-rpi4: N passed, N failed, 0 skipped".
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ktap import PREFIX_RE, SPLAT_RE, parse_suites  # noqa: E402

SUITES = ["xen_dma_ranges", "xen_dma_p2m", "xen_dma_virt", "xen_grant", "xen_swiotlb_ops",
          "xen_swiotlb_contract", "xen_swiotlb_differential", "xen_swiotlb_board",
          "xen_privcmd_abi"]
MODULES = ["xen_swiotlb_rs", "xen_privcmd_rs", "xen_xenfs_rs", "xen_gntdev_rs",
           "xen_gntalloc_rs"]
PDEV = "a003e00.virtio_mmio"
BOARD = ["fe300000.mmc", "fe340000.mmc", "fe007000.dma-controller"]


def rpi4(lines, check) -> None:
    check("Dom0 up on the Raspberry Pi 4 under Xen 4.20",
          "Machine model: Raspberry Pi 4 Model B" in lines and
          any(re.match(r"XRS: up: .*Dom0 under xen 4\.20", l) for l in lines))
    for d in BOARD:
        check(f"the built-in xen-swiotlb attached to {d} at boot",
              f"xen_swiotlb_rs: attached to {d}" in lines)
    loaded = next((l for l in lines if l.startswith("XRS: modules loaded:")), None)
    check("no module is loaded",
          loaded is not None and loaded[len("XRS: modules loaded:"):].strip() == "",
          loaded or "no module list")
    r = parse_suites(lines).get("xen_swiotlb_board")
    check(f"KUnit xen_swiotlb_board on the board's devices: {r['pass'] if r else 0} passed",
          bool(r) and r["pass"] == r["plan"] == 3, str(r))
    dev = next((l for l in lines if l.startswith("XRS: /dev/xen:")), "")
    check("/dev/xen has privcmd, hypercall, gntdev and gntalloc",
          all(d in dev.split() for d in ("privcmd", "hypercall", "gntdev", "gntalloc")), dev)
    check("xl list shows Domain-0", any(re.match(r"XRS:\s+Domain-0\s+0\s", l) for l in lines))


def virt(lines, check) -> None:
    b = [l[len("XRS-BUILTIN: "):] for l in lines if l.startswith("XRS-BUILTIN: ")]
    suites = parse_suites(lines)
    for s in SUITES:
        r = suites.get(s)
        ran = r and r["pass"] + r["fail"] + r["skip"]
        check(f"KUnit {s} ran at boot: {r['pass']} passed, {r['skip']} skipped" if r else
              f"KUnit {s} ran at boot", bool(r) and r["fail"] == 0 and ran == r["plan"] and
              r["pass"] + r["skip"] > 0, "did not run" if not r else
              f"failed: {', '.join(r['failed'])}; plan {r['plan']}, ran {ran}")
    built = {l.split(": ", 1)[1].split()[0] for l in b if l.startswith("built in: ")}
    check("the five modules are built in", built == set(MODULES),
          f"built in: {sorted(built)}")
    loaded = next((l for l in b if l.startswith("modules loaded:")), "")
    check("no module of the stack is loaded", "modules loaded:" in loaded and
          not any(m in loaded for m in MODULES), loaded or "no module list")
    check(f"xen_swiotlb_rs.devices= on the command line: {PDEV}",
          f"devices parameter: {PDEV}" in b, next((l for l in b if "devices param" in l), ""))
    check("the disk's transport is attached (debugfs ranges)",
          any(l.startswith(f"ranges: {PDEV}") for l in b),
          "; ".join(l for l in b if l.startswith("ranges:")) or "no ranges output")
    disk = next((l for l in b if l.startswith("disk bytes=")), "")
    m = re.search(r"want=(\w+) got=(\w+)", disk)
    check("16 MiB written to the disk and read back intact",
          bool(m) and m.group(1) == m.group(2), disk or "no disk line")
    io = dict(re.findall(r"^io (\w+):(-?\d+)$", "\n".join(b), re.M))
    check(f"the Rust ops mapped the disk's I/O ({io.get('direct', '?')} in place, "
          f"{io.get('bounced_bytes', '?')} bytes bounced)",
          int(io.get("direct", 0)) + int(io.get("bounced_bytes", 0)) > 0, str(io))
    check("no mapping failed", io.get("failures") == "0", f"failures {io.get('failures')}")
    dev = next((l for l in b if l.startswith("/dev/xen:")), "")
    check("/dev/xen has privcmd, hypercall, gntdev and gntalloc",
          all(d in dev.split() for d in ("privcmd", "hypercall", "gntdev", "gntalloc")), dev)
    check("Xen's toolstack came up on the built-in devices",
          any(l.startswith("dom0: daemons:") for l in b),
          "; ".join(l for l in b if l.startswith("dom0:"))[-300:])
    check("xl list shows Domain-0", any(re.match(r"\s+Domain-0\s+0\s", l) for l in b))


def main() -> int:
    board = sys.argv[1] == "--rpi4"
    with open(sys.argv[-1], errors="replace") as f:
        lines = [PREFIX_RE.sub("", l.rstrip("\r\n")) for l in f]
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print(f"  builtin-{'rpi4' if board else 'xen'} {'ok' if ok else 'FAILED'}: {name}"
              + ("" if ok or not detail else f" ({detail})"))

    if board:
        rpi4(lines, check)
    else:
        virt(lines, check)
    splats = [l for l in lines if SPLAT_RE.search(l)]
    check("no kernel report", not splats, "; ".join(splats[:3]))
    check("the test ran to its end", "XRS: done" in lines)
    p = sum(results)
    print(f"builtin-{'rpi4' if board else 'xen'}: {p} passed, {len(results) - p} failed, "
          "0 skipped")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
