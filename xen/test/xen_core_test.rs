// SPDX-License-Identifier: GPL-2.0

//! KUnit suites of the Xen core, run against the live kernel when this module loads:
//! `xen_dma_ranges`, `xen_dma_p2m`, `xen_dma_virt` (the translation, each compared with
//! the kernel's own C on the same input, `helpers.c`) and `xen_grant` (the grant layer
//! against the kernel's grant table and Xen). The module does nothing else.

use kernel::prelude::*;

mod ffi;
mod grant;
mod p2m;
mod ranges;
mod virt;

module! {
    type: XenCoreTest,
    name: "xen_core_test",
    authors: ["The Rust Xen stack developers"],
    description: "KUnit suites of the shared Xen core's address translation",
    license: "GPL",
}

struct XenCoreTest;

impl kernel::Module for XenCoreTest {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Self)
    }
}
