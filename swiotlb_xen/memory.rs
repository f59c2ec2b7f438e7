// SPDX-License-Identifier: GPL-2.0

//! Memory the module owns: blocks of `1 << order` pages ([`Pages`]), the bounce pool's
//! chunks of up to 4 MiB placed below a limit ([`PoolMemory`]), and the atomic pool's
//! uncached pages ([`AtomicArea`]).
//!
//! C header: [`include/linux/gfp.h`](srctree/include/linux/gfp.h).

use core::ptr::NonNull;

use kernel::bindings;
use kernel::ffi::c_void;
use kernel::prelude::*;

use crate::dma::addr::PhysAddr;
use crate::ffi;
use crate::swiotlb::pool::IO_TLB_SIZE;

/// `__GFP_DMA`: the allocation comes from ZONE_DMA.
pub const GFP_DMA: bindings::gfp_t = 1 << bindings::___GFP_DMA_BIT;
/// `__GFP_DIRECT_RECLAIM`: the caller may sleep (`gfpflags_allow_blocking`).
pub const GFP_DIRECT_RECLAIM: bindings::gfp_t = 1 << bindings::___GFP_DIRECT_RECLAIM_BIT;

/// How many allocations to try before giving up on the placement.
const PLACEMENT_TRIES: usize = 32;

/// Largest chunk: 1024 pages (MAX_PAGE_ORDER with 4 KiB pages).
const MAX_CHUNK_PAGES: u64 = 1024;

/// A block of `1 << order` physically contiguous pages, freed when dropped.
///
/// # Invariants
///
/// `page` is the first page of an allocation of `1 << order` pages owned by this value.
pub struct Pages {
    page: NonNull<bindings::page>,
    order: u32,
}

// SAFETY: the pages are plain memory; the value only frees them on drop.
unsafe impl Send for Pages {}
// SAFETY: shared access only reads the fields.
unsafe impl Sync for Pages {}

impl Pages {
    /// Allocates `1 << order` pages with `gfp`.
    pub fn alloc(gfp: bindings::gfp_t, order: u32) -> Result<Self> {
        // SAFETY: plain page allocation; any flags and order are valid (a too large order
        // fails).
        let page = unsafe { bindings::alloc_pages(gfp, order) };
        // INVARIANT: a fresh allocation of `1 << order` pages.
        Ok(Self {
            page: NonNull::new(page).ok_or(ENOMEM)?,
            order,
        })
    }

    /// Takes back pages that [`Self::into_raw`] gave away.
    ///
    /// # Safety
    ///
    /// `page` and `order` come from one call of [`Self::into_raw`], whose pages nothing
    /// else uses or frees any more.
    pub unsafe fn from_raw(page: NonNull<bindings::page>, order: u32) -> Self {
        // INVARIANT: per this function's requirements.
        Self { page, order }
    }

    /// Gives up ownership: the pages stay allocated until [`Self::from_raw`] takes them
    /// back.
    pub fn into_raw(self) -> NonNull<bindings::page> {
        let page = self.page;
        core::mem::forget(self);
        page
    }

    /// The first page.
    pub fn as_ptr(&self) -> *mut bindings::page {
        self.page.as_ptr()
    }

    /// The allocation order.
    pub fn order(&self) -> u32 {
        self.order
    }

    /// Size in bytes.
    pub fn bytes(&self) -> u64 {
        (kernel::page::PAGE_SIZE as u64) << self.order
    }

    /// Physical address of the first byte.
    pub fn phys(&self) -> PhysAddr {
        // SAFETY: `page` is a live allocation (type invariant).
        PhysAddr::new(unsafe { crate::dma::glue::ffi::xrs_page_to_phys(self.as_ptr()) })
    }

    /// The linear-map address of the first byte.
    pub fn address(&self) -> *mut c_void {
        // SAFETY: `page` is a live allocation of lowmem (arm64 has no highmem).
        unsafe { ffi::xrs_page_address(self.as_ptr()) }
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        // SAFETY: our allocation of this order (type invariant), no longer used.
        unsafe { bindings::__free_pages(self.page.as_ptr(), self.order) };
    }
}

/// Pages of ZONE_DMA that end at or below physical `below` (0: anywhere in ZONE_DMA).
///
/// ZONE_DMA is what the kernel sized for the platform's most limited device (the first GiB
/// on a Raspberry Pi 4); `below` narrows it for devices the kernel did not know at boot.
/// Allocations that land above are set aside and retried, then released.
fn alloc_below(order: u32, below: u64) -> Result<Pages> {
    let mut rejected = KVec::new();
    for _ in 0..PLACEMENT_TRIES {
        let Ok(pages) = Pages::alloc(
            bindings::GFP_KERNEL | GFP_DMA | bindings::__GFP_NOWARN,
            order,
        ) else {
            break;
        };
        let end = pages.phys().checked_add(pages.bytes());
        if below == 0 || end.is_some_and(|e| e.as_u64() <= below) {
            return Ok(pages);
        }
        // Kept until the end, so that the next try gets other pages.
        rejected.push(pages, GFP_KERNEL)?;
    }
    Err(ENOMEM)
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
    /// `below`.
    pub fn alloc(bytes: u64, below: u64) -> Result<Self> {
        let page_size = kernel::page::PAGE_SIZE as u64;
        if !bytes.is_power_of_two() || bytes < page_size || bytes > MAX_CHUNK_PAGES * page_size {
            return Err(EINVAL);
        }
        let pages = alloc_below((bytes / page_size).trailing_zeros(), below)?;
        // SAFETY: `pages` is ours; the mapping covers exactly them.
        let vaddr = unsafe { ffi::xrs_remap_uncached(pages.as_ptr(), pages.order()) };
        let vaddr = NonNull::new(vaddr).ok_or(ENOMEM)?;
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
        unsafe { crate::dma::glue::ffi::xrs_vunmap(self.vaddr.as_ptr()) };
    }
}
