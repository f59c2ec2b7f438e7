// SPDX-License-Identifier: GPL-2.0

//! KUnit suites of the `dma/` translation core, run against the live kernel.
//!
//! Loading this module runs the suites `xen_dma_ranges` (Raspberry Pi 4 `dma-ranges`
//! from a device-tree overlay, compared with the kernel's `phys_to_dma`), `xen_dma_p2m`
//! (the kernel's p2m, straddle and alignment checks) and `xen_dma_virt` (linear-map and
//! vmalloc addresses). The module does nothing else.

use kernel::prelude::*;

#[path = "dma.rs"]
pub mod dma;

module! {
    type: XenDmaTest,
    name: "xen_dma_test",
    authors: ["The Rust Xen stack developers"],
    description: "KUnit suites of the typed DMA/Xen address translation core",
    license: "GPL",
}

struct XenDmaTest;

impl kernel::Module for XenDmaTest {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Self)
    }
}
