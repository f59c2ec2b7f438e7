// SPDX-License-Identifier: GPL-2.0

//! Typed address translation for DMA in a Xen guest.
//!
//! Pure logic, free of kernel bindings: it builds into the kernel modules of the stack and
//! on the host, where `cargo test` checks it against reference models.
//!
//! - [`addr`]: one type per kind of address and frame number.
//! - [`ranges`]: a device's `dma-ranges` (`phys_to_dma`, `dma_to_phys`, reachability).
//! - [`xen`]: the p2m step and swiotlb-xen's straddle and alignment checks.
//! - [`virt`]: kernel virtual addresses to physical ones, linear map and vmalloc alike.

pub mod addr;
pub mod ranges;
pub mod virt;
pub mod xen;

#[cfg(CONFIG_RUST)]
pub mod glue;
