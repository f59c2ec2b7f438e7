// SPDX-License-Identifier: GPL-2.0

//! Kernel side of the `dma/` core: where the pure translation meets the running kernel.
//!
//! - [`device`]: a device's `dma_range_map`, as the kernel's OF code built it.
//! - [`p2m`]: the kernel's p2m (`pfn_to_bfn`), as the [`super::xen::P2m`] trait.
//! - [`virt`]: the kernel's virtual memory layout and page-table walk.
//!
//! Inline C helpers are reached through `dma_helpers.c` (see [`ffi`]).

pub mod device;
pub mod ffi;
pub mod p2m;
pub mod virt;

#[cfg(CONFIG_KUNIT = "y")]
pub mod fixture;
