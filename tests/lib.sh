# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the project's scripts.

: "${XRS_CACHE:=/var/cache/xen-rust-stack}"
export XRS_CACHE
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

KVER=7.3.4
KSRC="$XRS_CACHE/src/linux-$KVER"
KMAKE=(make -s ARCH=arm64 LLVM=-19)
JOBS=$(nproc)

# The build tree for a config fragment: keyed by kernel version and fragment contents.
kbuild_dir() {
	local frag=$1 name
	name=$(basename "$frag" .config)
	echo "$XRS_CACHE/build/linux-$KVER-$name-$(md5sum <"$frag" | cut -c1-10)"
}

# Waits up to $2 seconds for process $1 to end; false while it still runs.
wait_for() {
	local i
	for ((i = 0; i < $2; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 1
	done
	return 1
}

# Builds the modules against the benchmark kernel (tests/config/bench.config), in a copy
# of the tree so that the test build stays as it is. $1: the project's top directory;
# the caller's $here is the tests directory. Sets KDIR and BENCH_SRC.
bench_build() {
	"$here/setup.sh"
	KDIR=$("$here/kernel.sh" "$here/config/bench.config")
	BENCH_SRC="$1/out/bench-src"
	mkdir -p "$BENCH_SRC"
	# The sources only: build products of the test kernel's build (objects, crate
	# metadata, generated files) would pass for up to date here.
	rsync -a --delete --exclude=/out --exclude=/target --exclude='*.o' --exclude='*.ko' \
		--exclude='.*.cmd' --exclude='*.rmeta' --exclude='*.mod' --exclude='*.mod.c' \
		--exclude='.*.d' --exclude=modules.order --exclude=Module.symvers \
		--exclude=exports_generated.h --exclude=bindings_generated.rs "$1/" "$BENCH_SRC/"
	step "building the modules against the benchmark kernel"
	"${KMAKE[@]}" -C "$KDIR" M="$BENCH_SRC" -j"$JOBS" modules >&2
}

# The kernel's own C xenfs, built as a module from the kernel source against $1 into
# $2/xenfs.ko (the test kernels have XENFS=n): the C side of the xenfs parity cases.
# Nothing of it is kept in the project; it depends on the C xen-privcmd.ko.
c_xenfs_build() {
	local kdir=$1 dir=$2/c-xenfs
	rm -rf "$dir"
	mkdir -p "$dir/xenfs"
	cp "$KSRC"/drivers/xen/xenfs/{super.c,xenstored.c,xenfs.h} "$dir/xenfs/"
	cp "$KSRC/drivers/xen/privcmd.h" "$dir/"
	printf 'obj-m := xenfs.o\nxenfs-y := super.o xenstored.o\n' >"$dir/xenfs/Kbuild"
	step "building the kernel's C xenfs as a module (for the parity cases)"
	"${KMAKE[@]}" -C "$kdir" M="$dir/xenfs" -j"$JOBS" modules >&2
	echo "$dir/xenfs/xenfs.ko"
}

# module_args: xen_swiotlb_rs's parameters of tests/config/module-args, as " name.key=value"
# words for a kernel command line (the stack built in).
module_args() {
	awk '$1 == "xen_swiotlb_rs" { for (i = 2; i <= NF; i++) printf " xen_swiotlb_rs.%s", $i }' \
		"$(dirname "${BASH_SOURCE[0]}")/config/module-args"
}
