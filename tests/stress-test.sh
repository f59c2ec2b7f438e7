#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs in Dom0 (xrs.mode=stress): unloads xen_swiotlb_rs under DMA load, then loads and
# unloads it again and again, counting free pages around the load/unload cycles. Lines
# start with "XRS-STRESS:"; tests/stress_verdict.py reads them.
#
# Each round: xen_swiotlb_rs is loaded attached to the load device of
# xen_swiotlb_stress.ko, a 300 ms load starts (workers mapping in place and bounced,
# coherent allocations, a timer mapping in hard interrupt context), and rmmod is tried
# over and over while it runs: refused while a mapping or buffer is live, accepted in a
# gap, after which the load goes on through the kernel's own ops. After the load the
# module, if still there, must hold nothing and unload.
#
# Leaks: after each load the module's own counters must show nothing held (pool slots,
# coherent buffers, atomic pool pages), and free pages are counted around the cycles (see
# free_pages), where a page lost per cycle adds up to more than the noise (measured
# within about 60 pages). Around the rounds they are printed too.

mods=/lib/modules/xrs
rounds=100 cycles=200
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	xrs.stress_rounds=*) rounds=${arg#*=} ;;
	xrs.stress_cycles=*) cycles=${arg#*=} ;;
	esac
done
args=$(awk '$1 == "xen_swiotlb_rs" { $1 = ""; print }' /etc/xrs-module-args)
dbg=/sys/kernel/debug

# The KUnit suites ran at boot; do not run them again on each reload.
echo "none-xrs-stress" >/sys/module/kunit/parameters/filter_glob
rmmod xen_swiotlb_test 2>/dev/null
rmmod xen_swiotlb_rs 2>/dev/null

# Free pages: the buddy allocator's and those on the per-CPU lists, after dropping the
# caches, shrinking every slab cache (which also empties KASAN's quarantine of it) and
# purging lazily freed vmalloc areas.
free_pages() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	for f in /sys/kernel/slab/*/shrink; do echo 1 >"$f" 2>/dev/null; done
	echo 1 >$dbg/xen_swiotlb_stress/settle
	b=$(awk '$1 == "nr_free_pages" { print $2 }' /proc/vmstat)
	p=$(awk '$1 == "count:" { c += $2 } END { print c + 0 }' /proc/zoneinfo)
	echo $((b + p))
}

stat_of() { # FILE KEY
	awk -v k="$2:" '$1 == k { print $2 }' "$1"
}

insmod $mods/xen_swiotlb_stress.ko || { echo "XRS-STRESS: error: no load module"; exit 1; }
dev=$(cat $dbg/xen_swiotlb_stress/device)
echo "XRS-STRESS: load device $dev"
# A real driver's bind on the other device of the load module, first.
sh /usr/lib/xrs/bind-test.sh "$(cat $dbg/xen_swiotlb_stress/spare)"
# One load first, unmeasured, through the kernel's ops: the workqueue's threads, the
# kernel's swiotlb and the DMA API's debugging set themselves up for it.
echo 300 >$dbg/xen_swiotlb_stress/run
rounds_before=$(free_pages)

unloaded=0 refused=0 r=0
while [ $r -lt $rounds ]; do
	r=$((r + 1))
	if ! insmod $mods/xen_swiotlb_rs.ko devices="$dev" $args; then
		echo "XRS-STRESS: bad: round $r: insmod failed"
		break
	fi
	echo 300 >$dbg/xen_swiotlb_stress/run &
	pid=$!
	gone=0
	while kill -0 $pid 2>/dev/null; do
		if rmmod xen_swiotlb_rs 2>/dev/null; then
			gone=1
			break
		fi
		refused=$((refused + 1))
	done
	wait $pid || echo "XRS-STRESS: bad: round $r: the load did not run"
	if [ $gone = 1 ]; then
		unloaded=$((unloaded + 1))
		continue
	fi
	s=$dbg/xen_swiotlb_rs/stats
	used=$(stat_of $s pool_used) live=$(stat_of $s coherent_live)
	atomic=$(stat_of $s atomic_used)
	if [ "$used" != 0 ] || [ "$live" != 0 ] || [ "$atomic" != 0 ]; then
		echo "XRS-STRESS: bad: round $r: after the load pool_used=$used coherent_live=$live atomic_used=$atomic"
	fi
	rmmod xen_swiotlb_rs || echo "XRS-STRESS: bad: round $r: rmmod after the load failed"
done
echo "XRS-STRESS: rounds=$r unloaded-under-load=$unloaded rmmod-refused=$refused"
sed 's/^/XRS-STRESS: load /' $dbg/xen_swiotlb_stress/stats
echo
after_rounds=$(free_pages)
echo "XRS-STRESS: free-pages around the rounds: $rounds_before then $after_rounds"

cycle() { # N: one load/unload cycle, or false
	insmod $mods/xen_swiotlb_rs.ko devices="$dev" $args || { echo "XRS-STRESS: bad: cycle $1: insmod failed"; return 1; }
	rmmod xen_swiotlb_rs || { echo "XRS-STRESS: bad: cycle $1: rmmod failed"; return 1; }
}

# A few cycles first, unmeasured, for the caches they use to settle.
w=0
while [ $w -lt 20 ] && [ $cycles -gt 0 ]; do
	w=$((w + 1))
	cycle "warm-up $w" || break
done
before=$(free_pages)
samples=$before
c=0
while [ $c -lt $cycles ]; do
	c=$((c + 1))
	cycle $c || break
	[ $((c % 50)) = 0 ] && samples="$samples $(free_pages)"
done
echo "XRS-STRESS: cycles=$c"
after=$(free_pages)
echo "XRS-STRESS: free-pages every 50 cycles: $samples"
rmmod xen_swiotlb_stress || echo "XRS-STRESS: bad: the load module did not unload"
echo "XRS-STRESS: free-pages before=$before after=$after"
