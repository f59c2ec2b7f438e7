# SPDX-License-Identifier: GPL-2.0
#
# gdb script of tests/bench-trace.sh: single-steps one map+unmap pair of a benchmark row
# for each implementation and prints instructions per function ("TRACE " lines), then
# every pair's call sequence. Kernel symbols come from System.map, the modules' from
# their .ko files: the core's and the driver's placed where the boot log says their
# .text landed (tests/init.sh prints it after each insmod), the test module's, whose
# init runs the benchmark, by the return address of its loop's call to dma_map_phys.
import bisect
import collections
import os
import re
import subprocess
import time

import gdb

KDIR = os.environ["XRS_KDIR"]
KO_DIR = os.environ["XRS_KO_DIR"]
KOS = os.environ["XRS_KOS"].split()
BOOT_LOG = os.environ["XRS_BOOT_LOG"]
TEST_KO = "xen_swiotlb_test"
ROW = os.environ["XRS_TRACE_ROW"]
PORT = os.environ["XRS_GDB_PORT"]
IMPLS = ["rust", "c-xen-swiotlb", "dma-direct"]
# bench.rs: for each case (4k, 64k, sg16x4k, 4k-from-device), the ops set (the driver's
# attach::set_dma_ops) for rust, C, dma-direct; then the same twelve with a p2m entry
# set.
CASES = {"4k": 0, "64k": 1, "4k-from-device": 3}
CASES.update({k + "-p2m-busy": v + 4 for k, v in list(CASES.items())})


def load_kernel_syms():
    syms = []
    with open(KDIR + "/System.map") as f:
        for line in f:
            a, t, n = line.split()[:3]
            if t in "tTwW":
                syms.append((int(a, 16), n))
    syms.sort()
    return syms


KSYMS = load_kernel_syms()
KADDRS = [a for a, _ in KSYMS]
KEND = KSYMS[-1][0]


class Module:
    """The .text symbols of one module (offsets; `base` once known)."""

    def __init__(self, name):
        self.name = name
        self.ko = "%s/%s.ko" % (KO_DIR, name)
        nm = subprocess.run(["llvm-nm-19", "-n", "-C", self.ko], capture_output=True,
                            text=True).stdout
        self.syms = sorted(
            (int(p[0], 16), p[2])
            for p in (line.split(maxsplit=2) for line in nm.splitlines())
            if len(p) == 3 and p[1] in "tT"
        )
        self.addrs = [a for a, _ in self.syms]
        hdr = subprocess.run(["llvm-objdump-19", "-h", self.ko], capture_output=True,
                             text=True).stdout
        self.size = next(int(p[2], 16) for p in (line.split() for line in hdr.splitlines())
                         if len(p) > 2 and p[1] == ".text")
        self.base = None

    def sym(self, name):
        return next(a for a, n in self.syms if n == name)

    def name_of(self, pc):
        if self.base is None or not self.base <= pc < self.base + self.size:
            return None
        i = bisect.bisect_right(self.addrs, pc - self.base) - 1
        return "[%s] %s" % (self.name, self.syms[i][1]) if i >= 0 else None

    def call_site(self, func, target):
        dis = subprocess.run(["llvm-objdump-19", "-dr", self.ko], capture_output=True,
                             text=True).stdout
        body = dis.split("<%s>:" % func)[1].split("\n\n")[0]
        m = re.search(r"([0-9a-f]+):\s+R_AARCH64_CALL26\s+%s\b" % re.escape(target), body)
        return int(m.group(1), 16)


MODS = {k: Module(k) for k in KOS}


def place_from_log():
    """The .text of each module but the test module's, as the boot log has it."""
    with open(BOOT_LOG, errors="replace") as f:
        for m in re.finditer(r"XRS: module (\w+) \.text (0x[0-9a-f]+)", f.read()):
            if m.group(1) in MODS and m.group(1) != TEST_KO:
                MODS[m.group(1)].base = int(m.group(2), 16)
    missing = [k for k in KOS if k != TEST_KO and MODS[k].base is None]
    if missing:
        raise gdb.GdbError("no .text address in %s for %s" % (BOOT_LOG, missing))


def ksym(name):
    return next(a for a, n in KSYMS if n == name)


def reg(name):
    return int(gdb.parse_and_eval("$" + name)) & 0xFFFFFFFFFFFFFFFF


def name(pc):
    if KADDRS[0] <= pc <= KEND + 0x1000:
        return KSYMS[bisect.bisect_right(KADDRS, pc) - 1][1]
    for m in MODS.values():
        n = m.name_of(pc)
        if n:
            return n
    return hex(pc)


def stop_at(addr, ignore=0):
    gdb.execute("delete")
    gdb.execute("break *0x%x" % addr, to_string=True)
    if ignore:
        gdb.execute("ignore $bpnum %d" % ignore, to_string=True)
    gdb.execute("continue", to_string=True)
    gdb.execute("delete")


def step_pair(map_phys):
    """Steps from one pair's first instruction to the next pair's. A reschedule that a
    preemption point takes (the benchmark runs in a task that RCU wants to see
    schedule) is run at full speed and left out of the count."""
    seq, n, skipped = [], 0, 0
    while True:
        pc = reg("pc")
        insn = int(gdb.parse_and_eval("*(unsigned int *)0x%x" % pc)) & 0xFFFFFFFF
        if insn & 0xBFBFFC00 == 0x889FFC00:
            # LDAR/STLR: QEMU's single step resumes elsewhere after one; run to the
            # next instruction instead.
            gdb.execute("tbreak *0x%x" % (pc + 4), to_string=True)
            gdb.execute("continue", to_string=True)
        else:
            gdb.execute("stepi", to_string=True)
        pc = reg("pc")
        if pc == map_phys:
            return n, seq, skipped
        if pc in RESCHED:
            gdb.execute("tbreak *0x%x" % reg("x30"), to_string=True)
            gdb.execute("continue", to_string=True)
            skipped += 1
            continue
        n += 1
        nm = name(pc)
        if seq and seq[-1][0] == nm:
            seq[-1][1] += 1
        else:
            seq.append([nm, 1])
        if n > 200000:
            raise gdb.GdbError("no end of the pair after 200000 steps")


for attempt in range(60):
    try:
        gdb.execute("target remote 127.0.0.1:" + PORT, to_string=True)
        break
    except gdb.error:
        time.sleep(1)
else:
    raise gdb.GdbError("cannot reach QEMU's gdb stub")
gdb.execute("set pagination off")

map_phys = ksym("dma_map_phys")
RESCHED = {ksym(n) for n in ("preempt_schedule", "preempt_schedule_notrace")}
stop_at(map_phys)  # the first pair of the first row: Rust, 4 KiB
# The return address is in the test module's benchmark loop, just after its call.
test_ko = MODS[TEST_KO]
test_ko.base = reg("x30") - (test_ko.call_site("xrs_bench_single", "dma_map_phys") + 4)
place_from_log()
driver = MODS["xen_swiotlb_rs"]
set_ops = driver.base + driver.sym("xen_swiotlb::attach::set_dma_ops")
passed = 1  # set_dma_ops calls made so far
results = {}
for j, impl in enumerate(IMPLS):
    index = CASES[ROW] * 3 + j
    if index >= passed:
        stop_at(set_ops, index - passed)
        passed = index + 1
        stop_at(map_phys)
    # Now at a pair's first instruction: that pair warms up, the next ones are traced.
    stop_at(map_phys)
    n, seq, skipped = step_pair(map_phys)
    results[impl] = (n, seq)
    print("=== %s %s: %d instructions (%d reschedules left out)" % (ROW, impl, n, skipped))
    for nm, c in seq:
        print("   %6d %s" % (c, nm))

print("TRACE instructions per map+unmap pair, row %s (including the benchmark loop's own)" % ROW)
for impl in IMPLS:
    n, seq = results[impl]
    per = collections.Counter()
    for nm, c in seq:
        per[nm] += c
    print("TRACE %-14s %6d" % (impl, n))
    for nm, c in per.most_common():
        print("TRACE     %6d  %s" % (c, nm))
gdb.execute("kill")
