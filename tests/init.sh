#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the test and run images. Mounts the usual file systems and loads the Rust
# stack's modules, if any (KUnit suites run as each module loads). Then, by xrs.mode on the command line:
#   test   power off
#   blk    run the virtio-blk test (tests/blk-test.sh), power off
#   stress unload xen_swiotlb_rs under DMA load (tests/stress-test.sh), power off
#   xl     Xen's toolstack on the Rust devices, then the privcmd parity cases on the
#          Rust and the C drivers (tests/xl-test.sh), power off
#   xlbench the privcmd benchmark on the Rust and the C drivers, power off
#   report print a status report, power off
#   rpi4   the report, then the Rust xen-swiotlb on the Raspberry Pi 4's own devices
#          (tests/rpi4-test.sh), power off
#   builtin the stack built into the kernel (make patches), no module: the disk through
#          the built-in xen-swiotlb and the toolstack (tests/builtin-test.sh), power off
#   run    print the report, give a shell on the console

/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin:/usr/lib/xen-4.20/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mkdir -p /dev/pts /tmp /run /var/run /var/log/xen /var/lib/xen
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp

mode=test
for arg in $(cat /proc/cmdline); do
	case "$arg" in xrs.mode=*) mode=${arg#xrs.mode=} ;; esac
done

if [ -e /sys/hypervisor/type ]; then
	where="Dom0 under $(cat /sys/hypervisor/type) $(cat /sys/hypervisor/version/major).$(cat /sys/hypervisor/version/minor)"
else
	where="no hypervisor"
fi
echo "XRS: up: Linux $(uname -r) $(uname -m), $where"

for m in /lib/modules/xrs/*.ko; do
	# None: the kernel of make patches, with the stack built in.
	[ -e "$m" ] || continue
	name=$(basename "$m" .ko)
	# The load generator is the stress test's to load.
	[ "$name" = xen_swiotlb_stress ] && continue
	args=$(awk -v m="$name" '$1 == m { $1 = ""; print }' /etc/xrs-module-args 2>/dev/null)
	echo "XRS: insmod $name.ko$args"
	# privcmd serves a Dom0, xenfs, gntdev and gntalloc a Xen domain: outside Xen they refuse
	# to load.
	case "$name" in xen_privcmd_rs | xen_xenfs_rs | xen_gntdev_rs | xen_gntalloc_rs) xen_only=1 ;; *) xen_only=0 ;; esac
	if [ $xen_only = 1 ] && [ ! -e /sys/hypervisor/type ]; then
		if err=$(insmod "$m" $args 2>&1); then
			echo "XRS: insmod $name.ko failed: it loaded outside Xen"
		else
			echo "XRS: $name.ko refused to load outside Xen, as it should: $err"
		fi
		continue
	fi
	insmod "$m" $args || echo "XRS: insmod $name.ko failed"
	# Where its code landed, for make bench-trace's symbols.
	if [ "$mode" = test ] && [ -r "/sys/module/$name/sections/.text" ]; then
		echo "XRS: module $name .text $(cat "/sys/module/$name/sections/.text")"
	fi
done
echo "XRS: modules loaded: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"

case "$mode" in
blk) sh /usr/lib/xrs/blk-test.sh ;;
stress) sh /usr/lib/xrs/stress-test.sh ;;
xl) sh /usr/lib/xrs/xl-test.sh ;;
xlbench) sh /usr/lib/xrs/xl-test.sh bench ;;
builtin) sh /usr/lib/xrs/builtin-test.sh ;;
esac

if [ "$mode" = report ] || [ "$mode" = run ] || [ "$mode" = rpi4 ]; then
	dmesg | grep -E '^# [a-z0-9_]+: pass:' | grep -v Totals | sed 's/^# /XRS: KUnit /'
	echo "XRS: memory: $(grep MemTotal /proc/meminfo | tr -s ' ')"
	echo "XRS: /dev/xen: $(ls /dev/xen 2>/dev/null | tr '\n' ' ')"
	if [ -x /usr/lib/xen-4.20/bin/xl ]; then
		# Xen's own toolstack, on the Rust privcmd, hypercall device and xenfs.
		sh /usr/lib/xrs/dom0-up.sh | sed 's/^XRS-DOM0: /XRS: /'
		echo "XRS: xl info:"
		timeout 30 xl info 2>&1 | head -12 | sed 's/^/XRS:   /'
		echo "XRS: xl list:"
		timeout 30 xl list 2>&1 | sed 's/^/XRS:   /'
	fi
fi
[ "$mode" = rpi4 ] && sh /usr/lib/xrs/rpi4-test.sh
echo "XRS: done"
if [ "$mode" = run ]; then
	echo "XRS: Dom0 shell; 'poweroff -f' ends the session"
	setsid cttyhack sh -l
fi
poweroff -f
