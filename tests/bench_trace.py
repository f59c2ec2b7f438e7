# SPDX-License-Identifier: GPL-2.0
#
# gdb script of tests/bench-trace.sh: single-steps one map+unmap pair of a benchmark row
# for each implementation and prints instructions per function ("TRACE " lines), then
# every pair's call sequence. Kernel symbols come from System.map, the module's from its
# .ko, placed by the return address of the benchmark loop's call to dma_map_phys.
import bisect
import collections
import os
import re
import subprocess
import time

import gdb

KDIR = os.environ["XRS_KDIR"]
KO = os.environ["XRS_KO"]
ROW = os.environ["XRS_TRACE_ROW"]
PORT = os.environ["XRS_GDB_PORT"]
IMPLS = ["rust", "c-xen-swiotlb", "dma-direct"]
# bench.rs: for each case (4k, 64k, sg16x4k, 4k-from-device), xrs_set_dma_ops for rust,
# C, dma-direct; then the same twelve with a p2m entry set.
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
DIS = subprocess.run(["llvm-objdump-19", "-dr", KO], capture_output=True, text=True).stdout
MSYMS = sorted(
    (int(p[0], 16), p[2])
    for p in (line.split(maxsplit=2) for line in subprocess.run(
        ["llvm-nm-19", "-n", "-C", KO], capture_output=True, text=True).stdout.splitlines())
    if len(p) == 3 and p[1] in "tT"
)
MADDRS = [a for a, _ in MSYMS]


def ksym(name):
    return next(a for a, n in KSYMS if n == name)


def msym(name):
    return next(a for a, n in MSYMS if n == name)


def call_site(func, target):
    body = DIS.split("<%s>:" % func)[1].split("\n\n")[0]
    m = re.search(r"([0-9a-f]+):\s+R_AARCH64_CALL26\s+%s\b" % re.escape(target), body)
    return int(m.group(1), 16)


def reg(name):
    return int(gdb.parse_and_eval("$" + name)) & 0xFFFFFFFFFFFFFFFF


mbase = None


def name(pc):
    if KADDRS[0] <= pc <= KEND + 0x1000:
        return KSYMS[bisect.bisect_right(KADDRS, pc) - 1][1]
    if mbase is not None and pc >= mbase:
        i = bisect.bisect_right(MADDRS, pc - mbase) - 1
        if i >= 0:
            return "[mod] " + MSYMS[i][1].replace("swiotlb_main::", "")
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
# The return address is in the module's benchmark loop, just after its call.
mbase = reg("x30") - (call_site("xrs_bench_single", "dma_map_phys") + 4)
set_ops = mbase + msym("xrs_set_dma_ops")
passed = 1  # xrs_set_dma_ops calls made so far
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
