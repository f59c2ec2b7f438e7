// SPDX-License-Identifier: GPL-2.0

//! Pure logic of the Rust xen-swiotlb: what is built both into the module and on the
//! host.
//!
//! - [`pool`]: the bounce pool's slot allocator.
//! - [`decide`]: whether a mapping can go to the device in place, or why it bounces.
//! - [`coherent`]: which pages of a coherent buffer a user mapping may cover.

pub mod coherent;
pub mod decide;
pub mod pool;
