#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: the cost of a DMA map+unmap through the Rust xen-swiotlb, the C
# xen_swiotlb_dma_ops and dma-direct, on one device in one boot of Dom0 under Xen.
#
# A kernel without the test kernel's debugging (tests/config/bench.config), QEMU with
# -icount shift=0,sleep=off on one vCPU so that guest time follows instructions
# executed, two boots: in place, and bounced (swiotlb=force for the C paths,
# force_bounce for the Rust ones). Prints a table of median ns per map+unmap and the
# Rust/C ratio. Figures are TCG instruction counts, comparable only with each other.
#
# Then privcmd, in a third boot of the same kernel with Xen's toolstack and a DomU:
# MMAPBATCH_V2 of 1, 64 and 1024 frames of the running DomU (mmap, map, munmap) and a
# trivial HYPERCALL (xen_version), per second, on the Rust privcmd and then, in the same
# boot, on the kernel's C xen-privcmd (tests/xl-test.sh bench); then a grant and its end
# of access through gntalloc, and gntdev map + mmap + munmap + unmap of 1, 16 and 64 of
# Dom0's own grants, per second, on the Rust gntalloc and gntdev and then on C's.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
top=$(dirname "$here")
out="$top/out"
mkdir -p "$out"

bench_build "$top"
src=$BENCH_SRC

for kind in direct bounce; do
	n=1 kextra="kunit.enable=0"
	if [ $kind = bounce ]; then n=2 kextra="kunit.enable=0 swiotlb=force"; fi
	printf '%s\n' "xen_swiotlb_rs pool_kib=4096 pool_below=0x80000000" \
		"xen_swiotlb_test bench=$n" >"$out/bench-args"
	XRS_MODULE_ARGS="$out/bench-args" "$here/initramfs.sh" test "$out/bench.cpio.gz" \
		"$src/xen_core.ko" "$src/xen_swiotlb_rs.ko" "$src/xen_swiotlb_test.ko"
	step "benchmark boot ($kind), Dom0 under Xen, -icount (log: out/bench-$kind.log)"
	XRS_SMP=1 XRS_QEMU_EXTRA="-icount shift=0,sleep=off" XRS_KERNEL_EXTRA="$kextra" \
		"$here/boot.sh" xen "$KDIR/arch/arm64/boot/Image" "$out/bench.cpio.gz" test \
		"$out/bench-$kind.log"
	grep -q "XRS-BENCH: done" "$out/bench-$kind.log" ||
		die "the $kind benchmark did not finish (see out/bench-$kind.log)"
done

cxenfs=$(c_xenfs_build "$KDIR" "$out/bench-c")
echo "xen_privcmd_rs" >"$out/bench-xl-args"
XRS_C_MODULES="$KDIR/drivers/xen/xen-privcmd.ko $KDIR/drivers/xen/xen-gntdev.ko $KDIR/drivers/xen/xen-gntalloc.ko $cxenfs" \
	XRS_DOMU_KERNEL="$KDIR/arch/arm64/boot/Image" XRS_MODULE_ARGS="$out/bench-xl-args" \
	"$here/initramfs.sh" full "$out/bench-xl.cpio.gz" \
	"$src/xen_core.ko" "$src/xen_gntalloc_rs.ko" "$src/xen_gntdev_rs.ko" "$src/xen_privcmd_rs.ko" \
	"$src/xen_xenfs_rs.ko"
step "privcmd benchmark boot, Dom0 under Xen with a DomU, -icount (log: out/bench-privcmd.log)"
XRS_SMP=1 XRS_QEMU_EXTRA="-icount shift=0,sleep=off" XRS_KERNEL_EXTRA="kunit.enable=0" \
	"$here/boot.sh" xen "$KDIR/arch/arm64/boot/Image" "$out/bench-xl.cpio.gz" xlbench \
	"$out/bench-privcmd.log"
grep -q "XRS-BENCH-GRANT: c gntdev-map-64" "$out/bench-privcmd.log" ||
	die "the privcmd benchmark did not finish (see out/bench-privcmd.log)"

python3 - "$out/bench-direct.log" "$out/bench-bounce.log" <<'PY'
import re, sys
rows = {}
for log in sys.argv[1:]:
    for l in open(log, errors="replace"):
        m = re.search(r"XRS-BENCH: (\S+) (\S+) (\S+)$", l.strip())
        if m and m.group(1) != "done":
            rows.setdefault(m.group(1), {})[m.group(2)] = m.group(3)
print(f"{'ns per map+unmap (median of 7 x 2000)':40} {'rust':>8} {'C xen-swiotlb':>14} {'dma-direct':>11} {'rust/C':>7}")
for case, r in rows.items():
    rust, c, d = r.get("rust", "-"), r.get("c-xen-swiotlb", "-"), r.get("dma-direct", "-")
    ratio = f"{int(rust) / int(c):.2f}" if rust.isdigit() and c.isdigit() and int(c) else "-"
    print(f"{case:40} {rust:>8} {c:>14} {d:>11} {ratio:>7}")
PY
python3 - "$out/bench-privcmd.log" <<'PY'
import re, sys
rows = {}
for l in open(sys.argv[1], errors="replace"):
    m = re.search(r"XRS-BENCH-(?:PRIVCMD|GRANT): (rust|c) (\S+) (\d+)$", l.strip())
    if m:
        rows.setdefault(m.group(2), {})[m.group(1)] = int(m.group(3))
print()
print(f"{'privcmd, grants: operations per second (2 s)':40} {'rust':>8} {'C driver':>14} {'rust/C':>7}")
for case, r in rows.items():
    rust, c = r.get("rust"), r.get("c")
    ratio = f"{rust / c:.2f}" if rust and c else "-"
    print(f"{case:40} {rust or '-':>8} {c or '-':>14} {ratio:>7}")
PY
