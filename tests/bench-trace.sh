#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-trace [ROW=4k]: where the instructions of one map+unmap pair go, function by
# function, for the Rust ops, the C xen_swiotlb_dma_ops and dma-direct. The benchmark
# boot of make bench (Dom0 under Xen, -icount), with QEMU's gdb stub: for each
# implementation, one warm-up pair of the row runs, then the next pair is single-stepped
# (a pair that a timer tick or a reschedule got into is retried). A development aid, not
# a test: about a minute per implementation. Full per-call sequences: out/bench-trace.txt.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
top=$(dirname "$here")
out="$top/out"
mkdir -p "$out"

row=${ROW:-4k}
case "$row" in
4k | 64k | 4k-from-device | 4k-p2m-busy | 64k-p2m-busy | 4k-from-device-p2m-busy) ;;
*) die "ROW=$row: one of 4k 64k 4k-from-device, or those with -p2m-busy (scatterlists do not go through dma_map_phys)" ;;
esac
if ! command -v gdb-multiarch >/dev/null; then
	step "installing gdb-multiarch"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q gdb-multiarch >&2
fi

bench_build "$top"
printf '%s\n' "xen_swiotlb_rs pool_kib=4096 pool_below=0x80000000" \
	"xen_swiotlb_test bench=1" >"$out/bench-args"
kos=(xen_core xen_swiotlb_rs xen_swiotlb_test)
ko_paths=()
for k in "${kos[@]}"; do ko_paths+=("$BENCH_SRC/$k.ko"); done
XRS_MODULE_ARGS="$out/bench-args" "$here/initramfs.sh" test "$out/bench.cpio.gz" "${ko_paths[@]}"

port=$((20000 + RANDOM % 20000))
step "benchmark boot with the gdb stub on port $port (log: out/bench-trace-boot.log)"
XRS_SMP=1 XRS_QEMU_EXTRA="-icount shift=0,sleep=off -gdb tcp:127.0.0.1:$port" \
	XRS_KERNEL_EXTRA="kunit.enable=0" XRS_BOOT_TIMEOUT=1800 \
	"$here/boot.sh" xen "$KDIR/arch/arm64/boot/Image" "$out/bench.cpio.gz" test \
	"$out/bench-trace-boot.log" &
boot=$!
stop_qemu() { pkill -f "tcp:127.0.0.1:$port" 2>/dev/null || true; }
trap stop_qemu EXIT

step "tracing row $row (a few minutes; sequences: out/bench-trace.txt)"
rc=0
XRS_TRACE_ROW=$row XRS_GDB_PORT=$port XRS_KDIR=$KDIR XRS_KO_DIR="$BENCH_SRC" \
	XRS_KOS="${kos[*]}" XRS_BOOT_LOG="$out/bench-trace-boot.log" \
	gdb-multiarch -batch -nx -x "$here/bench_trace.py" "$KDIR/vmlinux" \
	>"$out/bench-trace.txt" 2>&1 || rc=$?
stop_qemu
wait "$boot" || true
grep '^TRACE' "$out/bench-trace.txt" | sed 's/^TRACE //' ||
	die "no trace (gdb exit $rc; see out/bench-trace.txt, out/bench-trace-boot.log)"
