#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make mutants: proves that the tests catch the bugs they were written for.

Each tests/mutants/*.py puts one old bug back into a copy of the tree (a source text
replaced: OLD must be found exactly once), builds the modules against the test kernel,
boots them (bare, under Xen, or the unload-under-load test under Xen) and checks that
every expectation of EXPECT is met: a KUnit case of that name failed ("not ok"), or a
log line matched that pattern. Prints one line per mutant: killed, or which
expectations it survived. Exit status 1 if any survived. About a minute a mutant.

usage: tests/mutants.py [NAME...]   (default: every mutant)
"""

import glob
import importlib.util
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
OUT = os.path.join(TOP, "out", "mutants")


def load(path):
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def main() -> int:
    names = sys.argv[1:]
    kdir = subprocess.run([f"{HERE}/modules.sh"], check=True, capture_output=True,
                          text=True).stdout.strip().splitlines()[-1]
    image = f"{kdir}/arch/arm64/boot/Image"
    os.makedirs(OUT, exist_ok=True)
    survived = 0
    for path in sorted(glob.glob(f"{HERE}/mutants/*.py")):
        name = os.path.basename(path)[:-3]
        if names and name not in names:
            continue
        m = load(path)
        tree = os.path.join(OUT, "tree")
        shutil.rmtree(tree, ignore_errors=True)
        run(["rsync", "-a", "--exclude=/out", "--exclude=/target", "--exclude=*.o",
             "--exclude=*.ko", "--exclude=.*.cmd", f"{TOP}/", f"{tree}/"])
        f = os.path.join(tree, m.FILE)
        with open(f) as fh:
            src = fh.read()
        if src.count(m.OLD) != 1:
            print(f"{name}: the text to replace is not in {m.FILE} once: update the mutant")
            survived += 1
            continue
        with open(f, "w") as fh:
            fh.write(src.replace(m.OLD, m.NEW))
        build = subprocess.run(["make", "-s", "ARCH=arm64", "LLVM=-19", "-C", kdir, f"M={tree}",
                                f"-j{os.cpu_count()}", "modules"], capture_output=True, text=True)
        if build.returncode:
            print(f"{name}: does not build\n{build.stderr[-2000:]}")
            survived += 1
            continue
        mods = sorted(glob.glob(f"{tree}/*.ko"))
        cpio = f"{OUT}/{name}.cpio.gz"
        run([f"{HERE}/initramfs.sh", "test", cpio] + mods)
        log = f"{OUT}/{name}.log"
        how, mode, env = m.BOOT, "test", dict(os.environ)
        if how == "stress":
            how, mode = "xen", "stress"
            env["XRS_KERNEL_EXTRA"] = "xrs.stress_rounds=20 xrs.stress_cycles=0"
        run([f"{HERE}/boot.sh", how, image, cpio, mode, log], env=env)
        with open(log, errors="replace") as fh:
            lines = fh.read().splitlines()
        missed = []
        for e in m.EXPECT:
            case = re.compile(rf"^\s*not ok \d+ {re.escape(e)}$")
            pat = re.compile(e)
            if not any(case.match(l) or pat.search(l) for l in lines):
                missed.append(e)
        if missed:
            survived += 1
            print(f"{name}: SURVIVED {missed} (log: out/mutants/{name}.log)")
        else:
            print(f"{name}: killed by {', '.join(m.EXPECT)}")
        shutil.rmtree(tree, ignore_errors=True)
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
