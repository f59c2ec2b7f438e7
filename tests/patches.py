#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The upstream patch series, generated from this tree (make patches).

usage: patches.py KSRC OUTDIR WORKDIR

KSRC is a pristine Linux 7.3.4 source; the series is written to OUTDIR as `git
format-patch` files with a cover letter. WORKDIR is scratch: a small git repository that
holds only the files the series touches, at 7.3.4 and then after each patch (format-patch
needs no more: a diff's blob ids are those of the full tree).

The tree's layout is mapped onto the kernel's (the table in PLACES): the shared core
becomes `kernel::xen` in the kernel crate (rust/kernel/xen.rs and rust/kernel/xen/), its C
helpers rust/helpers/xen.c, its headers go into rust/bindings/bindings_helper.h; every
module goes under drivers/xen/rust/, built by one Makefile, as nova-drm is on nova-core.
The few rewrites this needs are mechanical and listed in the functions below (paths of
the core's own items, `xen::` to `kernel::xen::`, the module shell of the core). Nothing
of the series is edited by hand: rerun this after every change.
"""

import os
import re
import shutil
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KVER = "7.3.4"

# --- where each source file goes --------------------------------------------------------

CORE_FILES = {
    # the core's root and modules
    "xen/xen.rs": "rust/kernel/xen.rs",
    **{f"xen/{m}.rs": f"rust/kernel/xen/{m}.rs" for m in (
        "domain", "domid", "evtchn", "ffi", "hypercall", "misc", "pages",
        "uapi", "user", "vma")},
    "dma/dma.rs": "rust/kernel/xen/dma.rs",
    **{f"dma/{m}.rs": f"rust/kernel/xen/dma/{m}.rs" for m in (
        "addr", "ranges", "virt", "xen", "glue")},
    **{f"dma/glue/{m}.rs": f"rust/kernel/xen/dma/glue/{m}.rs" for m in (
        "device", "fixture", "p2m", "virt")},
    "dma/rpi4_dma.dtso": "rust/kernel/xen/dma/rpi4_dma.dtso",
    "grant/grant.rs": "rust/kernel/xen/grant.rs",
    "xen/helpers.c": "rust/helpers/xen.c",
}


def driver_files(src_dir, dst_dir, names):
    return {f"{src_dir}/{n}": f"{dst_dir}/{n}" for n in names}


R = "drivers/xen/rust"
CORE_TEST = driver_files("xen/test", f"{R}/core_test", [
    "xen_core_test.rs", "ffi.rs", "grant.rs", "p2m.rs", "ranges.rs", "virt.rs", "helpers.c",
    "helpers.h"])
SWIOTLB = driver_files("swiotlb_xen", f"{R}/swiotlb", [
    "xen_swiotlb.rs", "swiotlb.rs", "atomic_pool.rs", "cache_flush.rs", "coherent.rs",
    "decide.rs", "pool.rs", "attach.rs", "cache.rs", "dma_ops.rs", "memory.rs", "ops.rs",
    "params.c", "xen_swiotlb_exports.c"])
SWIOTLB_TEST = driver_files("swiotlb_xen/test", f"{R}/swiotlb/test", [
    "xen_swiotlb_test.rs", "bench.rs", "board.rs", "contract.rs", "differential.rs",
    "engine.rs", "ffi.rs", "testing.rs", "helpers.c", "helpers.h"])
PRIVCMD = driver_files("drivers/privcmd", f"{R}/privcmd", [
    "xen_privcmd.rs", "abi.rs", "hypercall_buf.rs", "privcmd.rs", "xen_privcmd_exports.c"])
PRIVCMD_TEST = driver_files("drivers/privcmd/test", f"{R}/privcmd/test", [
    "xen_privcmd_test.rs", "helpers.c", "helpers.h"])
XENFS = driver_files("drivers/xenfs", f"{R}/xenfs", ["xen_xenfs.rs"])
GNTDEV = driver_files("drivers/gntdev", f"{R}/gntdev", ["xen_gntdev.rs", "abi.rs", "gntdev.rs"])
GNTALLOC = driver_files("drivers/gntalloc", f"{R}/gntalloc", [
    "xen_gntalloc.rs", "abi.rs", "gntalloc.rs"])
DOC = {"Documentation/xen-rust.rst": "Documentation/driver-api/xen-rust.rst"}

# Files of this tree the series leaves out, and why (the check below fails on a file that
# is in neither list, so a new source file is never silently dropped).
LEFT_OUT = {
    "dma/host.rs": "host (cargo) build of the pure logic",
    "swiotlb_xen/host.rs": "host (cargo) build of the pure logic",
    "drivers/privcmd/host.rs": "host (cargo) build of the pure logic",
    "drivers/gntdev/host.rs": "host (cargo) build of the pure logic",
    "drivers/gntalloc/host.rs": "host (cargo) build of the pure logic",
    "xen/xen_exports.c": "out-of-tree export list; the kernel crate exports its own symbols",
    "xen/helpers.h": "prototypes for the out-of-tree helpers; rust/helpers/ has none",
    "xen/bindings.h": "becomes part of rust/bindings/bindings_helper.h",
    "xen/bindings.rs": "the kernel's bindings have Xen's headers: crate::bindings",
    "swiotlb_xen/stress/": "the out-of-tree unload-under-load harness (make test)",
}


# --- rewrites --------------------------------------------------------------------------

def core_rs(text, path):
    """A core file inside the kernel crate: its own items are under crate::xen, the
    kernel's under crate."""
    text = re.sub(r"\bcrate::", "crate::xen::", text)
    # The core's bindings (xen/bindings.h) are the kernel's in tree.
    text = text.replace("crate::xen::bindings", "crate::bindings")
    text = re.sub(r"(?<![\w:])kernel::", "crate::", text)
    text = text.replace("`xen/helpers.c`", "`rust/helpers/xen.c`")
    if path == "rust/kernel/xen.rs":
        # The module shell of xen_core.ko goes; the kernel crate is the core's home.
        text = must_sub(r"\nmodule! \{.*", "\n", text, flags=re.S).rstrip() + "\n"
        text = must_sub(r'#\[path = "[^"]*"\]\n', "", text)
        text = must_replace(text, "use crate::prelude::*;\n\n", "")
        text = must_sub(r"//!\n//! Built as the module `xen_core.ko`.*?\n(?=\n)",
                        "//!\n//! C headers: [`include/xen/`](srctree/include/xen/).", text,
                        flags=re.S)
        for old, new in ROOT_DOC:
            text = must_replace(text, old, new)
        text = text.replace("//! C headers: [`include/xen/`](srctree/include/xen/).\n",
                            "//! C headers: [`include/xen/`](srctree/include/xen/).\n\n")
    if path == "rust/kernel/xen/dma/glue/fixture.rs":
        text = must_replace(
            text, 'include_bytes!("../rpi4_dma.dtbo")',
            'include_bytes!(concat!(\n    env!("OBJTREE"),\n'
            '    "/rust/kernel/xen/dma/rpi4_dma.dtbo"\n))')
    return text


# The root's documentation, where it speaks of this tree's layout.
ROOT_DOC = [
    ("The shared Xen core of the Rust Xen stack: what its drivers have in common, written as\n"
     "//! it would sit in the kernel crate (`rust/kernel/xen/`).",
     "Xen abstractions: what the Rust Xen drivers (`drivers/xen/rust/`) have in common."),
    (" (the `dma/` folder: pure logic, host-tested,\n//!   and its kernel glue).",
     " (pure logic, and its glue to\n//!   the kernel)."),
    ("//! - [`bindings`]: what the kernel crate's bindings lack (Xen's headers and a few\n"
     "//!   others), generated by the module's own bindgen step.\n", ""),
    ("pub mod bindings;\n", ""),
    (" (the `grant/` folder)", ""),
    ("its helpers (`helpers.c`) and undeclared exports.",
     "its helpers\n//!   (`rust/helpers/xen.c`) and undeclared exports."),
]


def must_replace(text, old, new):
    """A rewrite whose text must be there: a source change that breaks it stops the
    generator instead of leaving out-of-tree wording in the series."""
    if old not in text:
        sys.exit(f"patches.py: text to rewrite not found (the source changed?): {old!r}")
    return text.replace(old, new)


def must_sub(pattern, repl, text, flags=0):
    """re.sub that must match, for the same reason."""
    text, n = re.subn(pattern, repl, text, flags=flags)
    if n == 0:
        sys.exit(f"patches.py: pattern to rewrite not found (the source changed?): {pattern!r}")
    return text


def core_helpers_c(text):
    """rust/helpers/xen.c: the helpers as rust/helpers/ writes them."""
    text = must_replace(text, '\n#include "helpers.h"\n\n', "\n")
    text = re.sub(r"^(?=[a-z][\w ]*\**\s*\**rust_helper_\w+\()", "__rust_helper ", text,
                  flags=re.M)
    # A wrapped parameter list keeps its alignment under the longer first line.
    lines = text.split("\n")
    for i, l in enumerate(lines):
        if l.startswith("__rust_helper ") and not l.rstrip().endswith(")"):
            j = i + 1
            while j < len(lines) and lines[j].startswith("\t"):
                lines[j] = re.sub(r"^\t+ *", "", lines[j])
                lines[j] = " " * (l.index("(") + 1) + lines[j]
                lines[j] = re.sub(r"^( {8})+", lambda m: "\t" * (len(m.group(0)) // 8),
                                  lines[j])
                if lines[j].rstrip().endswith(")"):
                    break
                j += 1
    text = "\n".join(lines)
    text = must_sub(r"/\*\n \* The header inlines.*?\*/\n",
                    "/*\n * Header inlines and macros used by the Rust Xen abstractions "
                    "(rust/kernel/xen/).\n */\n", text, flags=re.S)
    return text


def driver_rs(text, _path):
    """A driver or test crate: the core is kernel::xen, its bindings the kernel's."""
    text = re.sub(r"(?<![\w:])(::)?xen::bindings\b", "kernel::bindings", text)
    # Paths into the core's modules only: `xen` is also a local name of the core's
    # dma::xen module in some files.
    mods = "dma|domain|domid|evtchn|ffi|grant|hypercall|misc|pages|uapi|user|vma"
    return re.sub(r"(?<![\w:])(::)?xen::(?=(" + mods + r")\b)", "kernel::xen::", text)


def driver_c(text):
    if "exports_generated.h" in text:
        # The export shims: their comment tells of the out-of-tree build.
        text = must_sub(r"/\*\n.*?\*/", "/*\n * Exports the Rust symbols of this crate that "
                        "the crates built on it use; the\n * list is generated from their "
                        "objects (drivers/xen/rust/Makefile).\n */", text, flags=re.S)
    return text


def read(path):
    with open(os.path.join(TOP, path)) as f:
        return f.read()


def place(files, rewrite_rs, rewrite_c=lambda t: t):
    out = {}
    for src, dst in files.items():
        text = read(src)
        if dst.endswith(".rs"):
            text = rewrite_rs(text, dst)
        elif dst.endswith((".c", ".h")):
            text = rewrite_c(text)
        out[dst] = text
    return out


# --- the kernel files the series extends ------------------------------------------------

def bindings_helper(base):
    """Xen's headers (and the few generic ones the stack needs) in the kernel's bindings."""
    inc = [l for l in read("xen/bindings.h").splitlines() if l.startswith("#include")]
    have = set(base.splitlines())
    add = [l for l in inc if l not in have]
    block = ("\n#if IS_ENABLED(CONFIG_RUST_XEN_ABSTRACTIONS)\n" + "\n".join(add) +
             "\n#endif\n")
    anchor = "\n/* `bindgen` gets confused"
    if anchor not in base:
        sys.exit("bindings_helper.h: anchor not found (a new kernel version?)")
    return base.replace(anchor, block + anchor, 1)


def helpers_c(base):
    lines = base.split("\n")
    incs = [i for i, l in enumerate(lines) if re.match(r'#include "[\w/-]+\.c"', l)]
    for i in incs:
        if lines[i] > '#include "xen.c"':
            lines.insert(i, '#include "xen.c"')
            return "\n".join(lines)
    lines.insert(incs[-1] + 1, '#include "xen.c"')
    return "\n".join(lines)


def lib_rs(base):
    lines = base.split("\n")
    for i, l in enumerate(lines):
        m = re.match(r"pub mod (\w+);", l)
        if m and m.group(1) > "xen":
            j = i
            while lines[j - 1].startswith("#["):
                j -= 1
            lines[j:j] = ["#[cfg(CONFIG_RUST_XEN_ABSTRACTIONS)]", "pub mod xen;"]
            return "\n".join(lines)
    last = max(i for i, l in enumerate(lines) if re.match(r"pub mod \w+;", l))
    lines[last + 1:last + 1] = ["#[cfg(CONFIG_RUST_XEN_ABSTRACTIONS)]", "pub mod xen;"]
    return "\n".join(lines)


RUST_MAKEFILE_RULE = """
ifeq ($(CONFIG_RUST_XEN_ABSTRACTIONS)$(CONFIG_KUNIT)$(CONFIG_OF_OVERLAY),yyy)
# The Raspberry Pi 4 overlay of the Xen abstractions' KUnit fixture
# (rust/kernel/xen/dma/glue/fixture.rs); OF_OVERLAY builds scripts/dtc.
quiet_cmd_dtc_xen = DTC     $@
      cmd_dtc_xen = mkdir -p $(dir $@) && \\
		$(objtree)/scripts/dtc/dtc -q -I dts -O dtb -o $@ $<
$(obj)/kernel/xen/dma/rpi4_dma.dtbo: $(src)/kernel/xen/dma/rpi4_dma.dtso FORCE
	$(call if_changed,dtc_xen)
targets += kernel/xen/dma/rpi4_dma.dtbo
$(obj)/kernel.o: $(obj)/kernel/xen/dma/rpi4_dma.dtbo
endif
"""


def rust_makefile(base):
    anchor = "\n$(obj)/kernel.o: "
    if anchor not in base:
        sys.exit("rust/Makefile: anchor not found")
    i = base.index(anchor)
    return base[:i] + "\n" + RUST_MAKEFILE_RULE.rstrip("\n") + base[i:]


def xen_kconfig(base):
    """drivers/xen/Kconfig sources the Rust drivers' Kconfig last in its menu."""
    if not base.rstrip().endswith("endmenu"):
        sys.exit("drivers/xen/Kconfig: no closing endmenu (a new kernel version?)")
    return base.rstrip().removesuffix("endmenu").rstrip("\n") + \
        '\n\nsource "drivers/xen/rust/Kconfig"\n\nendmenu\n'


def xen_makefile(base):
    return base.rstrip("\n") + "\nobj-y\t\t\t\t\t+= rust/\n"


def driver_api_index(base):
    lines = base.split("\n")
    for i, l in enumerate(lines):
        if re.match(r"   [a-z]", l) and l.strip() > "xen-rust" and \
                lines[i - 1].startswith("   "):
            lines.insert(i, "   xen-rust")
            return "\n".join(lines)
    sys.exit("driver-api/index.rst: no place for xen-rust")


def maintainers(base, files):
    title = "XEN RUST ABSTRACTIONS AND DRIVERS"
    entry = [title,
             "M:\t" + IDENT,
             "L:\txen-devel@lists.xenproject.org (moderated for non-subscribers)",
             "L:\trust-for-linux@vger.kernel.org",
             "S:\tMaintained"] + [f"F:\t{f}" for f in sorted(files)]
    blocks = base.split("\n\n")
    for i, b in enumerate(blocks):
        head = b.split("\n", 1)[0]
        if head.startswith("XEN ") and head > title:
            blocks.insert(i, "\n".join(entry))
            return "\n\n".join(blocks)
    sys.exit("MAINTAINERS: no place for the entry")


# --- the Kbuild of drivers/xen/rust/ ----------------------------------------------------

MAKEFILE_HEAD = """\
# SPDX-License-Identifier: GPL-2.0
#
# The Rust Xen drivers. One Makefile builds them all, so that a crate built on another
# crate (xenfs on privcmd, the xen-swiotlb tests on xen-swiotlb) can name it as a plain
# Make prerequisite, as drivers/gpu/Makefile does for nova-drm on nova-core.

# "extern int sym; EXPORT_SYMBOL_GPL(sym);" for each Rust symbol of $(xen-export-defs) that
# one of $(xen-export-users) references.
quiet_cmd_xen_rust_exports = EXPORTS $@
      cmd_xen_rust_exports = \\
	{ $(NM) -u $(xen-export-users); echo __DEFINED__; \\
	  $(NM) -p --defined-only $(xen-export-defs); } | \\
	awk '/^__DEFINED__$$/ { defs = 1; next } \\
	     !defs { needed[$$NF] = 1; next } \\
	     $$2 ~ /^[TRDB]$$/ && $$3 ~ /^_R/ && $$3 in needed { \\
		printf "extern int %s; EXPORT_SYMBOL_GPL(%s);\\n", $$3, $$3 }' >$@
"""

def exports(d, crate, users):
    """The rules of $(obj)/D/exports_generated.h: the Rust symbols of D/CRATE.o that the
    objects of the Make variable USERS reference, exported by D/CRATE_exports.o."""
    return f"""\
$(obj)/{d}/exports_generated.h: xen-export-defs := $(obj)/{d}/{crate}.o
$(obj)/{d}/exports_generated.h: xen-export-users := $({users})
$(obj)/{d}/exports_generated.h: $(obj)/{d}/{crate}.o $({users}) FORCE
	$(call if_changed,xen_rust_exports)
targets += {d}/exports_generated.h
$(obj)/{d}/{crate}_exports.o: $(obj)/{d}/exports_generated.h
CFLAGS_{d}/{crate}_exports.o := -I $(objtree)/$(obj)/{d}
"""


MAKEFILE_PARTS = {
    "core_test": """
# KUnit suites of the Xen abstractions (kernel::xen), against the kernel's own C.
obj-$(CONFIG_XEN_RUST_KUNIT_TEST) += xen_core_test.o
xen_core_test-y := core_test/xen_core_test.o core_test/helpers.o
""",
    "swiotlb": """
# xen-swiotlb in Rust: crate `xen_swiotlb`; its tests are built on its crate.
obj-$(CONFIG_XEN_SWIOTLB_RUST) += xen_swiotlb_rs.o
xen_swiotlb_rs-y := swiotlb/xen_swiotlb.o swiotlb/params.o swiotlb/xen_swiotlb_exports.o
RUSTFLAGS_swiotlb/xen_swiotlb.o += \\
	--emit=metadata=$(objtree)/$(obj)/swiotlb/libxen_swiotlb.rmeta
xen-swiotlb-users := $(if $(CONFIG_XEN_SWIOTLB_RUST_KUNIT_TEST),\\
	$(obj)/swiotlb/test/xen_swiotlb_test.o $(obj)/swiotlb/test/helpers.o)
""" + exports("swiotlb", "xen_swiotlb", "xen-swiotlb-users"),
    "swiotlb_test": """
obj-$(CONFIG_XEN_SWIOTLB_RUST_KUNIT_TEST) += xen_swiotlb_test.o
xen_swiotlb_test-y := swiotlb/test/xen_swiotlb_test.o swiotlb/test/helpers.o
$(obj)/swiotlb/test/xen_swiotlb_test.o: $(obj)/swiotlb/xen_swiotlb.o
RUSTFLAGS_swiotlb/test/xen_swiotlb_test.o += -L $(objtree)/$(obj)/swiotlb \\
	--extern xen_swiotlb
""",
    "privcmd": """
# privcmd in Rust: crate `xen_privcmd` (/dev/xen/privcmd, /dev/xen/hypercall).
obj-$(CONFIG_XEN_PRIVCMD_RUST) += xen_privcmd_rs.o
xen_privcmd_rs-y := privcmd/xen_privcmd.o privcmd/xen_privcmd_exports.o
RUSTFLAGS_privcmd/xen_privcmd.o += \\
	--emit=metadata=$(objtree)/$(obj)/privcmd/libxen_privcmd.rmeta
xen-privcmd-users := $(if $(CONFIG_XENFS_RUST),$(obj)/xenfs/xen_xenfs.o)
""" + exports("privcmd", "xen_privcmd", "xen-privcmd-users") + """
# privcmd's ABI against C's: the driver's abi.rs compiled into a test module.
obj-$(CONFIG_XEN_PRIVCMD_RUST_KUNIT_TEST) += xen_privcmd_test.o
xen_privcmd_test-y := privcmd/test/xen_privcmd_test.o privcmd/test/helpers.o
""",
    "xenfs": """
# xenfs in Rust: crate `xen_xenfs`, on privcmd's crate.
obj-$(CONFIG_XENFS_RUST) += xen_xenfs_rs.o
xen_xenfs_rs-y := xenfs/xen_xenfs.o
$(obj)/xenfs/xen_xenfs.o: $(obj)/privcmd/xen_privcmd.o
RUSTFLAGS_xenfs/xen_xenfs.o += -L $(objtree)/$(obj)/privcmd --extern xen_privcmd
""",
    "gntdev": """
# gntdev in Rust: crate `xen_gntdev` (/dev/xen/gntdev).
obj-$(CONFIG_XEN_GNTDEV_RUST) += xen_gntdev_rs.o
xen_gntdev_rs-y := gntdev/xen_gntdev.o
""",
    "gntalloc": """
# gntalloc in Rust: crate `xen_gntalloc` (/dev/xen/gntalloc).
obj-$(CONFIG_XEN_GNTALLOC_RUST) += xen_gntalloc_rs.o
xen_gntalloc_rs-y := gntalloc/xen_gntalloc.o
""",
}

KCONFIG_HEAD = """\
# SPDX-License-Identifier: GPL-2.0-only

config RUST_XEN_ABSTRACTIONS
	bool "Rust Xen abstractions"
	depends on RUST && XEN && ARM64
	help
	  The Xen abstractions of the kernel crate (kernel::xen): typed DMA,
	  physical, machine and bus addresses with the conversions between
	  them, hypercalls, the grant layer and event channels, for the Rust
	  Xen drivers below.

	  If unsure, say N.
"""

KCONFIG_PARTS = {
    "core_test": """
config XEN_RUST_KUNIT_TEST
	tristate "KUnit tests for the Rust Xen abstractions" if !KUNIT_ALL_TESTS
	depends on RUST_XEN_ABSTRACTIONS && KUNIT=y && OF_OVERLAY
	default KUNIT_ALL_TESTS
	help
	  KUnit suites of kernel::xen: its address translation compared with
	  the kernel's own C on the same input (on a Raspberry Pi 4 bus
	  described by a device-tree overlay), and the grant layer against
	  the grant table of the running domain.

	  If unsure, say N.
""",
    "swiotlb": """
config XEN_SWIOTLB_RUST
	tristate "Rust xen-swiotlb DMA operations"
	depends on RUST_XEN_ABSTRACTIONS && SWIOTLB
	help
	  DMA operations for devices of the initial domain, written in Rust,
	  that translate each address through the device's dma-ranges and
	  Xen's p2m and bounce what the device cannot reach. They are
	  attached to the devices named by the devices= parameter (on the
	  kernel command line when built in: xen_swiotlb_rs.devices=).

	  If unsure, say N.
""",
    "swiotlb_test": """
config XEN_SWIOTLB_RUST_KUNIT_TEST
	tristate "KUnit tests for the Rust xen-swiotlb" if !KUNIT_ALL_TESTS
	depends on XEN_SWIOTLB_RUST && KUNIT=y && OF_OVERLAY
	default KUNIT_ALL_TESTS
	help
	  KUnit suites of the Rust xen-swiotlb: each path of the ops, the
	  points of the DMA API contract, the same calls through the
	  kernel's ops and the Rust ones compared, and the ops on a
	  Raspberry Pi 4's own devices.

	  If unsure, say N.
""",
    "privcmd": """
config XEN_PRIVCMD_RUST
	tristate "Rust privcmd and hypercall buffer devices"
	depends on RUST_XEN_ABSTRACTIONS && XEN_PRIVCMD=n
	help
	  /dev/xen/privcmd and /dev/xen/hypercall, in Rust, with the ABI of
	  include/uapi/xen/privcmd.h, for Xen's toolstack. An alternative to
	  XEN_PRIVCMD, which registers the same devices.

	  If unsure, say N.

config XEN_PRIVCMD_RUST_KUNIT_TEST
	tristate "KUnit test of the Rust privcmd's ABI" if !KUNIT_ALL_TESTS
	depends on XEN_PRIVCMD_RUST && KUNIT
	default KUNIT_ALL_TESTS
	help
	  Compares every ioctl number, structure size and field offset of
	  the Rust privcmd with what C compiles from
	  include/uapi/xen/privcmd.h, and the error marks of version 1 of
	  MMAPBATCH. It does not need the driver loaded, so it also runs
	  outside Xen.

	  If unsure, say N.
""",
    "xenfs": """
config XENFS_RUST
	tristate "Rust xenfs"
	depends on XEN_PRIVCMD_RUST && XENFS=n
	help
	  The xenfs file system (privcmd, xenbus, capabilities,
	  xsd_kva, xsd_port), in Rust, for toolstacks that mount
	  /proc/xen. An alternative to XENFS.

	  If unsure, say N.
""",
    "gntdev": """
config XEN_GNTDEV_RUST
	tristate "Rust grant device (gntdev)"
	depends on RUST_XEN_ABSTRACTIONS && MMU && XEN_GNTDEV=n
	help
	  /dev/xen/gntdev, in Rust, with the ABI of
	  include/uapi/xen/gntdev.h: user space maps other domains'
	  grants. An alternative to XEN_GNTDEV.

	  If unsure, say N.
""",
    "gntalloc": """
config XEN_GNTALLOC_RUST
	tristate "Rust grant allocation device (gntalloc)"
	depends on RUST_XEN_ABSTRACTIONS && XEN_GRANT_DEV_ALLOC=n
	help
	  /dev/xen/gntalloc, in Rust, with the ABI of
	  include/uapi/xen/gntalloc.h: user space grants its pages to
	  other domains. An alternative to XEN_GRANT_DEV_ALLOC.

	  If unsure, say N.
""",
}

ORDER = ["core_test", "swiotlb", "swiotlb_test", "privcmd", "xenfs", "gntdev", "gntalloc"]


def makefile(parts):
    return MAKEFILE_HEAD + "".join(MAKEFILE_PARTS[p] for p in ORDER if p in parts)


def kconfig(parts):
    return KCONFIG_HEAD + "".join(KCONFIG_PARTS[p] for p in ORDER if p in parts)


# --- the series ---------------------------------------------------------------------------

IDENT = None  # "Name <email>": the author of the tree's last commit

SERIES = [
    ("core", "rust: xen: add Xen abstractions", """\
Linux on Xen has three kinds of address for one page: the guest physical
address the kernel uses, the machine (bus frame) address Xen's p2m maps
it to, and the DMA address a device sees through its dma-ranges. The C
code of drivers/xen and arch/arm/xen keeps all three in phys_addr_t and
dma_addr_t and converts between them by hand. On the Raspberry Pi 4,
where dma-ranges put RAM at bus address 0xc0000000, that took a dozen
fixes where a translation had been left out.

Add kernel::xen, the abstractions the Rust Xen drivers of this series
are written on:

 - xen::dma: one type per kind of address and frame, a device's
   dma-ranges, Arm's p2m and the kernel's virtual memory layout, with
   every conversion a named function; pure logic where possible, with
   the glue to the kernel's dma_range_map and pfn_to_bfn() beside it,
   and a device-tree overlay of a Raspberry Pi 4 bus for KUnit;
 - xen::hypercall: the one place where HYPERVISOR_*() and
   privcmd_call() are called, with the argument structures;
 - xen::grant: grant references that cannot be confused with other
   integers, pages to map foreign grants into, a granted page owned by
   its grant (ending access while the other side maps it goes through
   the deferred release), batches of mapped grants;
 - xen::evtchn, xen::domain, xen::domid, xen::pages, xen::misc,
   xen::vma, xen::user, xen::uapi: event channels, the kind of domain,
   domain ids, page blocks, misc devices with their own file
   operations, VMAs, user copies and the shared uapi encodings.

Xen's headers are added to the bindings, and the header inlines the
abstractions need to rust/helpers/xen.c.
""", lambda st: st.core()),
    ("core_test", "xen: rust: add KUnit tests for the Rust Xen abstractions", """\
The address translation of kernel::xen replaces C that is spread over
dma-direct, the OF code and arch/arm/xen. Test it against that C on the
same input rather than against expected values written by hand: every
case computes the answer both ways, on a Raspberry Pi 4 bus created
from a device-tree overlay (RAM at bus 0xc0000000, first GiB only) and
on the running machine's own memory map.

The grant layer is tested against the grant table of the running
domain: references are never the reserved ones, exhaustion is an
error, and a page still mapped by the other side outlives its grant.
Under Xen the suites run in the initial domain; on bare metal the grant
cases are skipped.
""", lambda st: st.driver(["core_test"], CORE_TEST)),
    ("swiotlb", "xen/swiotlb: add a Rust implementation", """\
swiotlb-xen assumed for years that DMA and physical addresses are the
same; the Raspberry Pi 4 proved otherwise and its support took a series
of fixes that threaded phys_to_dma() and dma_to_phys() through the file.

Add xen-swiotlb in Rust, on kernel::xen's typed addresses: a physical
address cannot be handed to a device, nor a bus frame to the kernel,
without the named conversion. The ops are those of swiotlb-xen
(map_page, map_sg, the syncs, alloc and free, coherent and
non-coherent devices, atomic allocation from a pool of its own); they
are attached to the devices named by the devices= parameter
(xen_swiotlb_rs.devices= on the command line when built in), and a
device keeps a reference on the module while attached.

A debugfs directory reports counters and, for each attached device,
the dma-ranges read from its device tree and the translations applied.

Test every path of the Rust xen-swiotlb with a software DMA engine that
reads and writes only through the bus addresses the ops hand out, so a
wrong translation reads the wrong memory. The points of the DMA API
contract are one case each, and a differential suite makes the same
calls through the kernel's own ops and the Rust ones and compares every
result. A fourth suite runs on a Raspberry Pi 4's own devices when
they are named by board_devices=.

The test module also carries the map+unmap benchmark, run with bench=.
""", lambda st: st.driver(["swiotlb", "swiotlb_test"], {**SWIOTLB, **SWIOTLB_TEST})),
    ("privcmd", "xen/privcmd: add a Rust implementation", """\
Xen's toolstack drives the hypervisor through /dev/xen/privcmd (hypercalls,
foreign mappings, device model ops, resource mappings) and allocates its
hypercall buffers from /dev/xen/hypercall.

Add both devices in Rust on kernel::xen, with the ABI of
include/uapi/xen/privcmd.h. Argument checks are pure functions of the
ABI structures; each bad input returns the errno the C driver returns.
The ioeventfd and irqfd ioctls of the C driver are not implemented and
return -ENOTTY, as C does when they are configured out.

XEN_PRIVCMD_RUST excludes XEN_PRIVCMD: both register the same devices.
A KUnit test compares the Rust ABI with what C compiles from the uapi
header.
""", lambda st: st.driver(["privcmd"], {**PRIVCMD, **PRIVCMD_TEST})),
    ("xenfs", "xen/xenfs: add a Rust implementation", """\
Xen's libraries still look for /proc/xen when /dev/xen is not there,
and xenstored reads xsd_kva and xsd_port from it.

Add xenfs in Rust: privcmd (the Rust privcmd's file operations),
xenbus, capabilities, xsd_kva and xsd_port, mounted as C's xenfs is.
It is built on the Rust privcmd's crate.
""", lambda st: st.driver(["xenfs"], XENFS)),
    ("gntdev", "xen/gntdev: add a Rust implementation", """\
xenstored and the backends in user space map other domains' pages
through /dev/xen/gntdev.

Add gntdev in Rust on kernel::xen's grant layer, with the ABI of
include/uapi/xen/gntdev.h for an auto-translated arm64 domain: map and
unmap of grant references, GET_OFFSET_FOR_VADDR, SET_MAX_GRANTS,
SET_UNMAP_NOTIFY, GRANT_COPY and mmap of mapped grants, torn down on
munmap, partial munmap and exit. The PV-only paths (PTE rewriting, MMU
notifiers) do not apply; the dma-buf ioctls answer -ENOTTY as C does
when they are configured out. Unmap is synchronous
(gnttab_unmap_refs_sync()), so nothing calls back into the module
after it is unloaded.
""", lambda st: st.driver(["gntdev"], GNTDEV)),
    ("gntalloc", "xen/gntalloc: add a Rust implementation", """\
libxengntshr (and through it libxenvchan) grants pages of user space to
other domains through /dev/xen/gntalloc.

Add gntalloc in Rust on kernel::xen's grant layer, with the ABI of
include/uapi/xen/gntalloc.h: ALLOC_GREF, DEALLOC_GREF, SET_UNMAP_NOTIFY
and mmap. A granted page belongs to its grant and lives as long as a
VMA maps it, since the library deallocates right after mmap; ending
access while the other domain maps it goes through the grant table's
deferred release.
""", lambda st: st.driver(["gntalloc"], GNTALLOC)),
    ("doc", "Documentation: xen: describe the Rust Xen drivers", """\
Describe the Rust Xen abstractions and drivers: what each one replaces,
how to configure and attach them, how their tests run, and where they
deliberately differ from the C drivers.
""", lambda st: st.doc()),
]

COVER = """\
The Raspberry Pi 4 was the first Xen on Arm platform whose DMA addresses
differ from physical addresses (its dma-ranges put the first GiB of RAM
at bus address 0xc0000000), and Linux's Xen code had silently assumed
they were the same: making Dom0 work there took a series of fixes that
threaded phys_to_dma() and dma_to_phys() through swiotlb-xen and
arch/arm/xen.

This series adds Rust versions of the Xen drivers of an arm64 Dom0 where
that assumption matters, or where user space reaches Xen: xen-swiotlb,
privcmd with the hypercall buffer device, xenfs, gntdev and gntalloc,
on Xen abstractions in the kernel crate (kernel::xen) that give each
kind of address its own type, so that a missing translation does not
build.

 - Patch 1 adds kernel::xen; patch 2 its KUnit suites, which compare
   each translation with the kernel's own C on a Raspberry Pi 4 bus.
 - Patch 3 adds xen-swiotlb with its KUnit suites (the DMA API
   contract, and a differential suite against the kernel's own ops).
 - Patches 4-7 add privcmd, xenfs, gntdev and gntalloc, each an
   alternative to the C driver that registers the same device (Kconfig
   keeps them apart).
 - Patch 8 documents them.

Each driver returns the C driver's errno on bad input; the
documentation lists the deliberate differences.

Tested on Xen 4.20 in QEMU (virt, and raspi4b booted through U-Boot),
with Xen's own unmodified toolstack (xl create/console/destroy,
xenstored, vchan-socket-proxy) running on these drivers; with the stack
built in and as modules.

Based on v{kver}.
"""


class State:
    """The series' files: the kernel's base versions, then each patch's changes."""

    def __init__(self, ksrc):
        self.ksrc = ksrc
        self.files = {}
        self.parts = []
        # MAINTAINERS' F: lines, one per directory as the patches add them (checkpatch
        # asks of each patch that adds files that it updates MAINTAINERS).
        self.maint = ["rust/helpers/xen.c", "rust/kernel/xen.rs", "rust/kernel/xen/",
                      f"{R}/Kconfig"]

    def base(self, path):
        with open(os.path.join(self.ksrc, path)) as f:
            return f.read()

    def cur(self, path):
        return self.files[path] if path in self.files else self.base(path)

    def set_maintainers(self):
        self.files["MAINTAINERS"] = maintainers(self.base("MAINTAINERS"), self.maint)

    def core(self):
        self.files.update(place({k: v for k, v in CORE_FILES.items() if v.endswith(".rs")
                                 or v.endswith(".dtso")}, core_rs))
        self.files["rust/helpers/xen.c"] = core_helpers_c(read("xen/helpers.c"))
        self.files["rust/helpers/helpers.c"] = helpers_c(self.cur("rust/helpers/helpers.c"))
        self.files["rust/bindings/bindings_helper.h"] = bindings_helper(
            self.cur("rust/bindings/bindings_helper.h"))
        self.files["rust/kernel/lib.rs"] = lib_rs(self.cur("rust/kernel/lib.rs"))
        self.files["rust/Makefile"] = rust_makefile(self.cur("rust/Makefile"))
        self.files["drivers/xen/Kconfig"] = xen_kconfig(self.cur("drivers/xen/Kconfig"))
        self.files[f"{R}/Kconfig"] = kconfig(self.parts)
        self.set_maintainers()

    def driver(self, parts, files):
        if not self.parts:
            self.files["drivers/xen/Makefile"] = xen_makefile(self.cur("drivers/xen/Makefile"))
            self.maint.append(f"{R}/Makefile")
        self.parts += parts
        self.files.update(place(files, driver_rs, driver_c))
        self.files[f"{R}/Makefile"] = makefile(self.parts)
        self.files[f"{R}/Kconfig"] = kconfig(self.parts)
        self.maint += sorted({"/".join(d.split("/")[:4]) + "/" for d in files.values()})
        self.set_maintainers()

    def doc(self):
        self.files.update(place(DOC, None))
        self.files["Documentation/driver-api/index.rst"] = driver_api_index(
            self.cur("Documentation/driver-api/index.rst"))
        self.maint.append("Documentation/driver-api/xen-rust.rst")
        self.set_maintainers()


def check_coverage():
    """Every source file of the stack is in the series or left out for a reason."""
    placed = set(CORE_FILES) | set(CORE_TEST) | set(SWIOTLB) | set(SWIOTLB_TEST) | \
        set(PRIVCMD) | set(PRIVCMD_TEST) | set(XENFS) | set(GNTDEV) | set(GNTALLOC) | \
        set(DOC) | {"xen/bindings.h"}
    tracked = subprocess.run(
        ["git", "-C", TOP, "ls-files", "xen", "dma", "grant", "swiotlb_xen", "drivers"],
        capture_output=True, text=True, check=True).stdout.split()
    missing = []
    for f in tracked:
        if not f.endswith((".rs", ".c", ".h", ".dtso")) or "/tests/" in f:
            continue
        if f in placed or any(f.startswith(k) for k in LEFT_OUT if k.endswith("/")) or \
                f in LEFT_OUT:
            continue
        missing.append(f)
    if missing:
        sys.exit("patches.py: files neither in the series nor left out: " + " ".join(missing))


def git(repo, *args, **kw):
    return subprocess.run(["git", "-C", repo, *args], check=True, text=True,
                          capture_output=True, **kw).stdout


def main():
    global IDENT
    ksrc, outdir, work = (os.path.abspath(a) for a in sys.argv[1:4])
    check_coverage()
    # The author of the tree's last commit signs the series off: the same on every
    # machine, with no git identity of the machine's needed.
    name = git(TOP, "log", "-1", "--format=%an").strip()
    email = git(TOP, "log", "-1", "--format=%ae").strip()
    IDENT = f"{name} <{email}>"
    date = git(TOP, "log", "-1", "--format=%cD").strip()
    env = {**os.environ, "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
           "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email,
           "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}

    # Every patch's files, computed first: the base repository needs all the kernel
    # files any patch touches.
    st = State(ksrc)
    steps = []
    for key, subject, body, fn in SERIES:
        fn(st)
        steps.append((key, subject, body, dict(st.files)))
    touched = sorted({p for _, _, _, files in steps for p in files})

    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    git(work, "init", "-q")
    for p in touched:
        if os.path.exists(os.path.join(ksrc, p)):
            os.makedirs(os.path.dirname(os.path.join(work, p)), exist_ok=True)
            shutil.copyfile(os.path.join(ksrc, p), os.path.join(work, p))
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", f"Linux {KVER}", env=env)
    base = git(work, "rev-parse", "HEAD").strip()

    for key, subject, body, files in steps:
        for p, text in files.items():
            dst = os.path.join(work, p)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, "w") as f:
                f.write(text)
        rustfmt = [os.path.join(work, p) for p in files
                   if p.endswith(".rs") and p != "rust/kernel/lib.rs"]
        subprocess.run(["rustfmt", "--edition", "2021", "--config-path",
                        os.path.join(ksrc, ".rustfmt.toml"), *rustfmt], check=True)
        git(work, "add", "-A")
        msg = f"{subject}\n\n{body}\nSigned-off-by: {IDENT}\n"
        git(work, "commit", "-q", "-F", "-", input=msg, env=env)

    shutil.rmtree(outdir, ignore_errors=True)
    os.makedirs(outdir)
    git(work, "format-patch", "-q", "--cover-letter", "--no-signature", "-o", outdir,
        f"{base}..HEAD", env=env)
    cover = sorted(os.listdir(outdir))[0]
    cpath = os.path.join(outdir, cover)
    with open(cpath) as f:
        text = f.read()
    text = text.replace("*** SUBJECT HERE ***",
                        "Rust Xen drivers for an arm64 Dom0, on typed addresses")
    text = text.replace("*** BLURB HERE ***", COVER.format(kver=KVER).rstrip("\n"))
    with open(cpath, "w") as f:
        f.write(text)
    for p in sorted(os.listdir(outdir)):
        with open(os.path.join(outdir, p)) as f:
            n = sum(1 for l in f if l.startswith(("+", "-")) and
                    not l.startswith(("+++", "---")))
        print(f"{p}: {n} lines changed")


if __name__ == "__main__":
    main()
