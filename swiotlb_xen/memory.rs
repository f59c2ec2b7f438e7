// SPDX-License-Identifier: GPL-2.0

//! The bounce pool's memory: physically contiguous chunks of up to 4 MiB (the largest
//! page allocation), placed below a limit.

use kernel::bindings;
use kernel::ffi::c_uint;
use kernel::prelude::*;

use crate::dma::addr::PhysAddr;
use crate::ffi;
use crate::swiotlb::pool::IO_TLB_SIZE;

/// How many allocations to try before giving up on the placement.
const PLACEMENT_TRIES: usize = 32;

/// The pool's pages.
///
/// # Invariants
///
/// `page` is an allocation of `1 << order` pages starting at physical `base`, owned by
/// this value.
pub struct PoolMemory {
    page: *mut bindings::page,
    order: u32,
    base: PhysAddr,
}

// SAFETY: the pages are plain memory; the value only frees them on drop.
unsafe impl Send for PoolMemory {}
// SAFETY: shared access only reads the fields.
unsafe impl Sync for PoolMemory {}

/// Largest chunk: 1024 pages (MAX_PAGE_ORDER with 4 KiB pages).
const MAX_CHUNK_PAGES: u64 = 1024;

impl PoolMemory {
    /// Allocates `bytes` (a power of two, at least a page) as chunks of at most 1024
    /// pages, each placed as [`Self::alloc`] places one.
    pub fn alloc_chunks(bytes: u64, below: u64) -> Result<KVec<Self>> {
        let page_size = kernel::page::PAGE_SIZE as u64;
        if !bytes.is_power_of_two() || bytes < page_size {
            return Err(EINVAL);
        }
        let chunk = bytes.min(MAX_CHUNK_PAGES * page_size);
        let mut chunks = KVec::new();
        for _ in 0..bytes / chunk {
            chunks.push(Self::alloc(chunk, below)?, GFP_KERNEL)?;
        }
        Ok(chunks)
    }

    /// Allocates `bytes` (a power of two, at least a page) of ZONE_DMA memory that ends at
    /// or below physical `below` (0: anywhere in ZONE_DMA).
    ///
    /// ZONE_DMA is what the kernel sized for the platform's most limited device (the first
    /// GiB on a Raspberry Pi 4); `below` narrows it for devices the kernel did not know
    /// at boot. Allocations that land above are set aside and retried, then released.
    pub fn alloc(bytes: u64, below: u64) -> Result<Self> {
        let page_size = kernel::page::PAGE_SIZE as u64;
        if !bytes.is_power_of_two() || bytes < page_size {
            return Err(EINVAL);
        }
        let order = (bytes / page_size).trailing_zeros();
        let mut rejected = KVec::new();
        let mut found = None;
        for _ in 0..PLACEMENT_TRIES {
            // SAFETY: plain page allocation.
            let page = unsafe { ffi::xrs_alloc_pages_dma(order as c_uint) };
            if page.is_null() {
                break;
            }
            // SAFETY: `page` is live.
            let base = unsafe { crate::dma::glue::ffi::xrs_page_to_phys(page) };
            if below == 0 || base.checked_add(bytes).is_some_and(|end| end <= below) {
                found = Some((page, base));
                break;
            }
            if rejected.push(page, GFP_KERNEL).is_err() {
                // SAFETY: we own `page`.
                unsafe { ffi::xrs_free_pages(page, order as c_uint) };
                break;
            }
        }
        for page in rejected {
            // SAFETY: allocations set aside above, owned by us.
            unsafe { ffi::xrs_free_pages(page, order as c_uint) };
        }
        let (page, base) = found.ok_or(ENOMEM)?;
        // INVARIANT: `page` is our allocation of `1 << order` pages at `base`.
        Ok(Self {
            page,
            order,
            base: PhysAddr::new(base),
        })
    }

    /// First byte.
    pub fn base(&self) -> PhysAddr {
        self.base
    }

    /// Size in bytes.
    pub fn bytes(&self) -> u64 {
        (kernel::page::PAGE_SIZE as u64) << self.order
    }

    /// Number of bounce slots.
    pub fn slots(&self) -> usize {
        (self.bytes() / IO_TLB_SIZE) as usize
    }

    /// Whether `phys` lies in the pool.
    pub fn contains(&self, phys: PhysAddr) -> bool {
        phys >= self.base && phys.as_u64() - self.base.as_u64() < self.bytes()
    }
}

impl Drop for PoolMemory {
    fn drop(&mut self) {
        // SAFETY: our allocation (type invariant), no longer used: the instance that owns
        // this memory has been unpublished.
        unsafe { ffi::xrs_free_pages(self.page, self.order as c_uint) };
    }
}
