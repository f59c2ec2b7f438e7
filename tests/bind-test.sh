#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs in Dom0 (from tests/stress-test.sh): a real driver bound to a device the Rust
# xen-swiotlb was attached to beforehand. xen_swiotlb_rs is loaded with devices= naming
# the idle device of xen_swiotlb_stress.ko; then the kernel's own DMA map benchmark
# driver is bound to it (driver_override), the benchmark runs (tests/tools/map-bench),
# the driver is unbound, and all that again. Binding re-runs the bus's DMA configuration,
# which under Xen puts the C ops back: the Rust ops must serve the benchmark all the
# same. Lines start with "XRS-BIND:".
#
# usage: bind-test.sh DEVICE

dev=$1
mods=/lib/modules/xrs
args=$(awk '$1 == "xen_swiotlb_rs" { $1 = ""; print }' /etc/xrs-module-args)
dbg=/sys/kernel/debug/xen_swiotlb_rs
drv=/sys/bus/platform/drivers/dma_map_benchmark

stat_of() { # FILE KEY
	awk -v k="$2:" '$1 == k { print $2 }' "$1"
}

if [ ! -d $drv ]; then
	echo "XRS-BIND: bad: no dma_map_benchmark driver (CONFIG_DMA_MAP_BENCHMARK)"
	exit 0
fi
insmod $mods/xen_swiotlb_rs.ko devices="$dev" $args || { echo "XRS-BIND: bad: insmod failed"; exit 0; }
echo "XRS-BIND: attached: $(cat $dbg/devices)"
direct=$(stat_of $dbg/stats direct)
bounced=$(stat_of $dbg/stats bounced_bytes)
echo dma_map_benchmark >/sys/bus/platform/devices/$dev/driver_override
for i in 1 2; do
	if ! echo "$dev" >$drv/bind; then
		echo "XRS-BIND: bad: bind $i failed"
		continue
	fi
	echo "XRS-BIND: bound $i: $(cat $dbg/devices)"
	/usr/lib/xrs/map-bench 1 2 | sed 's/^/XRS-BIND: /'
	echo "$dev" >$drv/unbind
done
echo >/sys/bus/platform/devices/$dev/driver_override
echo "XRS-BIND: served direct=$(($(stat_of $dbg/stats direct) - direct))" \
	"bounced_bytes=$(($(stat_of $dbg/stats bounced_bytes) - bounced))" \
	"failures=$(stat_of $dbg/stats failures)"
rmmod xen_swiotlb_rs || echo "XRS-BIND: bad: rmmod after the benchmark failed"
