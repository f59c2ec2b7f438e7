#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots the kernel in QEMU (arm64 virt, TCG): bare, or as Dom0 under Xen 4.20.
#
# usage: [XRS_DISK=IMG] tests/boot.sh bare|xen IMAGE INITRD test|blk|report|run [LOG]
#   test: no input, console to LOG, killed after $XRS_BOOT_TIMEOUT s (default 900)
#   run:  console on this terminal (Ctrl-a x quits QEMU), or to LOG when given
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

how=$1 image=$2 initrd=$3 mode=$4 log=${5:-}
xen="$XRS_CACHE/arm64-root/boot/xen-4.20-arm64"
timeout_s=${XRS_BOOT_TIMEOUT:-900}

# No network: nothing uses one, and QEMU needs no NIC ROM (its recommends are not installed).
args=(-cpu cortex-a57 -smp "${XRS_SMP:-2}" -m 2048 -nographic -no-reboot -nic none)
# Extra QEMU options (make bench: -icount) and Linux command-line words.
read -r -a extra <<<"${XRS_QEMU_EXTRA:-}"
args+=("${extra[@]}")
kextra=${XRS_KERNEL_EXTRA:-}
# A virtio-blk disk on virtio-mmio, when XRS_DISK names an image.
if [ -n "${XRS_DISK:-}" ]; then
	args+=(-drive "if=none,file=$XRS_DISK,format=raw,id=disk0" -device virtio-blk-device,drive=disk0)
fi
case "$how" in
bare)
	args+=(-machine virt,gic-version=3 -kernel "$image" -initrd "$initrd"
		-append "console=ttyAMA0 rdinit=/init panic=-1 xrs.mode=$mode $kextra")
	;;
xen)
	[ -f "$xen" ] || die "Xen missing ($xen): run tests/setup.sh"
	args+=(-machine virt,virtualization=on,gic-version=3 -kernel "$xen"
		-append "dom0_mem=768M console=dtuart dtuart=serial0 noreboot"
		-device "guest-loader,addr=0x49000000,kernel=$image,bootargs=console=hvc0 rdinit=/init panic=-1 xrs.mode=$mode $kextra"
		-device "guest-loader,addr=0x50000000,initrd=$initrd")
	;;
*) die "usage: boot.sh bare|xen IMAGE INITRD test|run [LOG]" ;;
esac

if [ "$mode" = run ] && [ -z "$log" ]; then
	exec qemu-system-aarch64 "${args[@]}"
fi
[ -n "$log" ] || die "a log file is needed in test mode"
# -serial mon:stdio would take the terminal; feed no input.
set +e
timeout --foreground "$timeout_s" qemu-system-aarch64 "${args[@]}" </dev/null >"$log" 2>&1
rc=$?
set -e
[ $rc = 124 ] && echo "boot: QEMU killed after ${timeout_s} s (see $log)" >&2
exit 0
