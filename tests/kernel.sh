#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Configures and builds the arm64 test kernel for a config fragment, incrementally,
# in a build tree under the cache. Prints the build directory on stdout.
#
# usage: tests/kernel.sh [FRAGMENT]   (default: tests/config/test.config)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

frag=$(realpath "${1:-$here/config/test.config}")
out=$(kbuild_dir "$frag")
[ -f "$KSRC/.unpacked" ] || die "kernel source missing in $KSRC: run tests/setup.sh"

mkdir -p "$out"
if [ ! -f "$out/.config-done" ]; then
	step "configuring $(basename "$frag") in $out"
	"${KMAKE[@]}" -C "$KSRC" O="$out" allnoconfig >/dev/null
	(cd "$out" && KCONFIG_CONFIG=.config "$KSRC/scripts/kconfig/merge_config.sh" \
		-m -O "$out" .config "$frag" >/dev/null)
	"${KMAKE[@]}" -C "$KSRC" O="$out" olddefconfig >/dev/null
	# Every option the fragment asks for must have taken effect.
	bad=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=n) opt=${line%%=*}
			if grep -q "^$opt=" "$out/.config"; then
				echo "config: $opt should be off" >&2; bad=1
			fi ;;
		CONFIG_*) grep -qxF "$line" "$out/.config" ||
			{ echo "config: wanted $line, got: $(grep "^${line%%=*}=" "$out/.config" || echo 'not set (missing dependency?)')" >&2; bad=1; } ;;
		esac
	done <"$frag"
	[ $bad = 0 ] || die "the kernel config does not match $(basename "$frag")"
	"${KMAKE[@]}" -C "$KSRC" O="$out" rustavailable >/dev/null ||
		die "Rust is not available to the kernel build (see 'make rustavailable')"
	touch "$out/.config-done"
fi

step "building Linux $KVER (arm64, LLVM=-19, -j$JOBS) in $out"
start=$(date +%s)
# Quiet Kbuild output ("  CC  file") to the log; a progress line every minute.
make ARCH=arm64 LLVM=-19 -C "$KSRC" O="$out" -j"$JOBS" Image modules >"$out/build.log" 2>&1 &
pid=$!
while ! wait_for "$pid" 60; do
	printf '    %4d s: %5d build steps, now: %s\n' "$(( $(date +%s) - start ))" \
		"$(grep -c '^  [A-Z]' "$out/build.log")" "$(tail -1 "$out/build.log" | cut -c1-70)" >&2
done
wait "$pid" ||
	{ grep -E 'error|Error' "$out/build.log" | head -30; die "kernel build failed: $out/build.log"; }
step "kernel ready in $(( $(date +%s) - start )) s"
echo "$out"
