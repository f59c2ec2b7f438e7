#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Reads a QEMU console log of a test boot and judges it.

Parses the KTAP that the stack's KUnit suites print when their modules load (only
after the init script's first "XRS: insmod" line, so the kernel's built-in suites do not
count), checks that every expected suite ran its whole plan, and fails on any kernel
splat anywhere in the log (KASAN, lockdep, DMA-API debug, WARN, BUG, Oops, panic).

usage: ktap.py NAME LOG SUITE...
Prints one line per suite, then "NAME: N passed, N failed, N skipped".
Exit status: 0 when everything passed, 1 otherwise.
"""

import re
import sys

SPLATS = [
    r"BUG: ", r"WARNING: CPU: ", r"WARNING: possible", r"INFO: possible",
    r"------------\[ cut here \]------------", r"KASAN: ", r"UBSAN: ", r"DMA-API: (?!preallocated \d+ debug entries|debugging enabled by kernel config)",
    r"Kernel panic", r"Internal error: Oops", r"Unable to handle kernel",
    r"kernel BUG at", r"DEBUG_LOCKS_WARN_ON", r"possible circular locking",
    r"inconsistent lock state", r"Call trace:", r"refcount_t: ",
    r"\(XEN\) .*(Assertion '|Xen BUG at|\*\*\*\* PANIC|FATAL TRAP)",
]
SPLAT_RE = re.compile("|".join(SPLATS))
PREFIX_RE = re.compile(r"^(\[\s*\d+\.\d+\]\s?)?(\(d0\)\s?)?")


def parse_suites(lines):
    """The KTAP suites in LINES (prefixes stripped): name -> plan, pass, fail, skip and
    the names of the failed cases."""
    suites = {}
    current = None
    for line in lines:
        m = re.match(r"^    # Subtest: (\S+)", line)
        if m:
            current = m.group(1)
            suites[current] = {"plan": None, "pass": 0, "fail": 0, "skip": 0, "failed": []}
            continue
        if current is None:
            continue
        s = suites[current]
        m = re.match(r"^    1\.\.(\d+)", line)
        if m:
            s["plan"] = int(m.group(1))
            continue
        m = re.match(r"^    (ok|not ok) \d+ (\S+)(.*)$", line)
        if m:
            if "# SKIP" in m.group(3):
                s["skip"] += 1
            elif m.group(1) == "ok":
                s["pass"] += 1
            else:
                s["fail"] += 1
                s["failed"].append(m.group(2))
            continue
        if re.match(r"^(ok|not ok) \d+ ", line):
            current = None
    return suites


def main() -> int:
    name, log, expected = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(log, errors="replace") as f:
        lines = [PREFIX_RE.sub("", line.rstrip("\r\n")) for line in f]

    problems = []
    for i, line in enumerate(lines):
        if SPLAT_RE.search(line):
            problems.append(f"kernel report at line {i + 1}: {line.strip()}")

    try:
        start = next(i for i, l in enumerate(lines) if l.startswith("XRS: insmod"))
    except StopIteration:
        problems.append("the init script never loaded a module (boot failed?)")
        start = len(lines)
    if not any(l.startswith("XRS: done") for l in lines):
        problems.append("the init script did not finish (crash or time-out?)")
    for l in lines:
        if re.match(r"XRS: insmod \S+ failed", l):
            problems.append(l)

    suites = parse_suites(lines[start:])

    total = {"pass": 0, "fail": 0, "skip": 0}
    for suite in expected:
        if suite not in suites:
            problems.append(f"suite {suite} did not run")
            continue
    for suite, s in suites.items():
        ran = s["pass"] + s["fail"] + s["skip"]
        print(f"  {name} {suite}: {s['pass']} passed, {s['fail']} failed, {s['skip']} skipped"
              + (f" (failed: {', '.join(s['failed'])})" if s["failed"] else ""))
        if s["plan"] is None or ran != s["plan"]:
            problems.append(f"suite {suite} planned {s['plan']} cases but reported {ran}")
        for k in total:
            total[k] += s[k]
    for p in problems:
        print(f"  {name}: {p}")
    # A run-level problem (a splat, a missing suite, a crash) counts as a failure.
    failed = total["fail"] + len(problems)
    print(f"{name}: {total['pass']} passed, {failed} failed, {total['skip']} skipped")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
