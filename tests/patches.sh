#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make patches: the upstream series, generated from this tree by tests/patches.py into
# out/patches/, then checked, each check a line of out/patches/report.txt:
#
#   applies    git am of the whole series onto a pristine 7.3.4 git tree
#   checkpatch scripts/checkpatch.pl --strict on every patch
#   per-patch  the tree built after each patch in turn (=y), incrementally after the first
#   =y / =m    the whole stack built in, then as modules (C privcmd, xenfs, gntdev,
#              gntalloc off: the Rust ones exclude them)
#   lint       rustfmtcheck, CLIPPY=1 and rustdoc of the patched tree
#   boot       the =y kernel as Dom0 under Xen 4.20 in QEMU: the built-in xen-swiotlb
#              attached to the virtio-blk disk by its command-line parameter, the built-in
#              KUnit suites, 16 MiB through the disk, the devices (tests/builtin-test.sh)
#   raspi4b    the =y kernel on make rpi4's SD-only card on QEMU raspi4b: the built-in
#              xen-swiotlb on the board's devices from boot, xen_swiotlb_board, xl
#
# usage: tests/patches.sh [series]   series: generate the patches only (no checks)
# The pristine git tree and the build directory live in the cache and are rebuilt from
# the source tarball when missing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/lib.sh"
out="$top/out/patches"
work="$XRS_CACHE/patches"
tree="$work/linux-$KVER"
bdir="$XRS_CACHE/build/linux-$KVER-patches"
report="$out/report.txt"
t0=$(date +%s)

"$here/setup.sh" patches >&2
mkdir -p "$work"
# A run that stops before its verdicts leaves none: make test must not count old ones.
rm -f "$out"/*.summary "$report"

step "generating the series from the tree"
python3 "$here/patches.py" "$KSRC" "$out" "$work/series-repo"
[ "${1:-}" = series ] && exit 0

results=()
result() { # name ok|FAILED detail
	results+=("  patches $2: $1${3:+ ($3)}")
	printf '  patches %s: %s%s\n' "$2" "$1" "${3:+ ($3)}"
}
elapsed() { echo "$(($(date +%s) - $1)) s"; }

# A git tree of the pristine source, made once (about a minute) and reset each run.
if [ ! -f "$tree/.git/xrs-base" ]; then
	step "making a git tree of pristine Linux $KVER in $tree (once)"
	rm -rf "$tree"
	cp -a "$KSRC" "$tree"
	rm -f "$tree/.unpacked"
	git -C "$tree" init -q
	git -C "$tree" add -f -A  # Debian's source ignores its top level
	git -C "$tree" -c user.name=base -c user.email=base@localhost commit -q -m "Linux $KVER"
	git -C "$tree" rev-parse HEAD >"$tree/.git/xrs-base"
fi
base=$(cat "$tree/.git/xrs-base")
git -C "$tree" am --abort >/dev/null 2>&1 || true
git -C "$tree" checkout -q -f --detach "$base"
git -C "$tree" clean -q -fdx

step "git am of the series onto Linux $KVER"
mapfile -t patches < <(find "$out" -name '0*.patch' ! -name '0000-*' | sort)
if git -C "$tree" -c user.name=check -c user.email=check@localhost am -q "${patches[@]}" \
	>"$out/am.log" 2>&1; then
	result applies ok "${#patches[@]} patches"
else
	result applies FAILED "$(tail -3 "$out/am.log" | tr '\n' ' ')"
	git -C "$tree" am --abort || true
fi
mapfile -t commits < <(git -C "$tree" rev-list --reverse "$base..HEAD")

step "checkpatch.pl --strict on each patch"
bad=0
for p in "${patches[@]}"; do
	log="$out/checkpatch-$(basename "$p" .patch).log"
	# Debian's python3 first: spdxcheck.py needs its python3-ply and python3-git.
	if ! (cd "$tree" && PATH="/usr/bin:$PATH" scripts/checkpatch.pl --strict --color=never \
		"$p") >"$log" 2>&1 || grep -q Traceback "$log"; then
		bad=$((bad + 1))
		echo "    $(basename "$p"): $(grep -E '^total:' "$log")" >&2
		grep -E '^(ERROR|WARNING|CHECK):' "$log" | sort | uniq -c | head -5 >&2
	fi
done
if [ $bad = 0 ]; then result checkpatch ok "${#patches[@]} patches, no error, warning or check"
else result checkpatch FAILED "$bad patches with findings, see $out/checkpatch-*.log"; fi

# configure FRAGMENT: the test kernel's configuration, then the fragment, in $bdir.
configure() {
	mkdir -p "$bdir"
	"${KMAKE[@]}" -C "$tree" O="$bdir" allnoconfig >/dev/null
	(cd "$bdir" && KCONFIG_CONFIG=.config "$tree/scripts/kconfig/merge_config.sh" -m -O "$bdir" \
		.config "$here/config/test.config" "$1" >/dev/null 2>&1)
	"${KMAKE[@]}" -C "$tree" O="$bdir" olddefconfig >/dev/null
}
# build LABEL [MAKE ARGS...]: Image and modules, or what the arguments name; a warning
# fails it.
build() {
	local s=$(date +%s) label=$1 log="$out/build-$1.log"
	shift
	[ $# -gt 0 ] || set -- Image modules
	if ! make ARCH=arm64 LLVM=-19 -C "$tree" O="$bdir" -j"$JOBS" "$@" >"$log" 2>&1; then
		grep -E 'error' "$log" | head -20 >&2
		return 1
	fi
	if grep -E '^(warning|error)|: warning:' "$log" | grep -qvE 'Makefile|modpost'; then
		grep -B2 -A8 -E '^warning|: warning:' "$log" | head -40 >&2
		return 1
	fi
	echo "    built ($label: $*) in $(elapsed "$s")" >&2
}
# has OPTION=VALUE...: each is in the configuration.
has() {
	local o
	for o in "$@"; do grep -qx "$o" "$bdir/.config" || { echo "$o missing"; return 1; }; done
}

stack="XEN_SWIOTLB_RUST XEN_PRIVCMD_RUST XENFS_RUST XEN_GNTDEV_RUST XEN_GNTALLOC_RUST"
tests="XEN_RUST_KUNIT_TEST XEN_SWIOTLB_RUST_KUNIT_TEST XEN_PRIVCMD_RUST_KUNIT_TEST"
frag() { # =y or =m of the stack
	printf '%s\n' CONFIG_XEN_PRIVCMD=n CONFIG_XENFS=n CONFIG_XEN_GNTDEV=n \
		CONFIG_XEN_GRANT_DEV_ALLOC=n CONFIG_RUST_XEN_ABSTRACTIONS=y
	for o in $stack $tests; do echo "CONFIG_$o=$1"; done
}
frag y >"$out/stack-y.config"
frag m >"$out/stack-m.config"

step "building each patch in turn, the stack built in (=y), in $bdir"
n=0 pp_ok=1
for c in "${commits[@]}"; do
	n=$((n + 1))
	git -C "$tree" checkout -q --detach "$c"
	configure "$out/stack-y.config"
	# The directories the series touches; the last patch builds the whole kernel.
	targets=(rust/ drivers/xen/)
	[ $n = ${#commits[@]} ] && targets=(Image modules)
	if ! build "patch-$n" "${targets[@]}"; then
		pp_ok=0
		result "per-patch build" FAILED "patch $n: $(git -C "$tree" log -1 --format=%s)"
		break
	fi
done
[ $pp_ok = 1 ] && result "per-patch build" ok "${#commits[@]} patches"

if [ $pp_ok = 1 ]; then
	if m=$(has $(printf 'CONFIG_%s=y ' $stack $tests)); then
		result "=y build" ok "$(wc -l <"$bdir/modules.order") modules besides; the stack in vmlinux"
		cp "$bdir/arch/arm64/boot/Image" "$out/Image-builtin"
	else
		result "=y build" FAILED "$m"
	fi

	step "the stack as modules (=m)"
	configure "$out/stack-m.config"
	if build m && m=$(has $(printf 'CONFIG_%s=m ' $stack $tests)); then
		result "=m build" ok "$(grep -c 'drivers/xen/rust/' "$bdir/modules.order") modules in drivers/xen/rust"
	else
		result "=m build" FAILED "${m:-see $out/build-m.log}"
	fi

	step "rustfmtcheck, CLIPPY=1, rustdoc"
	if "${KMAKE[@]}" -C "$tree" O="$bdir" rustfmtcheck >"$out/rustfmtcheck.log" 2>&1; then
		result rustfmtcheck ok
	else result rustfmtcheck FAILED "see $out/rustfmtcheck.log"; fi
	if build clippy CLIPPY=1 rust/ drivers/xen/; then result "CLIPPY=1" ok
	else result "CLIPPY=1" FAILED "see $out/build-clippy.log"; fi
	rm -rf "$bdir/Documentation/output/rust/rustdoc"
	if "${KMAKE[@]}" -C "$tree" O="$bdir" -j"$JOBS" rustdoc >"$out/rustdoc.log" 2>&1 &&
		! grep -q 'warning' "$out/rustdoc.log"; then
		result rustdoc ok "$(find "$bdir/Documentation/output/rust/rustdoc/kernel/xen" -name '*.html' | wc -l) pages for kernel::xen"
	else result rustdoc FAILED "see $out/rustdoc.log"; fi
fi

if [ -f "$out/Image-builtin" ]; then
	step "booting the =y kernel as Dom0 under Xen (log: $out/builtin-xen.log)"
	"$here/builtin-boot.sh" "$out/Image-builtin" "$out/builtin-xen.log"
	python3 "$here/builtin_verdict.py" "$out/builtin-xen.log" >"$out/builtin-xen.summary" || true
	sed '$d' "$out/builtin-xen.summary"
	l=$(tail -1 "$out/builtin-xen.summary")
	case "$l" in *" 0 failed"*) result boot ok "$l" ;; *) result boot FAILED "$l" ;; esac

	step "booting the =y kernel on QEMU raspi4b, the seed's way (log: $out/builtin-rpi4.log)"
	# The SD-only card of make rpi4 with this kernel. The built-in xen-swiotlb attaches to
	# the board's SD controllers and DMA engine at boot, before their drivers probe, and
	# the built-in xen_swiotlb_board suite runs on them; Xen's toolstack comes up on the
	# built-in devices (init's report mode).
	devs=fe300000.mmc,fe340000.mmc,fe007000.dma-controller
	args="console=hvc0 rdinit=/init xrs.mode=report clk_ignore_unused panic=-1"
	args+=" xen_swiotlb_rs.devices=$devs$(module_args) xen_swiotlb_test.board_devices=$devs"
	args+=" kunit.filter_glob=xen_swiotlb_board"
	RPI4_OUT="$out/rpi4" RPI4_KERNEL="$out/Image-builtin" RPI4_INITRD="$out/builtin.cpio.gz" \
		RPI4_DOM0_BOOTARGS="$args" "$here/rpi4.sh" >"$out/rpi4-files.log" 2>&1 || true
	"$here/rpi4-boot.sh" "$out/rpi4" "$out/builtin-rpi4.log"
	python3 "$here/builtin_verdict.py" --rpi4 "$out/builtin-rpi4.log" \
		>"$out/builtin-rpi4.summary" || true
	sed '$d' "$out/builtin-rpi4.summary"
	l=$(tail -1 "$out/builtin-rpi4.summary")
	case "$l" in *" 0 failed"*) result "raspi4b boot" ok "$l" ;; *) result "raspi4b boot" FAILED "$l" ;; esac
else
	result boot FAILED "no =y kernel"
	echo "builtin-xen: 0 passed, 1 failed, 0 skipped" >"$out/builtin-xen.summary"
	echo "builtin-rpi4: 0 passed, 1 failed, 0 skipped" >"$out/builtin-rpi4.summary"
fi
{
	printf '%s\n' "${results[@]}"
	echo "patches: $(grep -c ' ok: ' <(printf '%s\n' "${results[@]}")) passed, $(grep -c ' FAILED: ' <(printf '%s\n' "${results[@]}")) failed, 0 skipped"
} >"$out/patches.summary"

{
	echo "Series: $(ls "$out"/0*.patch | wc -l) files (cover letter and ${#patches[@]} patches) against Linux $KVER"
	for p in "$out"/0*.patch; do
		printf '  %s: %s\n' "$(basename "$p")" \
			"$(grep -E '^ [0-9]+ files? changed' "$p" || echo 'cover letter')"
	done
	printf '%s\n' "${results[@]}"
	echo "total: $(elapsed "$t0")"
} >"$report"
cat "$report"
! grep -q FAILED "$report"
