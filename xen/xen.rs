// SPDX-License-Identifier: GPL-2.0

//! The shared Xen core of the Rust Xen stack: what its drivers have in common, written as
//! it would sit in the kernel crate (`rust/kernel/xen/`).
//!
//! - [`dma`]: one type per kind of address and frame, a device's `dma-ranges`, Arm's p2m,
//!   kernel virtual to physical addresses (the `dma/` folder: pure logic, host-tested,
//!   and its kernel glue).
//! - [`hypercall`]: the typed hypercall layer, the one place where `HYPERVISOR_*` are
//!   called, with the argument structures of the Xen ABI.
//! - [`pages`]: an owned block of `1 << order` pages.
//! - [`ffi`]: the C the core reaches: its helpers (`helpers.c`) and undeclared exports.
//!
//! Built as the module `xen_core.ko`. The stack's other modules are compiled against its
//! crate metadata (`--extern xen`); the Rust symbols they use are exported from this
//! module by a list Kbuild generates from their objects (`xen_exports.c`), as Linux
//! builds nova-drm on nova-core.

use kernel::prelude::*;

#[path = "../dma/dma.rs"]
pub mod dma;
pub mod ffi;
pub mod hypercall;
pub mod pages;

module! {
    type: XenCore,
    name: "xen_core",
    authors: ["The Rust Xen stack developers"],
    description: "Shared Xen abstractions of the Rust Xen stack",
    license: "GPL",
}

struct XenCore;

impl kernel::Module for XenCore {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Self)
    }
}
