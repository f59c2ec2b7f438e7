// SPDX-License-Identifier: GPL-2.0

//! The atomic pool's allocator: blocks of `1 << order` pages, naturally aligned, out of
//! a fixed run of pages.
//!
//! A coherent buffer for a device that is not cache coherent needs an uncached kernel
//! mapping, and making one (`vmap`) may sleep. Callers that cannot sleep
//! (`dma_pool_alloc(GFP_ATOMIC)` under a spinlock, as USB host controllers do) are
//! served, as dma-direct serves them from its atomic pools, from pages that were mapped
//! uncached once, when the module loaded. Blocks are aligned to their size, as the DMA
//! API promises for coherent buffers (`gen_pool_first_fit_order_align` in C).
//!
//! Freeing checks that the block is a live allocation of that order; anything else is
//! refused and changes nothing. Storage for the page table comes from the caller, so the
//! same code runs in the kernel and on the host.

use core::ops::{
    Deref,    //
    DerefMut, //
};

/// A page that belongs to no block.
const FREE: u8 = 0;
/// A page inside a block, after its first.
const TAIL: u8 = 0xff;

/// One entry per page of the pool: free ([`AtomicPool::FREE`]), inside a block after its
/// first page, or the first page of a block of order `n`, stored as `n + 1`.
pub type PageState = u8;

/// Why the pool refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AtomicPoolError {
    /// The storage holds another value than the free state.
    BadPool,
    /// No naturally aligned free block of that order.
    Exhausted,
    /// The index is not the first page of a live block of that order.
    NotAllocated,
}

/// A pool of `pages.len()` pages handing out naturally aligned blocks.
///
/// # Invariants
///
/// Each entry is `FREE`, `TAIL`, or `order + 1` at the first page of a block of
/// `1 << order` pages whose other pages are `TAIL`; `used` counts non-free pages.
pub struct AtomicPool<S> {
    pages: S,
    used: usize,
}

impl<S: Deref<Target = [PageState]> + DerefMut> AtomicPool<S> {
    /// The free state to fill the caller's storage with.
    pub const FREE: PageState = FREE;

    /// A pool over `pages`, every entry [`Self::FREE`].
    pub fn new(pages: S) -> Result<Self, AtomicPoolError> {
        if pages.iter().any(|&p| p != FREE) {
            return Err(AtomicPoolError::BadPool);
        }
        // INVARIANT: every page is free and none is counted.
        Ok(Self { pages, used: 0 })
    }

    /// Pages in the pool.
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    /// Whether the pool has no page at all.
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// Pages in use.
    pub fn used(&self) -> usize {
        self.used
    }

    /// The first page of a free, naturally aligned block of `1 << order` pages, now
    /// allocated.
    pub fn alloc(&mut self, order: u32) -> Result<usize, AtomicPoolError> {
        let count = 1usize
            .checked_shl(order)
            .filter(|&c| c <= self.pages.len() && order < u32::from(TAIL - 1))
            .ok_or(AtomicPoolError::Exhausted)?;
        let mut i = 0;
        while i + count <= self.pages.len() {
            if self.pages[i..i + count].iter().all(|&p| p == FREE) {
                self.pages[i] = order as u8 + 1;
                for p in &mut self.pages[i + 1..i + count] {
                    *p = TAIL;
                }
                // INVARIANT: one block of `count` pages marked, and counted.
                self.used += count;
                return Ok(i);
            }
            i += count;
        }
        Err(AtomicPoolError::Exhausted)
    }

    /// Releases the block of order `order` starting at page `first`.
    pub fn free(&mut self, first: usize, order: u32) -> Result<(), AtomicPoolError> {
        if order >= u32::from(TAIL - 1) || self.pages.get(first) != Some(&(order as u8 + 1)) {
            return Err(AtomicPoolError::NotAllocated);
        }
        let count = 1usize << order;
        for p in &mut self.pages[first..first + count] {
            // INVARIANT: the whole block is released at once.
            *p = FREE;
        }
        self.used -= count;
        Ok(())
    }
}
