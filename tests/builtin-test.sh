#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs in Dom0 (xrs.mode=builtin) on the kernel of make patches with the stack built in
# (=y): no module is loaded. The built-in xen-swiotlb was attached to the virtio-blk
# disk's transport at boot by xen_swiotlb_rs.devices= on the command line, before the
# disk's driver bound: 16 MiB are written to the disk, the page cache dropped, read back
# and checksummed, with the Rust ops' counters before and after. Then Xen's toolstack
# comes up on the built-in privcmd, xenfs and gntdev (tests/dom0-up.sh) and `xl list`
# answers. Lines start with "XRS-BUILTIN:".

say() { echo "XRS-BUILTIN: $*"; }
mib=16
say "modules loaded: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')."
# Each module's crate in the kernel's own symbols (Rust's v0 mangling names a crate by
# its length and name), none of them in /proc/modules.
for m in xen_swiotlb_rs:11xen_swiotlb xen_privcmd_rs:11xen_privcmd xen_xenfs_rs:9xen_xenfs \
	xen_gntdev_rs:10xen_gntdev xen_gntalloc_rs:12xen_gntalloc; do
	n=$(grep -c "${m#*:}" /proc/kallsyms)
	if [ "$n" -gt 0 ] && ! grep -qw "^${m%%:*}" /proc/modules; then
		say "built in: ${m%%:*} ($n symbols in /proc/kallsyms)"
	fi
done
say "devices parameter: $(cat /sys/module/xen_swiotlb_rs/parameters/devices 2>&1)"
vdev=$(ls /sys/bus/virtio/drivers/virtio_blk 2>/dev/null | grep '^virtio' | head -1)
if [ -z "$vdev" ]; then
	say "error: no virtio-blk device"
else
	pdev=$(basename "$(readlink -f "/sys/bus/virtio/devices/$vdev/..")")
	say "disk $vdev on $pdev"
	sed "s/^/XRS-BUILTIN: ranges: /" /sys/kernel/debug/xen_swiotlb_rs/ranges
	cp /sys/kernel/debug/xen_swiotlb_rs/stats /tmp/stats.before
	dd if=/dev/urandom of=/tmp/data bs=1M count=$mib 2>/dev/null
	want=$(md5sum </tmp/data | cut -d' ' -f1)
	dd if=/tmp/data of=/dev/vda bs=1M conv=fsync 2>/dev/null
	rm -f /tmp/data
	echo 3 >/proc/sys/vm/drop_caches
	blockdev --flushbufs /dev/vda
	got=$(dd if=/dev/vda bs=1M count=$mib 2>/dev/null | md5sum | cut -d' ' -f1)
	say "disk bytes=$((mib * 1048576)) want=$want got=$got"
	awk 'NR == FNR { b[$1] = $2; next }
		$2 ~ /^[0-9]+$/ { printf "XRS-BUILTIN: io %s%d\n", $1, $2 - b[$1] }' \
		/tmp/stats.before /sys/kernel/debug/xen_swiotlb_rs/stats
fi
say "/dev/xen: $(ls /dev/xen 2>/dev/null | tr '\n' ' ')"
export PATH="/usr/lib/xen-4.20/bin:$PATH"
sh /usr/lib/xrs/dom0-up.sh | sed 's/^XRS-DOM0: /XRS-BUILTIN: dom0: /'
say "xl list:"
timeout 30 xl list 2>&1 | sed 's/^/XRS-BUILTIN:   /'
say "end"
