#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots make rpi4's SD-only card (out/rpi4/sd-only.img) on QEMU's raspi4b the seed's
# way: the board's U-Boot from the card's files (QEMU loads u-boot.bin as the firmware
# would, with the upstream DTB), whose bootflow runs boot.scr from the card, which
# fatloads Xen, the Dom0 kernel, its initramfs and the DTB and boots Xen. The mini UART
# (serial1: U-Boot, Xen, Dom0's hvc0 through Xen) goes to LOG. QEMU does not power off
# when Xen halts the board: the boot ends when Xen says Dom0 halted or crashed, or after
# $XRS_BOOT_TIMEOUT s (default 600).
#
# usage: tests/rpi4-boot.sh OUT_DIR LOG
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

dir=$1 log=$2
timeout_s=${XRS_BOOT_TIMEOUT:-600}
[ -f "$dir/sd-only.img" ] || die "no $dir/sd-only.img: run make rpi4"
rm -f "$log" "$log.uart0"
# QEMU's raspi4b is not the board in three ways that Dom0, on the upstream tree, would
# trip on; a copy of the card gets a tree changed for QEMU alone (make rpi4's files stay
# the board's): the ARM-local L2 interrupt controller, which QEMU does not model (its
# probe takes an external abort), is disabled; and QEMU wires the card to the legacy
# SDHCI, which the board's tree gives to the Wi-Fi chip: its power sequence (GPIOs of
# the firmware's expander, which QEMU does not have) and the Wi-Fi node go, so that the
# controller probes and finds the card. (The third, the unused-clock sweep, is Dom0's
# clk_ignore_unused: tests/test.sh.)
card="$log.sd.img"
dtb="$log.dtb"
cp "$dir/sd-only.img" "$card"
cp "$dir/sd-only/bcm2711-rpi-4-b.dtb" "$dtb"
fdtput -t s "$dtb" /soc/interrupt-controller@7ef00100 status disabled
fdtput -d "$dtb" /soc/mmc@7e300000 mmc-pwrseq
fdtput -r "$dtb" /soc/mmc@7e300000/wifi@1
fdtput -d "$dtb" /emmc2-bus@fe000000/mmc@7e340000 vqmmc-supply
fdtput -d "$dtb" /emmc2-bus@fe000000/mmc@7e340000 vmmc-supply
mcopy -o -i "$card@@1M" "$dtb" ::/bcm2711-rpi-4-b.dtb
qemu-system-aarch64 -M raspi4b -kernel "$dir/sd/u-boot.bin" -dtb "$dir/tftp/bcm2711-rpi-4-b.dtb" \
	-display none -monitor none -no-reboot -nic none -serial "file:$log.uart0" -serial "file:$log" \
	-drive "if=sd,format=raw,file=$card" </dev/null >"$log.qemu" 2>&1 &
qemu=$!
end=$(($(date +%s) + timeout_s))
while kill -0 $qemu 2>/dev/null; do
	if grep -qaE 'Hardware Dom0 (halted|crashed)|\(XEN\) .*PANIC' "$log" 2>/dev/null; then
		sleep 1
		break
	fi
	if [ "$(date +%s)" -ge $end ]; then
		echo "rpi4-boot: QEMU killed after $timeout_s s (see $log)" >&2
		break
	fi
	sleep 2
done
kill $qemu 2>/dev/null || true
# A QEMU stuck in a device model holds its lock and ignores the signal.
sleep 5
kill -9 $qemu 2>/dev/null || true
wait $qemu 2>/dev/null || true
rm -f "$card"
