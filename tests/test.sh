#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Every test: host tests of the pure crates (cargo test, property tests included), a
# self-test of the KTAP verdict, the KUnit suites of the modules in the test kernel booted
# bare in QEMU and booted as Dom0 under Xen 4.20 in QEMU, a virtio-blk disk driven
# through the Rust xen-swiotlb in that Dom0 (64 MiB written and read back, in place and
# with forced bouncing), and xen_swiotlb_rs unloaded under DMA load in that Dom0 (100
# rounds, then 200 load/unload cycles), and Xen 4.20's xl on the Rust privcmd,
# hypercall device and xenfs in that Dom0, with the bad-input parity against the C
# drivers (tests/xl-test.sh); then make rpi4's boot files for the Raspberry Pi 4, decoded
# back, and its SD-only card booted on QEMU's raspi4b through U-Boot to a Dom0 under Xen
# with the Rust stack (tests/rpi4.sh, tests/rpi4-boot.sh); last, make patches: the
# upstream series generated, applied, checked and built at every patch, =y and =m, and
# its =y kernel booted as Dom0, on virt and on raspi4b (tests/patches.sh). Ends with one
# line "N passed, N failed, N skipped".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
top=$(dirname "$here")
out="$top/out"
mkdir -p "$out"
t0=$(date +%s)

KDIR=$("$here/modules.sh")
mapfile -t mods < <(find "$top" -path "$top/out" -prune -o -name '*.ko' -print | sort)
[ ${#mods[@]} -gt 0 ] || die "no module was built"
# The suites the sources declare: each one must report.
mapfile -t suites < <(grep -rhoE '#\[kunit_tests\([a-z0-9_]+\)\]' --include='*.rs' "$top" \
	--exclude-dir=out --exclude-dir=target | sed -E 's/.*\(([a-z0-9_]+)\).*/\1/' | sort -u)

pass=0 fail=0 skip=0
tally() { # "NAME: N passed, N failed, N skipped" -> totals
	local l
	l=$(tail -1 "$1" 2>/dev/null || true)
	if ! [[ $l =~ ^[a-z0-9-]+:\ [0-9]+\ passed,\ [0-9]+\ failed,\ [0-9]+\ skipped$ ]]; then
		# A verdict that crashed or never ran is a failure, not a silent zero.
		echo "no verdict in $1 (the check crashed or did not run)"
		l="$(basename "$1" .summary): 0 passed, 1 failed, 0 skipped"
	fi
	echo "$l"
	read -r p f s < <(echo "$l" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped/\1 \2 \3/')
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}

step "host tests: cargo test (pure crates, property tests)"
set +e
(cd "$top" && cargo test --workspace --locked 2>&1) >"$out/host.log"
host_rc=$?
# The test tool's own pure parts (its patterns and checksums).
(cd "$top/tests/tools/xen-check" && cargo test --locked 2>&1) >>"$out/host.log" || host_rc=1
set -e
read -r hp hf hi < <(awk '/^test result:/ {p+=$4; f+=$6; i+=$8} END {print p+0, f+0, i+0}' "$out/host.log")
[ $host_rc = 0 ] || { grep -E "panicked|FAILED|error" "$out/host.log" | head -20; [ "$hf" -gt 0 ] || hf=1; }
echo "host: $hp passed, $hf failed, $hi skipped" >"$out/host.summary"

step "the differential suite's deliberate differences are documented"
python3 "$here/doc_check.py" "$top" >"$out/docs.summary" || true
sed '$d' "$out/docs.summary"

step "self-test of the KTAP verdict"
python3 "$here/ktap_selftest.py" >"$out/ktap-selftest.summary" || true
sed '$d' "$out/ktap-selftest.summary"

step "initramfs with ${#mods[@]} module(s): ${mods[*]##*/}"
"$here/initramfs.sh" test "$out/test.cpio.gz" "${mods[@]}"
image="$KDIR/arch/arm64/boot/Image"

for how in bare xen; do
	step "KUnit, kernel booted $how in QEMU (log: out/kunit-$how.log)"
	"$here/boot.sh" "$how" "$image" "$out/test.cpio.gz" test "$out/kunit-$how.log"
	python3 "$here/ktap.py" "kunit-$how" "$out/kunit-$how.log" "${suites[@]}" \
		>"$out/kunit-$how.summary" || true
	sed '$d' "$out/kunit-$how.summary"
done

step "virtio-blk through the Rust xen-swiotlb, Dom0 under Xen (log: out/blk-xen.log)"
rm -f "$out/disk.img"
truncate -s 128M "$out/disk.img"
XRS_DISK="$out/disk.img" "$here/boot.sh" xen "$image" "$out/test.cpio.gz" blk "$out/blk-xen.log"
python3 "$here/blk_verdict.py" "$out/blk-xen.log" "$out/disk.img" >"$out/blk-xen.summary" || true
sed '$d' "$out/blk-xen.summary"
grep -E '^XRS-BLK: \w+ bytes=' "$out/blk-xen.log" | sed 's/^XRS-BLK: /  /' || true

step "unloading xen_swiotlb_rs under DMA load, Dom0 under Xen (log: out/stress-xen.log)"
"$here/boot.sh" xen "$image" "$out/test.cpio.gz" stress "$out/stress-xen.log"
python3 "$here/stress_verdict.py" "$out/stress-xen.log" >"$out/stress-xen.summary" || true
sed '$d' "$out/stress-xen.summary"
grep -E '^XRS-STRESS: (rounds|load (maps|irq_maps|allocs|map_failures)|free-pages)' \
	"$out/stress-xen.log" | sed 's/^XRS-STRESS: /  /' || true

step "Xen's xl on the Rust privcmd, hypercall device, xenfs, gntdev, gntalloc; parity with C (log: out/xl-xen.log)"
cxenfs=$(c_xenfs_build "$KDIR" "$out")
# The toolstack runs on the Rust privcmd, xenfs and gntdev; the kernel's C xen-privcmd,
# xenfs and xen-gntdev are loaded only for the parity phase, after the xl rounds.
XRS_C_MODULES="$KDIR/drivers/xen/xen-gntdev.ko $KDIR/drivers/xen/xen-gntalloc.ko $KDIR/drivers/xen/xen-privcmd.ko $cxenfs" \
	XRS_DOMU_KERNEL="$image" "$here/initramfs.sh" full "$out/xl.cpio.gz" "${mods[@]}"
"$here/boot.sh" xen "$image" "$out/xl.cpio.gz" xl "$out/xl-xen.log"
python3 "$here/xl_verdict.py" "$out/xl-xen.log" "$top"/Documentation/{privcmd,gntdev}.md \
	>"$out/xl-xen.summary" || true
grep -vE '^  xl-xen ok: parity ' "$out/xl-xen.summary" | sed '$d'
grep -E '^XRS-XL: (memory|test-resource)' "$out/xl-xen.log" | sed 's/^XRS-XL: /  /' || true

step "Raspberry Pi 4: make rpi4's boot files decoded, the SD-only card booted on QEMU raspi4b (log: out/rpi4-boot.log)"
# The Dom0 prints the report of make run (the toolstack on the Rust devices), then runs
# tests/rpi4-test.sh on the board's devices. Of the KUnit suites only xen_swiotlb_board
# runs there: some others assume the virt machine's memory map.
RPI4_DOM0_BOOTARGS="console=hvc0 rdinit=/init xrs.mode=rpi4 kunit.filter_glob=xen_swiotlb_board clk_ignore_unused panic=-1" \
	XRS_C_MODULES="$KDIR/drivers/dma/dmatest.ko" "$here/rpi4.sh" >"$out/rpi4-files.log" 2>&1 || true
python3 "$here/rpi4_check.py" "$out/rpi4" >"$out/rpi4-files.summary" 2>&1 || true
grep FAILED "$out/rpi4-files.summary" || true
"$here/rpi4-boot.sh" "$out/rpi4" "$out/rpi4-boot.log"
python3 "$here/rpi4_boot_verdict.py" "$out/rpi4-boot.log" >"$out/rpi4-boot.summary" || true
sed '$d' "$out/rpi4-boot.summary"

step "the upstream series (make patches): generated, applied, checkpatch, built per patch, =y and =m, lint, the =y kernel booted as Dom0 on virt and raspi4b (report: out/patches/report.txt)"
"$here/patches.sh" | grep -vE '^  patches ok: ' || true

echo
echo "Summary ($(($(date +%s) - t0)) s):"
tally "$out/host.summary"
tally "$out/docs.summary"
tally "$out/ktap-selftest.summary"
tally "$out/kunit-bare.summary"
tally "$out/kunit-xen.summary"
tally "$out/blk-xen.summary"
tally "$out/stress-xen.summary"
tally "$out/xl-xen.summary"
tally "$out/rpi4-files.summary"
tally "$out/rpi4-boot.summary"
tally "$out/patches/patches.summary"
tally "$out/patches/builtin-xen.summary"
tally "$out/patches/builtin-rpi4.summary"
if [ "$fail" != 0 ]; then
	# Repeated here, next to the totals, so that a log cut to its tail still names them.
	echo "Failed checks:"
	grep -hE 'FAILED|\(failed: ' "$out"/*.summary "$out"/patches/*.summary | sed 's/^ */  /' || true
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
