#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The main job: boots Xen 4.20 with a Dom0 running the Rust stack in QEMU. The Dom0
# image carries busybox and Xen's own toolstack. Prints a status report from inside
# Dom0; on a terminal it then leaves you at the Dom0 shell (Ctrl-a x quits QEMU).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
top=$(dirname "$here")
out="$top/out"
mkdir -p "$out"

KDIR=$("$here/modules.sh")
mapfile -t mods < <(find "$top" -path "$top/out" -prune -o -name '*.ko' -print | sort)
step "Dom0 initramfs with Xen's toolstack and ${mods[*]##*/}"
"$here/initramfs.sh" full "$out/dom0.cpio.gz" "${mods[@]}"
image="$KDIR/arch/arm64/boot/Image"

if [ -t 0 ] && [ -t 1 ]; then
	step "booting Xen + Dom0 (Ctrl-a x quits QEMU)"
	exec "$here/boot.sh" xen "$image" "$out/dom0.cpio.gz" run
fi
step "booting Xen + Dom0 (no terminal: report only; log: out/run.log)"
"$here/boot.sh" xen "$image" "$out/dom0.cpio.gz" report "$out/run.log"
grep -E '^(\(XEN\) (Xen version|Hardware Dom0)|XRS: )' "$out/run.log" || true
grep -q "^XRS: done" "$out/run.log" || die "Dom0 did not complete its report (see out/run.log)"
