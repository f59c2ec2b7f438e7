#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# In the Raspberry Pi 4 Dom0 (xrs.mode=rpi4: QEMU raspi4b booted through U-Boot from
# make rpi4's SD-only card, tests/rpi4-boot.sh): the Rust xen-swiotlb on the board's own
# DMA devices, as the upstream device tree describes them.
#
# 1. xen_swiotlb_rs is loaded again with devices= naming the SD controllers (the legacy
#    SDHCI at fe300000, where QEMU puts the card, under /soc; EMMC2 at fe340000, under
#    emmc2-bus) and the bcm2835 DMA engine. The ops may only go on a device with no
#    mapping live: the DMA engine maps a page at probe, so it is unbound first and bound
#    again after (binding re-runs the DMA configuration from the tree, and the module
#    puts its ops back; tests/bind-test.sh shows the same on QEMU virt). The SD
#    controllers work by PIO and map nothing: they keep their driver. (Unbinding them
#    is not safe: sdhci points the device's dma_mask into its own host structure for
#    PIO and leaves it there when unbound, and the next bind's of_dma_configure_id()
#    writes through it into freed memory: KASAN, in the kernel's own code.)
# 2. Its debugfs `ranges` report: each device's range table and translations.
# 3. The card: a file of 1 MiB written to its FAT partition, the page cache dropped,
#    read back and checksummed, with the ops' counters around it (did the controller
#    map anything, or work by PIO?).
# 4. The software-DMA-engine suite xen_swiotlb_board (xen_swiotlb_test.ko loaded again
#    with board_devices= naming the three devices; the boot's kunit.filter_glob leaves
#    only it): in-place maps, bounces and coherent buffers on each real device, checked
#    by an engine with its own copy of the board's window.
# 5. The core's address suites (xen_dma_ranges, xen_dma_p2m, xen_dma_virt) on this
#    machine's memory map: xen_core_test.ko loaded again with KUnit's filter on them.
# 6. With xrs.dmatest=1 on the command line only: the kernel's dmatest on the DMA
#    engine's channels. On QEMU 10.0's raspi4b its first transfer hangs QEMU itself,
#    with the kernel's C ops as with the Rust ones (Documentation/rpi4.md), so make test
#    does not run it.
# Lines start with "XRS-RPI4:".
say() { echo "XRS-RPI4: $*"; }
dbg=/sys/kernel/debug/xen_swiotlb_rs
mods=/lib/modules/xrs
args=$(awk '$1 == "xen_swiotlb_rs" { $1 = ""; print }' /etc/xrs-module-args)
stat_of() { awk -v k="$1:" '$1 == k { print $2 }' $dbg/stats; }
maps() { echo "direct=$(stat_of direct) bounced_bytes=$(stat_of bounced_bytes) failures=$(stat_of failures)"; }

# 1. Attach.
: >/tmp/rpi4-drivers
devs=
for d in fe300000.mmc fe340000.mmc fe007000.dma-controller; do
	p=/sys/bus/platform/devices/$d
	if [ ! -e $p ]; then
		say "bad: no platform device $d"
		continue
	fi
	if [ -e $p/driver ]; then
		drv=$(basename "$(readlink $p/driver)")
		case "$d" in
		*.dma-controller)
			echo "$d $drv" >>/tmp/rpi4-drivers
			echo "$d" >$p/driver/unbind
			say "unbound $d from $drv"
			;;
		*) say "ok: $d keeps $drv (PIO: no mapping)" ;;
		esac
	else
		say "bad: $d has no driver bound at boot: $(grep "^$d" /sys/kernel/debug/devices_deferred)"
	fi
	devs="$devs${devs:+,}$d"
done
# Its test module uses it: out first.
rmmod xen_swiotlb_test xen_swiotlb_rs || say "bad: rmmod xen_swiotlb_test xen_swiotlb_rs"
if insmod $mods/xen_swiotlb_rs.ko devices="$devs" $args; then
	say "ok: xen_swiotlb_rs attached to $devs"
else
	say "bad: insmod xen_swiotlb_rs devices=$devs"
fi
while read -r d drv; do
	if echo "$d" >/sys/bus/platform/drivers/$drv/bind; then
		say "ok: bound $d to $drv again"
	else
		say "bad: binding $d to $drv again"
	fi
done </tmp/rpi4-drivers
cat $dbg/devices | sed 's/^/XRS-RPI4: devices: /'

# 2. The range tables.
cat $dbg/ranges | sed 's/^/XRS-RPI4: ranges: /'

# 3. The card: the first partition of whichever controller QEMU's card sits on.
part=
n=0
while [ -z "$part" ] && [ $n -lt 30 ]; do
	for b in /dev/mmcblk*p1; do
		[ -b "$b" ] && part=$b && break
	done
	[ -n "$part" ] || sleep 1
	n=$((n + 1))
done
if [ -n "$part" ]; then
	blk=${part#/dev/}
	blk=${blk%p1}
	say "card: $(cat /sys/block/$blk/device/name 2>/dev/null) as $part, on $(basename "$(readlink -f /sys/block/$blk/device/../../..)")"
	mkdir -p /mnt/sd
	before=$(maps)
	if mount -t vfat $part /mnt/sd; then
		dd if=/dev/urandom of=/tmp/sd-file bs=64k count=16 2>/dev/null
		want=$(md5sum </tmp/sd-file | cut -d' ' -f1)
		cp /tmp/sd-file /mnt/sd/xrs-file && sync && umount /mnt/sd
		echo 3 >/proc/sys/vm/drop_caches
		mount -t vfat $part /mnt/sd
		got=$(md5sum </mnt/sd/xrs-file | cut -d' ' -f1)
		rm -f /mnt/sd/xrs-file
		umount /mnt/sd
		say "card: wrote 1048576 bytes md5 $want, read back md5 $got"
	else
		say "bad: mount $part"
	fi
	say "card: ops counters before: $before; after: $(maps)"
else
	say "bad: no card partition (/dev/mmcblk*p1) in 30 s"
fi

# 4. The board suite.
before=$(maps)
if insmod $mods/xen_swiotlb_test.ko board_devices="$devs"; then
	sum=$(dmesg | grep -E '# xen_swiotlb_board: pass:' | tail -1 | sed 's/.*# xen_swiotlb_board: //')
	say "board suite: ${sum:-no result}"
	dmesg | grep -E '^ *(not )?ok [0-9]+ [a-z_]+_board_window' | tail -3 | sed 's/^ */XRS-RPI4: board suite: /'
	rmmod xen_swiotlb_test
else
	say "bad: insmod xen_swiotlb_test board_devices=$devs"
fi
say "board suite: ops counters before: $before; after: $(maps)"

# 5. The core's address suites.
# No newline: KUnit would take it as part of the glob.
printf '%s' 'xen_dma_*' >/sys/module/kunit/parameters/filter_glob
rmmod xen_core_test || say "bad: rmmod xen_core_test"
if insmod $mods/xen_core_test.ko; then
	for s in xen_dma_ranges xen_dma_p2m xen_dma_virt; do
		sum=$(dmesg | grep -E "# $s: pass:" | tail -1 | sed "s/.*# $s: //")
		say "core suite $s: ${sum:-no result}"
	done
	rmmod xen_core_test
else
	say "bad: insmod xen_core_test"
fi

# 6. dmatest, on request.
dmatest=0
for arg in $(cat /proc/cmdline); do
	case "$arg" in xrs.dmatest=*) dmatest=${arg#*=} ;; esac
done
if [ "$dmatest" != 1 ]; then
	say "dmatest: not run (xrs.dmatest=1 runs it; it hangs QEMU 10.0's raspi4b)"
elif [ -e /usr/lib/modules/c/dmatest.ko ]; then
	before=$(maps)
	insmod /usr/lib/modules/c/dmatest.ko iterations=10 test_buf_size=4096 timeout=2000 \
		threads_per_chan=1 max_channels=2 || say "bad: insmod dmatest.ko"
	echo 1 >/sys/module/dmatest/parameters/run
	n=0
	while [ "$(cat /sys/module/dmatest/parameters/run)" = Y ] && [ $n -lt 120 ]; do
		sleep 1
		n=$((n + 1))
		[ $((n % 5)) = 0 ] && say "dmatest: running ${n}s: $(grep -i dma /proc/interrupts | tr -s ' ' | tr '\n' '|')"
	done
	dmesg | grep -E 'dmatest: .*summary' | sed 's/^.*dmatest: /XRS-RPI4: dmatest: /'
	[ $n -lt 120 ] || say "bad: dmatest still running after 120 s"
	say "dmatest: ops counters before: $before; after: $(maps)"
	rmmod dmatest
else
	say "bad: no dmatest.ko in the initramfs"
fi
say "done"
