#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks that every deliberate difference the differential KUnit suite accepts is
documented: each `id: "..."` of `KNOWN` in swiotlb_xen/test/differential.rs must be a heading
or list entry of Documentation/swiotlb.md, and each `diff-...` name there must be one the
suite knows (a stale entry is a failure too).

usage: doc_check.py TOP
Prints one line per difference, then "docs: N passed, N failed, 0 skipped".
"""

import re
import sys


def main() -> int:
    top = sys.argv[1]
    with open(f"{top}/swiotlb_xen/test/differential.rs") as f:
        src = f.read()
    known = src[src.index("const KNOWN: &[Known]"):]
    ids = re.findall(r'id: "([a-z0-9-]+)"', known)
    with open(f"{top}/Documentation/swiotlb.md") as f:
        doc = f.read()
    documented = set(re.findall(r"`(diff-[a-z0-9-]+)`", doc))
    checks = [(f"{i} is documented", i in documented) for i in ids]
    checks += [(f"{d} is a difference the suite knows", d in ids) for d in sorted(documented)]
    checks.append(("the suite knows at least one difference", bool(ids)))
    failed = [c for c in checks if not c[1]]
    for name, ok in checks:
        print(f"  docs {'ok' if ok else 'FAILED'}: {name}")
    print(f"docs: {len(checks) - len(failed)} passed, {len(failed)} failed, 0 skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
