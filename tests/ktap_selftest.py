#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks that ktap.py's verdict can fail: synthetic console logs, each with one defect,
must be judged as failed, and a clean one as passed. Prints "ktap-selftest: N passed,
N failed, 0 skipped"."""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

CLEAN = """Booting Linux
    KTAP version 1
    # Subtest: builtin_suite
    1..1
    not ok 1 builtin_case_that_fails_before_our_modules
not ok 1 builtin_suite
XRS: up: Linux
XRS: insmod a.ko
KTAP version 1
1..1
    KTAP version 1
    # Subtest: suite_a
    # speed: normal
    1..3
    ok 1 one
    ok 2 two
    ok 3 three # SKIP needs Xen
# suite_a: pass:2 fail:0 skip:1 total:3
ok 1 suite_a
XRS: done
"""

CASES = {
    "clean": (CLEAN, True),
    "failed case": (CLEAN.replace("    ok 2 two", "    not ok 2 two"), False),
    "KASAN report": (CLEAN.replace("XRS: done", "BUG: KASAN: slab-out-of-bounds in x\nXRS: done"), False),
    "WARN": (CLEAN.replace("XRS: done", "WARNING: CPU: 0 PID: 1 at x.c:1 f+0x0\nXRS: done"), False),
    "lockdep": (CLEAN.replace("XRS: done", "WARNING: possible circular locking dependency detected\nXRS: done"), False),
    "DMA-API": (CLEAN.replace("XRS: done", "DMA-API: dev: device driver frees DMA memory with wrong function\nXRS: done"), False),
    "Xen panic": (CLEAN + "(XEN) **** PANIC ON CPU 0 ****\n", False),
    "short plan": (CLEAN.replace("    ok 3 three # SKIP needs Xen\n", ""), False),
    "missing suite": (CLEAN.replace("suite_a", "suite_b"), False),
    "no finish": (CLEAN.replace("XRS: done\n", ""), False),
    "insmod failed": (CLEAN.replace("XRS: done", "XRS: insmod a.ko failed\nXRS: done"), False),
}


def main() -> int:
    passed = failed = 0
    for name, (log, ok) in CASES.items():
        with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
            f.write(log)
        r = subprocess.run([sys.executable, os.path.join(HERE, "ktap.py"), "t", f.name, "suite_a"],
                           capture_output=True, text=True)
        os.unlink(f.name)
        if (r.returncode == 0) == ok:
            passed += 1
        else:
            failed += 1
            print(f"  ktap-selftest: '{name}' judged {'pass' if r.returncode == 0 else 'fail'}:\n{r.stdout}")
    print(f"ktap-selftest: {passed} passed, {failed} failed, 0 skipped")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
