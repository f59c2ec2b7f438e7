#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judges the unload-under-load boot (tests/stress-test.sh in Dom0 under Xen), and the
driver bind before it (tests/bind-test.sh).

usage: stress_verdict.py LOG
Checks, each counted as one test: the kernel's DMA map benchmark driver, bound twice to a
device attached before, found the Rust ops at each bind (which had to put them back
after the bus's DMA configuration) and was served by them; every round and every load/unload cycle ran; rmmod was
tried while mappings were live and refused; the load mapped in place, bounced, allocated
and mapped from interrupt context, and every byte moved was right; no round found the
module holding anything after its load; the free pages came back around the load/unload
cycles (within a margin smaller than one page a cycle); the log has no kernel report
(KASAN, lockdep, DMA-API, WARN, BUG, Oops). Around the rounds under load, the free pages
are printed, not judged: the same load through the kernel's own ops alone takes 2 216
pages over 100 rounds (measured; KASAN's stack depot and the DMA API's debugging grow),
more than the rounds with the module take. Prints "stress-xen: N passed, N failed, 0 skipped".
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ktap import SPLAT_RE  # noqa: E402

ROUNDS = 100
CYCLES = 200
# Free pages, counted as tests/stress-test.sh does (caches dropped, slabs shrunk, lazy
# vmalloc areas purged), move by up to ~60 between counts (measured over 200 cycles); a
# page lost in each cycle would be 200.
MARGIN = 100


def main() -> int:
    with open(sys.argv[1], errors="replace") as f:
        lines = [l.rstrip("\r\n") for l in f]
    kv = {}
    bad = []
    for l in lines:
        if not l.startswith("XRS-STRESS: "):
            continue
        body = l[len("XRS-STRESS: "):]
        if body.startswith("bad:"):
            bad.append(body)
            continue
        for k, v in re.findall(r"([\w-]+)=(-?\d+)", body):
            kv[k] = int(v)
        m = re.match(r"load (\w+): (\d+)$", body)
        if m:
            kv["load " + m.group(1)] = int(m.group(2))
        m = re.match(r"free-pages around the rounds: (\d+) then (\d+)$", body)
        if m:
            kv["rounds-before"], kv["rounds-after"] = int(m.group(1)), int(m.group(2))

    checks = []
    bind = [l[len("XRS-BIND: "):] for l in lines if l.startswith("XRS-BIND: ")]

    def check(name, ok, detail=""):
        checks.append((name, bool(ok), detail))

    g = kv.get
    bound = [re.search(r"ops=(\w+) rebinds=(\d+)", l) for l in bind if l.startswith("bound ")]
    check("bind: the driver's probe found the Rust ops at both binds, put back each time",
          [(m.group(1), int(m.group(2))) for m in bound if m] == [("rust", 1), ("rust", 2)],
          bind[:4])
    runs = [l for l in bind if l.startswith("map-bench: threads=")]
    check("bind: the kernel's DMA map benchmark ran at both binds", len(runs) == 2, bind[:6])
    served = next((l for l in bind if l.startswith("served ")), "")
    m = re.search(r"direct=(\d+) bounced_bytes=(\d+) failures=(\d+)", served)
    check("bind: the Rust ops served the benchmark", m and int(m.group(1)) > 0
          and int(m.group(3)) == 0, served)
    check("bind: no step failed", not [l for l in bind if l.startswith("bad:")], bind)
    check(f"{ROUNDS} rounds of load with rmmod tried under it", g("rounds") == ROUNDS, g("rounds"))
    check("rmmod refused while mappings were live", g("rmmod-refused", 0) > 0, g("rmmod-refused"))
    # One unmeasured run before the rounds.
    check("the load ran every round", g("load runs") == ROUNDS + 1, g("load runs"))
    check("mapped in place and bounced, both directions", g("load maps", 0) > 0, g("load maps"))
    check("mapped from hard interrupt context", g("load irq_maps", 0) > 0, g("load irq_maps"))
    check("coherent buffers allocated", g("load allocs", 0) > 0, g("load allocs"))
    check("every byte the device got or gave was right", g("load data_errors") == 0,
          g("load data_errors"))
    check("nothing left held after a load, every unload worked", not bad, bad[:3])
    check(f"{CYCLES} load/unload cycles", g("cycles") == CYCLES, g("cycles"))
    b, a = g("before"), g("after")
    check(f"free pages back within {MARGIN} around the {CYCLES} cycles", b is not None
          and a is not None and b - a <= MARGIN, (b, a))
    splats = [l for l in lines if SPLAT_RE.search(l)]
    check("no kernel report", not splats, splats[:3])

    failed = [c for c in checks if not c[1]]
    for name, ok, detail in checks:
        print(f"  stress-xen {'ok' if ok else 'FAILED'}: {name}" + ("" if ok else f" ({detail})"))
    print(f"stress-xen: {len(checks) - len(failed)} passed, {len(failed)} failed, 0 skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
