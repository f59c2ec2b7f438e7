// SPDX-License-Identifier: GPL-2.0

//! Host build of the `dma/` core, for `cargo test`: the same files the kernel modules
//! build, as a `no_std` library.

#![no_std]

#[path = "dma.rs"]
mod dma;

pub use dma::*;
