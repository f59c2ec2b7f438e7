// SPDX-License-Identifier: GPL-2.0

//! Pure logic of the Rust xen-swiotlb: what is built both into the module and on the
//! host.
//!
//! - [`pool`]: the bounce pool's slot allocator.
//! - [`atomic_pool`]: the atomic pool's block allocator, for coherent buffers of callers
//!   that cannot sleep.
//! - [`decide`]: whether a mapping can go to the device in place, or why it bounces.
//! - [`cache_flush`]: Xen's cache maintenance of foreign pages, one Xen page an entry.
//! - [`coherent`]: which pages of a coherent buffer a user mapping may cover.

pub mod atomic_pool;
pub mod cache_flush;
pub mod coherent;
pub mod decide;
pub mod pool;
