#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Set-up, test kernel, then the stack's modules (make -C $KDIR M=$PWD). Prints the kernel
# build directory on stdout. KDIR may point at another configured arm64 tree.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
top=$(dirname "$here")

"$here/setup.sh"
if [ -z "${KDIR:-}" ]; then
	KDIR=$("$here/kernel.sh")
fi
step "building the Rust Xen stack modules against $KDIR"
"${KMAKE[@]}" -C "$KDIR" M="$top" -j"$JOBS" modules >&2
echo "$KDIR"
