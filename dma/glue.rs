// SPDX-License-Identifier: GPL-2.0

//! Kernel side of the `dma/` core: where the pure translation meets the running kernel.
//!
//! - [`device`]: a device's `dma_range_map`, as the kernel's OF code built it.
//! - [`p2m`]: the kernel's p2m (`pfn_to_bfn`), as the [`super::xen::P2m`] trait.
//! - [`virt`]: the kernel's virtual memory layout and page-table walk.
//! - [`fixture`] (with KUnit built in, and OF overlays): Raspberry Pi 4 buses in the live
//!   device tree, for tests.
//!
//! Inline C is reached through the core's helpers (`crate::ffi`, `xen/helpers.c`).

use crate::ffi;

pub mod device;
pub mod p2m;
pub mod virt;

#[cfg(all(CONFIG_KUNIT = "y", CONFIG_OF_OVERLAY))]
pub mod fixture;
