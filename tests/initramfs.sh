#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the Dom0 initramfs: busybox, tests/init.sh as /init, the stack's modules, and
# with "full", Xen 4.20's arm64 toolstack.
#
# usage: tests/initramfs.sh test|full OUT.cpio.gz MODULE.ko...
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

kind=$1 out=$2
shift 2
root="$XRS_CACHE/arm64-root"
[ -x "$root/usr/bin/busybox" ] || die "busybox missing in $root: run tests/setup.sh"

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{proc,sys,dev,tmp,etc,root,usr/bin,usr/sbin,usr/lib/modules/xrs}
ln -s usr/lib "$stage/lib"
ln -s usr/bin "$stage/bin"
ln -s usr/sbin "$stage/sbin"
install -m 0755 "$here/init.sh" "$stage/init"
grep -v '^#' "${XRS_MODULE_ARGS:-$here/config/module-args}" >"$stage/etc/xrs-module-args"
mkdir -p "$stage/usr/lib/xrs"
install -m 0755 "$here/blk-test.sh" "$stage/usr/lib/xrs/blk-test.sh"
install -m 0755 "$here/stress-test.sh" "$stage/usr/lib/xrs/stress-test.sh"
install -m 0755 "$here/bind-test.sh" "$stage/usr/lib/xrs/bind-test.sh"
# The kernel's DMA map benchmark, from user space (a static arm64 program).
bench_src="$(dirname "$here")/tests/tools/map-bench"
(cd "$bench_src" && cargo build --quiet --release --locked --target aarch64-unknown-linux-musl) >&2 ||
	die "building tests/tools/map-bench failed"
install -m 0755 "$bench_src/target/aarch64-unknown-linux-musl/release/map-bench" \
	"$stage/usr/lib/xrs/map-bench"
cp "$root/usr/bin/busybox" "$stage/usr/bin/busybox"
for m in "$@"; do
	cp "$m" "$stage/usr/lib/modules/xrs/"
done
if [ "$kind" = full ]; then
	# The toolstack: everything the packages install but the hypervisor and docs.
	(cd "$root" && tar --exclude=./boot --exclude=./usr/share/doc --exclude=./usr/share/man \
		--exclude=./usr/bin/busybox -cf - .) | (cd "$stage" && tar -xf -)
fi
echo "root:x:0:0:root:/root:/bin/sh" >"$stage/etc/passwd"
(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
