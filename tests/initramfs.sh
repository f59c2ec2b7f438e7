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

# elf_with_libs ROOT FILE DEST: copies ROOT/FILE to DEST/FILE with the shared libraries it
# needs, found in ROOT's library directories, transitively.
elf_with_libs() {
	local root=$1 file=$2 dest=$3 lib dir found
	[ -e "$dest/$file" ] && return 0
	mkdir -p "$dest/$(dirname "$file")"
	cp -L "$root/$file" "$dest/$file"
	for lib in $(llvm-readelf-19 -d "$root/$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		found=
		for dir in usr/lib/aarch64-linux-gnu usr/lib; do
			if [ -e "$root/$dir/$lib" ]; then
				elf_with_libs "$root" "$dir/$lib" "$dest"
				found=1
				break
			fi
		done
		[ -n "$found" ] || die "$file needs $lib, which $root does not have"
	done
}

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
install -m 0755 "$here/dom0-up.sh" "$stage/usr/lib/xrs/dom0-up.sh"
install -m 0755 "$here/xl-test.sh" "$stage/usr/lib/xrs/xl-test.sh"
install -m 0755 "$here/rpi4-test.sh" "$stage/usr/lib/xrs/rpi4-test.sh"
install -m 0755 "$here/builtin-test.sh" "$stage/usr/lib/xrs/builtin-test.sh"
# C modules the tests load next to the Rust ones, from the kernel build: XRS_C_MODULES.
mkdir -p "$stage/usr/lib/modules/c"
for m in ${XRS_C_MODULES:-}; do
	cp "$m" "$stage/usr/lib/modules/c/"
done
# Static arm64 programs of the project's own: the kernel's DMA map benchmark from user
# space, and the privcmd parity cases and benchmark.
for tool in map-bench xen-check; do
	src="$(dirname "$here")/tests/tools/$tool"
	(cd "$src" && cargo build --quiet --release --locked --target aarch64-unknown-linux-musl) >&2 ||
		die "building tests/tools/$tool failed"
	install -m 0755 "$src/target/aarch64-unknown-linux-musl/release/$tool" "$stage/usr/lib/xrs/$tool"
done
# A DomU for xl create (XRS_DOMU_KERNEL: its kernel): busybox and tests/domu-init.sh.
if [ -n "${XRS_DOMU_KERNEL:-}" ]; then
	domu=$(mktemp -d)
	mkdir -p "$domu"/{proc,sys,dev,usr/bin} "$stage/usr/lib/xrs/domu"
	ln -s usr/bin "$domu/bin"
	cp "$root/usr/bin/busybox" "$domu/usr/bin/busybox"
	for c in sh mount echo cat cut grep tr uname sleep insmod kill sed; do ln -s busybox "$domu/usr/bin/$c"; done
	install -m 0755 "$here/domu-init.sh" "$domu/init"
	# The vchan server: Xen's vchan-socket-proxy with the libraries it needs, the
	# project's xen-check on the other end of its socket, and the Rust gntalloc.
	mkdir -p "$domu/usr/lib/xrs" "$domu/usr/lib/modules"
	ln -s usr/lib "$domu/lib"
	elf_with_libs "$root" usr/lib/xen-4.20/bin/vchan-socket-proxy "$domu"
	# Its interpreter, /lib/ld-linux-aarch64.so.1.
	ln -s aarch64-linux-gnu/ld-linux-aarch64.so.1 "$domu/usr/lib/ld-linux-aarch64.so.1"
	install -m 0755 "$stage/usr/lib/xrs/xen-check" "$domu/usr/lib/xrs/xen-check"
	for m in "$@"; do
		case "$(basename "$m")" in xen_core.ko | xen_gntalloc_rs.ko) cp "$m" "$domu/usr/lib/modules/" ;; esac
	done
	(cd "$domu" && find . | cpio -o -H newc --quiet | gzip -1) >"$stage/usr/lib/xrs/domu/initrd.cpio.gz"
	rm -rf "$domu"
	cp "$XRS_DOMU_KERNEL" "$stage/usr/lib/xrs/domu/Image"
	cat >"$stage/usr/lib/xrs/domu/domu.cfg" <<-CFG
		name = "xrs-domu"
		kernel = "/usr/lib/xrs/domu/Image"
		ramdisk = "/usr/lib/xrs/domu/initrd.cpio.gz"
		extra = "console=hvc0 rdinit=/init"
		memory = 192
		vcpus = 1
	CFG
fi
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
