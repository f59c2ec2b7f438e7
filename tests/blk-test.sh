#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs in Dom0 (xrs.mode=blk): drives the virtio-blk disk through the Rust xen-swiotlb.
# For each run the block driver is unbound, xen_swiotlb_rs is (re)loaded attached to the
# disk's virtio-mmio transport, and the driver is bound again, so that its rings and all
# its I/O go through the Rust ops. 64 MiB of random data are written, the page cache is
# dropped, the data are read back and checksummed. Lines start with "XRS-BLK:".

mod=/lib/modules/xrs/xen_swiotlb_rs.ko
mib=64
vdev=$(ls /sys/bus/virtio/drivers/virtio_blk 2>/dev/null | grep '^virtio' | head -1)
if [ -z "$vdev" ]; then
	echo "XRS-BLK: error: no virtio-blk device"
	exit 1
fi
pdev=$(basename "$(readlink -f "/sys/bus/virtio/devices/$vdev/..")")
echo "XRS-BLK: disk $vdev on $pdev"
# The KUnit suites ran at boot; do not run them again on each reload. The test module
# uses the driver's symbols: it goes first.
echo "none-xrs-blk" >/sys/module/kunit/parameters/filter_glob
rmmod xen_swiotlb_test 2>/dev/null

run() { # label, module arguments
	echo "$vdev" >/sys/bus/virtio/drivers/virtio_blk/unbind
	rmmod xen_swiotlb_rs 2>/dev/null
	insmod "$mod" devices="$pdev" $2 || { echo "XRS-BLK: $1 insmod failed"; return; }
	echo "$vdev" >/sys/bus/virtio/drivers/virtio_blk/bind
	i=0
	while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	dd if=/dev/urandom of=/tmp/data bs=1M count=$mib 2>/dev/null
	want=$(md5sum </tmp/data | cut -d' ' -f1)
	cp /sys/kernel/debug/xen_swiotlb_rs/stats /tmp/stats.before
	start=$(cut -d' ' -f1 /proc/uptime)
	dd if=/tmp/data of=/dev/vda bs=1M conv=fsync 2>/dev/null
	blockdev --flushbufs /dev/vda
	got=$(dd if=/dev/vda bs=1M count=$mib 2>/dev/null | md5sum | cut -d' ' -f1)
	end=$(cut -d' ' -f1 /proc/uptime)
	rm -f /tmp/data
	echo "XRS-BLK: $1 bytes=$((mib * 1048576)) want=$want got=$got seconds=$start..$end"
	# What the disk I/O did (the KUnit suites ran on this instance at load, too).
	awk -v l="$1" 'NR == FNR { b[$1] = $2; next }
		$2 ~ /^[0-9]+$/ { printf "XRS-BLK: %s io %s%d\n", l, $1, $2 - b[$1] }' \
		/tmp/stats.before /sys/kernel/debug/xen_swiotlb_rs/stats
	if rmmod xen_swiotlb_rs 2>/dev/null; then
		echo "XRS-BLK: $1 unload-while-bound=allowed"
	else
		echo "XRS-BLK: $1 unload-while-bound=refused"
	fi
}

run direct ""
run forced "force_bounce=1"
# Hand the disk back to the C ops and show that unloading restored them.
echo "$vdev" >/sys/bus/virtio/drivers/virtio_blk/unbind
if rmmod xen_swiotlb_rs; then echo "XRS-BLK: unload-after-unbind=ok"; fi
echo "$vdev" >/sys/bus/virtio/drivers/virtio_blk/bind
i=0
while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
got=$(dd if=/dev/vda bs=1M count=$mib 2>/dev/null | md5sum | cut -d' ' -f1)
echo "XRS-BLK: reread-on-c-ops got=$got"
