// SPDX-License-Identifier: GPL-2.0

//! Memory the module owns: the bounce pool's chunks of up to 4 MiB placed below a limit
//! ([`PoolMemory`]), and the atomic pool's uncached pages ([`AtomicArea`]), both blocks of
//! the core's [`Pages`].

use core::ptr::NonNull;

use kernel::bindings;
use kernel::ffi::{
    c_uint, //
    c_void, //
};
use kernel::prelude::*;

use crate::cache;
use crate::dma::addr::PhysAddr;
use crate::swiotlb::pool::IO_TLB_SIZE;

pub use xen::pages::{
    Pages,              //
    GFP_DIRECT_RECLAIM, //
    GFP_DMA,            //
};

/// How many allocations to try before giving up on the placement.
const PLACEMENT_TRIES: usize = 32;

/// Largest chunk: 1024 pages (MAX_PAGE_ORDER with 4 KiB pages).
const MAX_CHUNK_PAGES: u64 = 1024;

/// Pages of ZONE_DMA that end at or below physical `below` (0: anywhere in ZONE_DMA).
///
/// ZONE_DMA is what the kernel sized for the platform's most limited device (the first GiB
/// on a Raspberry Pi 4); `below` narrows it for devices the kernel did not know at boot.
/// Allocations that land above are set aside and retried, then released.
fn alloc_below(order: u32, below: u64) -> Result<Pages> {
    Pages::alloc_where(
        bindings::GFP_KERNEL | GFP_DMA | bindings::__GFP_NOWARN,
        order,
        PLACEMENT_TRIES,
        |base, bytes| below == 0 || base.checked_add(bytes).is_some_and(|e| e.as_u64() <= below),
    )
}

/// An uncached kernel mapping of all of `pages`, as dma-direct gives a non-coherent
/// device's buffers on arm64 (`pgprot_dmacoherent()`); the linear alias is cleaned and
/// invalidated, so that no dirty line of it is written back over what the device writes.
/// The caller unmaps it (`vunmap()`) before the pages are freed. May sleep.
pub fn remap_uncached(pages: &Pages, line: cache::Line) -> Result<*mut c_void> {
    let count = 1usize << pages.order();
    let mut list = KVec::with_capacity(count, GFP_KERNEL)?;
    for i in 0..count {
        // The pages of one allocation have consecutive `struct page`s.
        list.push(pages.as_ptr().wrapping_add(i), GFP_KERNEL)?;
    }
    // SAFETY: `list` holds the `count` pages of a live allocation, which the caller keeps
    // until it has unmapped them.
    let vaddr = unsafe { xen::ffi::vmap_dmacoherent(list.as_mut_ptr(), count as c_uint) };
    if vaddr.is_null() {
        return Err(ENOMEM);
    }
    cache::clean_invalidate(line, pages.address() as usize, pages.bytes() as usize);
    Ok(vaddr)
}

/// One chunk of the bounce pool.
pub struct PoolMemory {
    pages: Pages,
    base: PhysAddr,
}

impl PoolMemory {
    /// Allocates `bytes` (a power of two, at least a page) as chunks of at most 1024
    /// pages, each in ZONE_DMA and ending at or below `below` (0: anywhere in ZONE_DMA).
    pub fn alloc_chunks(bytes: u64, below: u64) -> Result<KVec<Self>> {
        let page_size = kernel::page::PAGE_SIZE as u64;
        if !bytes.is_power_of_two() || bytes < page_size {
            return Err(EINVAL);
        }
        let chunk = bytes.min(MAX_CHUNK_PAGES * page_size);
        let order = (chunk / page_size).trailing_zeros();
        let mut chunks = KVec::new();
        for _ in 0..bytes / chunk {
            let pages = alloc_below(order, below)?;
            let base = pages.phys();
            chunks.push(Self { pages, base }, GFP_KERNEL)?;
        }
        Ok(chunks)
    }

    /// First byte.
    pub fn base(&self) -> PhysAddr {
        self.base
    }

    /// Size in bytes.
    pub fn bytes(&self) -> u64 {
        self.pages.bytes()
    }

    /// Number of bounce slots.
    pub fn slots(&self) -> usize {
        (self.bytes() / IO_TLB_SIZE) as usize
    }

    /// Whether `phys` lies in the chunk.
    pub fn contains(&self, phys: PhysAddr) -> bool {
        phys >= self.base && phys.as_u64() - self.base.as_u64() < self.bytes()
    }
}

/// The atomic pool's memory: pages in ZONE_DMA below the pool limit, mapped uncached once
/// at load so that coherent buffers can be handed out without sleeping.
///
/// # Invariants
///
/// `vaddr` is an uncached `vmap` of all of `pages`, unmapped on drop before the pages are
/// freed.
pub struct AtomicArea {
    pages: Pages,
    base: PhysAddr,
    vaddr: NonNull<c_void>,
}

// SAFETY: the mapping and pages are plain memory; the value only unmaps and frees them on
// drop.
unsafe impl Send for AtomicArea {}
// SAFETY: shared access only reads the fields.
unsafe impl Sync for AtomicArea {}

impl AtomicArea {
    /// `bytes` (a power of two, at least a page) of uncached memory ending at or below
    /// `below`; `line` is the data cache line, for cleaning the linear alias.
    pub fn alloc(bytes: u64, below: u64, line: cache::Line) -> Result<Self> {
        let page_size = kernel::page::PAGE_SIZE as u64;
        if !bytes.is_power_of_two() || bytes < page_size || bytes > MAX_CHUNK_PAGES * page_size {
            return Err(EINVAL);
        }
        let pages = alloc_below((bytes / page_size).trailing_zeros(), below)?;
        let vaddr = NonNull::new(remap_uncached(&pages, line)?).ok_or(ENOMEM)?;
        let base = pages.phys();
        // INVARIANT: `vaddr` maps `pages`, uncached.
        Ok(Self { pages, base, vaddr })
    }

    /// Physical address of page `i`.
    pub fn phys(&self, i: usize) -> PhysAddr {
        PhysAddr::new(self.base.as_u64() + (i * kernel::page::PAGE_SIZE) as u64)
    }

    /// Uncached kernel address of page `i`.
    pub fn vaddr(&self, i: usize) -> *mut c_void {
        self.vaddr
            .as_ptr()
            .cast::<u8>()
            .wrapping_add(i * kernel::page::PAGE_SIZE)
            .cast()
    }

    /// The page of the area that `vaddr` points into, if any.
    pub fn page_of(&self, vaddr: usize) -> Option<usize> {
        let start = self.vaddr.as_ptr() as usize;
        let off = vaddr.checked_sub(start)?;
        (off < self.pages.bytes() as usize).then_some(off / kernel::page::PAGE_SIZE)
    }

    /// Pages in the area.
    pub fn pages(&self) -> usize {
        1 << self.pages.order()
    }

    /// First byte, physical.
    pub fn base(&self) -> PhysAddr {
        self.base
    }

    /// Size in bytes.
    pub fn bytes(&self) -> u64 {
        self.pages.bytes()
    }
}

impl Drop for AtomicArea {
    fn drop(&mut self) {
        // SAFETY: our mapping (type invariant); no buffer of the area is in use any more
        // (the instance that owns it is being dropped).
        unsafe { xen::ffi::vunmap(self.vaddr.as_ptr()) };
    }
}
