// SPDX-License-Identifier: GPL-2.0

//! Host build of xen-swiotlb's pure logic, for `cargo test`: the same files the module
//! builds, with the `dma/` core mounted at `crate::dma` as in the module.

#![no_std]

#[path = "../dma/dma.rs"]
pub mod dma;

#[path = "swiotlb.rs"]
mod swiotlb;

pub use swiotlb::*;
