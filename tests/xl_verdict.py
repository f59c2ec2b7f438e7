#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Judges the xl boot (tests/xl-test.sh in Dom0 under Xen, the toolstack on the Rust
privcmd, hypercall device and xenfs, then the parity phase).

usage: xl_verdict.py LOG PARITY_DOC...
Checks, each counted as one test:
- every step tests/xl-test.sh and tests/dom0-up.sh report is "ok" (none is "bad"), and
  the expected ones are all there: the daemons, xl info, xl list, three rounds of
  create / console / list / destroy / gone, the parity DomU;
- the C privcmd and gntdev were not loaded during the rounds (their module lists), the
  Rust privcmd, xenfs and gntdev were, and xenstored and xenconsoled mapped their DomU
  rings through /dev/xen/gntdev in every round;
- no page leaked: the pages Dom0 has ballooned out for foreign mappings (the balloon's
  reusable pool, the peak use) are within a page of each other after the three rounds,
  Xen's
  free memory is the same before and after the rounds, and the ballooned pages are the
  same before and after xen-check on the Rust driver (its mappings torn down by
  munmap, partial munmap refused, fork and exit);
- each row of the parity tables in the PARITY_DOCs: the Rust driver answered what its "Rust"
  column says, the C driver what its "C" column says ("not run" rows: the C driver was
  not given the input), and no case ran that the table does not list;
- in every round, Xen's vchan-socket-proxy carried 1 MiB each way between the DomU (the
  server: its pages shared through the Rust gntalloc loaded there, not the C one) and
  Dom0 (the client: those pages mapped through the Rust gntdev): both ends report the
  other's pattern intact, and the CRC-32 one end sent is the one the other received,
  in both directions;
- Dom0 shared pages with itself through gntalloc and gntdev (tests/tools/xen-check
  share: patterns both ways, GET_OFFSET_FOR_VADDR, GRANT_COPY both directions, each
  driver's unmap notification, teardown in both orders, every page given back), every
  step ok on the Rust drivers and the same steps ok on the C ones;
- Xen's test-resource gave the same result on both drivers;
- the log has no kernel report but the C xen-gntdev's lockdep report, recognised by its
  two lock classes (&priv->lock taken in gntdev_mmap under &mm->mmap_lock), and only
  after the parity phase loaded the C gntdev.
Prints "xl-xen: N passed, N failed, 0 skipped".
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ktap import PREFIX_RE, SPLAT_RE  # noqa: E402

ROUND_STEPS = ["xl create", "the DomU's console says", "vchan to the DomU", "vchan in the DomU",
               "xl list shows the DomU", "xl destroy", "the DomU is gone"]
ALLOWED_LOCKS = {"&priv->lock", "&mm->mmap_lock"}


def parity_table(doc):
    """{case: (c, rust)} from the rows "| `case` | input | `C` | `Rust` |"."""
    rows = {}
    with open(doc) as f:
        for l in f:
            cells = [c.strip() for c in l.strip().strip("|").split("|")]
            m = re.fullmatch(r"`([a-z0-9-]+)`", cells[0]) if len(cells) >= 4 else None
            if m:
                unq = [c.strip("`") for c in cells[2:4]]
                rows[m.group(1)] = (unq[0], unq[1])
    return rows


def allowed_reports(lines):
    """Line ranges of the C gntdev's lockdep report (start to the end of its trace)."""
    spans = []
    for i, l in enumerate(lines):
        if "WARNING: possible circular locking dependency detected" not in l:
            continue
        j = next((k for k in range(i, len(lines)) if "Call trace:" in lines[k]), None)
        if j is None:
            continue
        text = "\n".join(lines[i:j])
        locks = set(re.findall(r"\((&[\w>.-]+)\)\{", text))
        if locks == ALLOWED_LOCKS and "gntdev_mmap" in text and "[xen_gntdev]" in text:
            end = j + 1
            while end < len(lines) and lines[end].startswith(" "):
                end += 1
            spans.append((i, end))
    return spans


def main() -> int:
    log, docs = sys.argv[1], sys.argv[2:]
    with open(log, errors="replace") as f:
        lines = [PREFIX_RE.sub("", l.rstrip("\r\n")) for l in f]

    checks = []

    def check(name, ok, detail=""):
        checks.append((name, bool(ok), detail))

    oks = [l.split("ok: ", 1)[1] for l in lines if re.match(r"XRS-(XL|DOM0): ok: ", l)]
    bads = [l for l in lines if re.match(r"XRS-(XL|DOM0): bad: ", l)]
    check("no step reported bad", not bads, bads[:5])
    expected = ["daemons up", "xl info", "xl list"]
    for r in (1, 2, 3):
        expected += [f"round {r}: {s}" for s in ROUND_STEPS]
    expected += ["parity: xl create", "parity: the DomU's console says"]
    for e in expected:
        check(f"xl step ok: {e}", any(o.startswith(e) for o in oks))
    check("the test finished", any(l == "XRS-XL: done" for l in lines))

    mods = [l for l in lines if re.match(r"XRS-XL: round \d: modules ", l)]
    check("the rounds ran on the Rust privcmd, xenfs and gntdev, the C ones not loaded",
          len(mods) == 3 and all(re.search(r"\bxen_privcmd_rs\b", l)
                                 and re.search(r"\bxen_xenfs_rs\b", l)
                                 and re.search(r"\bxen_gntdev_rs\b", l)
                                 and not re.search(r"\bxen_privcmd\b", l)
                                 and not re.search(r"\bxen_gntdev\b", l) for l in mods), mods)
    ranges = re.findall(r"XRS-XL: round (\d): (xenstored|xenconsoled) maps (\d+) range", "\n".join(lines))
    check("xenstored and xenconsoled mapped the DomU's rings through the Rust gntdev, every round",
          len(ranges) == 6 and all(int(n) >= 1 for _, _, n in ranges), ranges)

    for r in (1, 2, 3):
        text = "\n".join(lines)
        d0 = re.search(rf"XRS-XL: ok: round {r}: vchan to the DomU: sent (\d+) bytes crc32 (\w+); "
                       rf"received (\d+) bytes crc32 (\w+) pattern ok", text)
        du = re.search(rf"XRS-XL: ok: round {r}: vchan in the DomU: received (\d+) bytes crc32 (\w+) "
                       rf"pattern ok; sent (\d+) bytes crc32 (\w+); the vchan closed", text)
        check(f"round {r}: vchan: Dom0 -> DomU {d0 and d0.group(1)} bytes and DomU -> Dom0 "
              f"{du and du.group(3)} bytes, the CRC-32 sent is the CRC-32 received both ways",
              d0 and du and d0.group(1) == du.group(1) == d0.group(3) == du.group(3)
              and int(d0.group(1)) >= 1 << 20
              and d0.group(2) == du.group(2) and du.group(4) == d0.group(4),
              (d0 and d0.groups(), du and du.groups()))
        m = re.search(rf"XRS-XL: round {r}: the DomU's modules: (.*)", text)
        check(f"round {r}: the DomU shared its vchan pages through the Rust gntalloc",
              m and re.search(r"\bxen_gntalloc_rs\b", m.group(1))
              and not re.search(r"\bxen_gntalloc\b", m.group(1)), m and m.group(1))

    mem = {}
    for l in lines:
        m = re.match(r"XRS-XL: memory (.+): ballooned_kb=(\d+) dom0_free_kb=(\d+) "
                     r"xen_free_mb=(\d+)", l)
        if m:
            mem[m.group(1)] = tuple(int(x) for x in m.groups()[1:])
    after = [mem.get(f"after round {r}") for r in (1, 2, 3)]
    # The balloon keeps the pages drivers gave back for the next user: its size is the
    # peak of pages in use at once, which can move by a page from round to round (when
    # xenconsoled lets go of the last DomU's ring against when xenstored, xenconsoled
    # and the vchan client map the new one's). A page leaked per round would grow it by
    # two pages over the three rounds.
    kb = [a[0] for a in after] if all(after) else []
    check("no page leaked by the rounds: ballooned pages after the three rounds within "
          "a page of each other",
          kb and max(kb) - min(kb) <= 4, after)
    check("no page leaked by the rounds: Xen's free memory as before",
          all(after) and mem.get("before") and mem["before"][2] == after[2][2],
          (mem.get("before"), after[2]))
    pb, pa = mem.get("before xen-check (rust)"), mem.get("after xen-check (rust)")
    check("no page leaked by xen-check: ballooned pages as before",
          pb and pa and pb[0] == pa[0], (pb, pa))

    table = {}
    for doc in docs:
        table.update(parity_table(doc))
    got = {"rust": {}, "c": {}}
    for l in lines:
        m = re.match(r"XRS-PARITY-(RUST|C): case (\S+) = (.*)$", l)
        if m:
            got[m.group(1).lower()][m.group(2)] = m.group(3)
    check(f"the parity table lists at least 20 cases run on both drivers",
          sum(1 for c, _ in table.values() if not c.startswith("not run")) >= 20, len(table))
    for case, (c, rust) in table.items():
        r_got, c_got = got["rust"].get(case), got["c"].get(case)
        ok = r_got == rust and (c_got is None if c.startswith("not run") else c_got == c)
        check(f"parity {case}: C {c}, Rust {rust}", ok, f"C got {c_got}, Rust got {r_got}")
    extra = sorted((set(got["rust"]) | set(got["c"])) - set(table))
    check("every case run is in the parity table", not extra, extra)

    share = {"rust": [], "c": []}
    for l in lines:
        m = re.match(r"XRS-SHARE-(RUST|C): (ok|bad|done)(?:: (.*))?$", l)
        if m:
            share[m.group(1).lower()].append((m.group(2), m.group(3)))
    for who in ("rust", "c"):
        steps = share[who]
        check(f"Dom0 shares pages with itself through gntalloc and gntdev ({who}): "
              f"{sum(1 for k, _ in steps if k == 'ok')} steps ok",
              len(steps) >= 20 and steps[-1][0] == "done"
              and all(k != "bad" for k, _ in steps),
              [s for s in steps if s[0] == "bad"] or steps[-1:])
    check("the sharing steps are the same on the Rust and the C drivers",
          share["rust"] == share["c"], (len(share["rust"]), len(share["c"])))

    tr = {}
    for l in lines:
        m = re.match(r"XRS-XL: test-resource \((rust|c)\): (.*)$", l)
        if m:
            tr[m.group(1)] = re.sub(r"Created d\d+", "Created dN", m.group(2))
    check("test-resource: the same result on the Rust and the C drivers",
          "rust" in tr and tr.get("rust") == tr.get("c"), tr)

    c_loaded = next((i for i, l in enumerate(lines) if l.startswith("XRS-XL: C drivers:")), len(lines))
    spans = [(a, b) for a, b in allowed_reports(lines) if a > c_loaded]
    splats = [f"line {i + 1}: {l.strip()}" for i, l in enumerate(lines)
              if SPLAT_RE.search(l) and not any(a <= i < b for a, b in spans)]
    check("no kernel report but the C gntdev's lockdep report", not splats, splats[:3])

    failed = [c for c in checks if not c[1]]
    for name, ok, detail in checks:
        print(f"  xl-xen {'ok' if ok else 'FAILED'}: {name}" + ("" if ok else f" ({detail})"))
    if spans:
        print(f"  xl-xen note: the C xen-gntdev's lockdep report was allowed ({len(spans)}x)")
    print(f"xl-xen: {len(checks) - len(failed)} passed, {len(failed)} failed, 0 skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
