#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The checks the kernel gives: rustfmt (kernel settings), clippy on the host crates,
# CLIPPY=1 on the modules (undocumented unsafe blocks and the kernel's lint set), rustdoc
# on the host crates, checkpatch --strict on every source file.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
top=$(dirname "$here")
cd "$top"
bad=0

step "rustfmt"
cargo fmt --all --check || bad=1
mapfile -t roots < <(grep -lE '^module! \{' --include='*.rs' -r xen dma swiotlb_xen grant drivers 2>/dev/null || true)
[ ${#roots[@]} = 0 ] || rustfmt --check --edition 2021 "${roots[@]}" || bad=1

step "clippy (host) and rustdoc (host)"
cargo clippy --workspace --all-targets --locked -- -D warnings || bad=1
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet || bad=1

step "CLIPPY=1 module build"
KDIR=${KDIR:-$("$here/kernel.sh")}
find xen dma swiotlb_xen drivers -name '*.o' -delete
log=$("${KMAKE[@]}" -C "$KDIR" M="$top" CLIPPY=1 modules 2>&1) || { echo "$log"; bad=1; }
if echo "$log" | grep -qE '^(warning|error)'; then echo "$log"; bad=1; fi

step "checkpatch --strict"
mapfile -t files < <(git ls-files '*.rs' '*.c' '*.h')
cp_out=$(for f in "${files[@]}"; do
	"$KSRC/scripts/checkpatch.pl" --no-tree --terse --strict -f "$f" |
		grep -vE '^total: 0 errors, 0 warnings, 0 checks' || true
done)
if [ -n "$cp_out" ]; then
	echo "$cp_out"
	bad=1
fi

[ $bad = 0 ] && step "lint clean"
exit $bad
