#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make rpi4: the files the seed's recipe ("Xen on Raspberry Pi 4 adventures") puts on the
# SD card and the TFTP server, for Xen 4.20 + a Dom0 with the Rust stack, in out/rpi4/:
#
#   sd/         the card's first (FAT) partition for the TFTP boot: config.txt,
#               u-boot.bin (Debian's u-boot-rpi), boot.scr (sets serverip and ipaddr,
#               fetches boot2.scr over TFTP and sources it)
#   tftp/       the TFTP server's directory: boot2.scr (loads Xen, the Dom0 kernel, its
#               initramfs and the upstream DTB, sets the /chosen nodes, boots Xen), and
#               those four files
#   sd-only/    the same boot without a network: boot.scr fatloads the four files from
#               the card, which holds them all
#   sd-only.img that card as an image (MBR, one FAT32 partition), for dd or QEMU raspi4b
#   *.source    every script's text, next to its .scr
#
# Parameters (environment), with the seed's values as defaults:
#   RPI4_SERVERIP=192.168.0.1 RPI4_IPADDR=192.168.0.2   TFTP server, board
#   RPI4_BOOT_ADDR=0x2400000     where U-Boot loads boot.scr (its mkimage -a)
#   RPI4_BOOT2_ADDR=0xC00000     where boot.scr loads boot2.scr (the seed's tftpb address)
#   RPI4_DTB_ADDR=0x3000000 RPI4_XEN_ADDR=0x3200000 RPI4_KERNEL_ADDR=0x4000000
#   RPI4_INITRD_ADDR=0xC000000   load addresses of the four files
#   RPI4_XEN_BOOTARGS="console=dtuart dtuart=serial1 sync_console dom0_mem=512M"
#   RPI4_DOM0_BOOTARGS="console=hvc0 rdinit=/init"
#   RPI4_SD_DEV='${devtype} ${devnum}:${distro_bootpart}'  the card, as U-Boot's bootflow
#                                sets it when it runs boot.scr
#   RPI4_KERNEL=Image RPI4_INITRD=initrd   a Dom0 kernel and initramfs of your own
#                                (default: the test kernel and make run's initramfs)
#   RPI4_OUT=DIR                 where the files go (default: out/rpi4)
# tests/rpi4_check.py decodes every generated script back and checks it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
top=$(dirname "$here")
out="${RPI4_OUT:-$top/out/rpi4}"

"$here/setup.sh" rpi4 >&2
serverip=${RPI4_SERVERIP:-192.168.0.1}
ipaddr=${RPI4_IPADDR:-192.168.0.2}
hex() { printf '0x%x' "$(($1))"; }
boot_addr=$(hex "${RPI4_BOOT_ADDR:-0x2400000}")
boot2_addr=$(hex "${RPI4_BOOT2_ADDR:-0xC00000}")
dtb_addr=$(hex "${RPI4_DTB_ADDR:-0x3000000}")
xen_addr=$(hex "${RPI4_XEN_ADDR:-0x3200000}")
kernel_addr=$(hex "${RPI4_KERNEL_ADDR:-0x4000000}")
initrd_addr=$(hex "${RPI4_INITRD_ADDR:-0xC000000}")
xen_bootargs=${RPI4_XEN_BOOTARGS:-console=dtuart dtuart=serial1 sync_console dom0_mem=512M}
dom0_bootargs=${RPI4_DOM0_BOOTARGS:-console=hvc0 rdinit=/init}
# shellcheck disable=SC2016 # U-Boot's variables, expanded by U-Boot
sd_dev=${RPI4_SD_DEV:-'${devtype} ${devnum}:${distro_bootpart}'}
uboot="$XRS_CACHE/u-boot-rpi/usr/lib/u-boot/rpi_arm64/u-boot.bin"
xen="$XRS_CACHE/arm64-root/boot/xen-4.20-arm64"
dts=arch/arm64/boot/dts/broadcom/bcm2711-rpi-4-b.dts

rm -rf "$out"
mkdir -p "$out"/{sd,tftp,sd-only}

# The Dom0: the caller's, or the test kernel with make run's initramfs.
if [ -n "${RPI4_KERNEL:-}" ]; then
	[ -n "${RPI4_INITRD:-}" ] || die "RPI4_KERNEL needs RPI4_INITRD too"
	kernel=$RPI4_KERNEL initrd=$RPI4_INITRD
else
	KDIR=$("$here/modules.sh")
	mapfile -t mods < <(find "$top" -path "$top/out" -prune -o -name '*.ko' -print | sort)
	step "Dom0 initramfs with Xen's toolstack and ${mods[*]##*/}"
	"$here/initramfs.sh" full "$out/initrd.cpio.gz" "${mods[@]}"
	kernel="$KDIR/arch/arm64/boot/Image" initrd="$out/initrd.cpio.gz"
	echo "note: the Dom0 kernel is the test kernel ($kernel), with the BCM2711 drivers;" \
		"set RPI4_KERNEL and RPI4_INITRD for another" >&2
fi
[ -f "$kernel" ] || die "no Dom0 kernel at $kernel"
[ -f "$initrd" ] || die "no Dom0 initramfs at $initrd"
[ -f "$xen" ] || die "Xen missing ($xen): run tests/setup.sh"
[ -f "$uboot" ] || die "U-Boot missing ($uboot): run tests/setup.sh rpi4"

step "the upstream device tree: $dts"
cpp -nostdinc -undef -x assembler-with-cpp -I "$KSRC/include" -I "$KSRC/arch/arm64/boot/dts" \
	-I "$KSRC/scripts/dtc/include-prefixes" "$KSRC/$dts" |
	dtc -q -I dts -O dtb -o "$out/tftp/bcm2711-rpi-4-b.dtb" -

# The files U-Boot loads: Xen, the Dom0 kernel gzipped (Xen unpacks it; a third of the
# bytes to read from a card or the network), its initramfs, the DTB.
cp "$xen" "$out/tftp/xen"
gzip -9 -n -c "$kernel" >"$out/tftp/Image.gz"
cp "$initrd" "$out/tftp/initrd.cpio.gz"

# Each file must fit below the next load address; the DTB gets 8 KiB more (fdt resize).
fits() { # FILE ADDR NEXT_ADDR
	local size
	size=$(stat -c %s "$1")
	[ $(($2 + size)) -le $(($3)) ] ||
		die "$(basename "$1") ($size bytes at $2) runs into the next load address $3"
}
fits "$out/tftp/bcm2711-rpi-4-b.dtb" "$dtb_addr" "$((xen_addr - 8192))"
fits "$out/tftp/xen" "$xen_addr" "$kernel_addr"
fits "$out/tftp/Image.gz" "$kernel_addr" "$initrd_addr"
for a in "$dtb_addr" "$xen_addr" "$kernel_addr" "$initrd_addr" "$boot2_addr" "$boot_addr"; do
	[ $((a)) -lt $((0x40000000)) ] || die "load address $a is not below 1 GiB"
done

# The script that loads and boots; $1 is U-Boot's load command and its source.
boot2() {
	cat <<-EOF
		# Xen 4.20 + Dom0 with the Rust Xen stack (generated by make rpi4)
		$1 $dtb_addr bcm2711-rpi-4-b.dtb
		$1 $xen_addr xen
		$1 $kernel_addr Image.gz
		setenv dom0_size \${filesize}
		$1 $initrd_addr initrd.cpio.gz
		setenv initrd_size \${filesize}
		fdt addr $dtb_addr
		fdt resize 8192
		fdt set /chosen \\#address-cells <0x2>
		fdt set /chosen \\#size-cells <0x2>
		fdt set /chosen xen,xen-bootargs "$xen_bootargs"
		fdt set /chosen xen,dom0-bootargs "$dom0_bootargs"
		fdt mknod /chosen dom0
		fdt set /chosen/dom0 compatible "xen,linux-zimage" "xen,multiboot-module" "multiboot,module"
		fdt set /chosen/dom0 reg <0x0 $kernel_addr 0x0 0x\${dom0_size}>
		fdt mknod /chosen dom0-ramdisk
		fdt set /chosen/dom0-ramdisk compatible "xen,linux-initrd" "xen,multiboot-module" "multiboot,module"
		fdt set /chosen/dom0-ramdisk reg <0x0 $initrd_addr 0x0 0x\${initrd_size}>
		booti $xen_addr - $dtb_addr
	EOF
}

script() { # SOURCE SCR LOAD_ADDR
	mkimage -A arm64 -T script -C none -a "$3" -e "$3" -d "$1" "$2" >/dev/null
}

step "boot scripts (mkimage)"
cat >"$out/sd/boot.source" <<EOF
# The seed's boot.scr: the network, then boot2.scr from the TFTP server
setenv serverip $serverip
setenv ipaddr $ipaddr
tftpb $boot2_addr boot2.scr
source $boot2_addr
EOF
script "$out/sd/boot.source" "$out/sd/boot.scr" "$boot_addr"
boot2 tftpb >"$out/tftp/boot2.source"
script "$out/tftp/boot2.source" "$out/tftp/boot2.scr" "$boot2_addr"
boot2 "fatload $sd_dev" >"$out/sd-only/boot.source"
script "$out/sd-only/boot.source" "$out/sd-only/boot.scr" "$boot_addr"

cat >"$out/sd/config.txt" <<EOF
# Raspberry Pi 4 firmware: start U-Boot, 64-bit, with the mini UART (Xen's serial1)
kernel=u-boot.bin
enable_uart=1
arm_64bit=1
EOF
cp "$uboot" "$out/sd/u-boot.bin"
cp "$out/sd/config.txt" "$out/sd/u-boot.bin" "$out/sd-only/"
cp "$out/tftp"/{bcm2711-rpi-4-b.dtb,xen,Image.gz,initrd.cpio.gz} "$out/sd-only/"

step "the SD-only card image: MBR, one FAT32 partition"
part="$out/.part.img"
# The card's size a power of two (QEMU's SD model requires it): the files, FAT32's
# minimum of about 33 MiB, 1 MiB before the partition.
need=$(($(du -sm "$out/sd-only" | cut -f1) + 40))
card=64
while [ $card -lt $need ]; do card=$((card * 2)); done
size_mib=$((card - 1))
rm -f "$part" "$out/sd-only.img"
truncate -s "${size_mib}M" "$part"
mkfs.vfat -F 32 -n RPI4BOOT "$part" >/dev/null
mcopy -i "$part" "$out/sd-only"/{config.txt,u-boot.bin,boot.scr,bcm2711-rpi-4-b.dtb,xen,Image.gz,initrd.cpio.gz} ::/
truncate -s "$((size_mib + 1))M" "$out/sd-only.img"
echo 'start=2048, type=c' | sfdisk -q "$out/sd-only.img"
dd if="$part" of="$out/sd-only.img" bs=1M seek=1 conv=notrunc status=none
rm -f "$part"

python3 "$here/rpi4_check.py" "$out"
echo "make rpi4: boot files in $out (see README: On a real Raspberry Pi 4)"
