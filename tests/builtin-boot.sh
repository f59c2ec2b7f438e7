#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots the kernel of make patches with the Rust stack built in (=y) as Dom0 under Xen
# 4.20 in QEMU virt, with a virtio-blk disk: the built-in xen-swiotlb is attached to the
# disk's virtio-mmio transport by its command-line parameter, the built-in KUnit suites
# of the stack run at boot (kunit.filter_glob), and tests/builtin-test.sh runs in Dom0
# on an initramfs with Xen's toolstack and no module.
#
# usage: tests/builtin-boot.sh IMAGE LOG
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
image=$1 log=$2
dir=$(dirname "$log")
# QEMU virt puts the first virtio-mmio device it is given at the last of its 32
# transports: 0x0a000000 + 31 * 0x200.
pdev=a003e00.virtio_mmio
# The parameters make test loads the module with, on the command line: the suites'
# placed windows need the pool in one chunk.
margs=$(module_args)
"$here/initramfs.sh" full "$dir/builtin.cpio.gz" >/dev/null
rm -f "$dir/builtin-disk.img"
truncate -s 64M "$dir/builtin-disk.img"
XRS_DISK="$dir/builtin-disk.img" \
	XRS_KERNEL_EXTRA="xen_swiotlb_rs.devices=$pdev$margs kunit.filter_glob=xen_*" \
	"$here/boot.sh" xen "$image" "$dir/builtin.cpio.gz" builtin "$log"
