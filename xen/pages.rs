// SPDX-License-Identifier: GPL-2.0

//! An owned block of `1 << order` physically contiguous pages.
//!
//! C header: [`include/linux/gfp.h`](srctree/include/linux/gfp.h).

use core::ptr::NonNull;

use kernel::bindings;
use kernel::ffi::c_void;
use kernel::prelude::*;

use crate::dma::addr::PhysAddr;
use crate::ffi;

/// `__GFP_DMA`: the allocation comes from ZONE_DMA.
pub const GFP_DMA: bindings::gfp_t = 1 << bindings::___GFP_DMA_BIT;
/// `__GFP_DIRECT_RECLAIM`: the caller may sleep (`gfpflags_allow_blocking()`).
pub const GFP_DIRECT_RECLAIM: bindings::gfp_t = 1 << bindings::___GFP_DIRECT_RECLAIM_BIT;

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

    /// Allocates `1 << order` pages with `gfp` until one block satisfies `ok` (given its
    /// physical address and size), trying at most `tries` times; the blocks passed over
    /// are held until then, so that each try gets other pages.
    pub fn alloc_where(
        gfp: bindings::gfp_t,
        order: u32,
        tries: usize,
        ok: impl Fn(PhysAddr, u64) -> bool,
    ) -> Result<Self> {
        let mut rejected = KVec::new();
        for _ in 0..tries {
            let Ok(pages) = Self::alloc(gfp, order) else {
                break;
            };
            if ok(pages.phys(), pages.bytes()) {
                return Ok(pages);
            }
            rejected.push(pages, GFP_KERNEL)?;
        }
        Err(ENOMEM)
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
        PhysAddr::new(unsafe { ffi::page_to_phys(self.as_ptr()) })
    }

    /// The linear-map address of the first byte.
    pub fn address(&self) -> *mut c_void {
        // SAFETY: `page` is a live allocation of lowmem (arm64 has no highmem).
        unsafe { ffi::page_address(self.as_ptr()) }
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        // SAFETY: our allocation of this order (type invariant), no longer used.
        unsafe { bindings::__free_pages(self.page.as_ptr(), self.order) };
    }
}
