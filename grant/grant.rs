// SPDX-License-Identifier: GPL-2.0

//! The grant layer: typed access to the kernel's grant table (drivers/xen/grant-table.c,
//! built in, which owns this domain's table) for the stack's drivers.
//!
//! - [`GrantRef`]: a grant reference of another domain, not to be confused with other
//!   integers.
//! - [`GrantPages`]: pages taken out of the domain's memory to map foreign grants into
//!   (`gnttab_alloc_pages()`), given back on drop.
//! - [`Grant`]: a page of this domain granted to another, owned by its grant: dropping
//!   it ends the access, and if the other side still maps the page the kernel's deferred
//!   release keeps it until the other side lets go (`gnttab_end_foreign_access()`), so
//!   it is never freed early.
//! - [`Mapping`]: a batch of foreign grants mapped into such pages
//!   (`gnttab_map_refs()`), unmapped again with [`Mapping::unmap`]
//!   (`gnttab_unmap_refs_sync()`, which waits until no one else holds the pages).
//!
//! C header: [`include/xen/grant_table.h`](srctree/include/xen/grant_table.h).

use kernel::ffi::c_ulong;
use kernel::prelude::*;

use crate::bindings::{
    self,                   //
    gnttab_map_grant_ref,   //
    gnttab_unmap_grant_ref, //
};
use crate::domid::DomId;

/// A grant reference: an index into another domain's grant table. References 0 to 7
/// are reserved (`GNTTAB_NR_RESERVED_ENTRIES`) but can still be named by a peer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct GrantRef(u32);

impl GrantRef {
    /// The first reference a domain hands out.
    pub const FIRST_FREE: u32 = 8;

    /// The reference `r` as a peer named it.
    pub const fn new(r: u32) -> Self {
        Self(r)
    }

    /// The raw reference.
    pub const fn as_u32(self) -> u32 {
        self.0
    }
}

/// How a grant is mapped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Access {
    /// Read and write.
    ReadWrite,
    /// Read only (`GNTMAP_readonly`).
    ReadOnly,
}

impl Access {
    /// `GNTMAP_host_map`, with `GNTMAP_readonly` for [`Access::ReadOnly`].
    fn flags(self) -> u32 {
        match self {
            Self::ReadWrite => bindings::GNTMAP_host_map,
            Self::ReadOnly => bindings::GNTMAP_host_map | bindings::GNTMAP_readonly,
        }
    }
}

/// `INVALID_GRANT_HANDLE`.
const INVALID_HANDLE: u32 = !0;

/// Pages taken out of the domain's memory (ballooned) for foreign grants to be mapped
/// into, given back on drop.
///
/// # Invariants
///
/// `pages` holds the `pages.len()` pages `gnttab_alloc_pages()` gave, none of them
/// mapping a grant when the value is dropped (a [`Mapping`] borrows them while mapped).
pub struct GrantPages {
    pages: KVVec<*mut kernel::bindings::page>,
}

// SAFETY: the pages belong to this value alone; nothing about them is tied to a thread.
unsafe impl Send for GrantPages {}
// SAFETY: shared access only reads the page pointers.
unsafe impl Sync for GrantPages {}

impl GrantPages {
    /// `n` pages; `ENOMEM` if the balloon cannot give them.
    pub fn alloc(n: usize) -> Result<Self> {
        let mut pages = KVVec::with_capacity(n, GFP_KERNEL)?;
        pages.resize(n, core::ptr::null_mut(), GFP_KERNEL)?;
        let count = i32::try_from(n).map_err(|_| EINVAL)?;
        // SAFETY: `pages` has room for `n` page pointers.
        let ret = unsafe { bindings::gnttab_alloc_pages(count, pages.as_mut_ptr()) };
        if ret != 0 {
            return Err(ENOMEM);
        }
        // INVARIANT: filled by `gnttab_alloc_pages()`, nothing mapped yet.
        Ok(Self { pages })
    }

    /// How many pages.
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }

    /// The page pointers, for `vm_map_pages()` and the like.
    pub fn as_slice(&self) -> &[*mut kernel::bindings::page] {
        &self.pages
    }

    /// The physical address of page `i`.
    fn phys(&self, i: usize) -> u64 {
        // SAFETY: a page of this block.
        unsafe { crate::ffi::page_to_phys(self.pages[i]) }
    }

    /// The kernel address of page `i` (the pages are in the linear map).
    pub fn address(&self, i: usize) -> *mut u8 {
        // SAFETY: a page of this block.
        unsafe { crate::ffi::page_address(self.pages[i]) }.cast()
    }
}

impl Drop for GrantPages {
    fn drop(&mut self) {
        // SAFETY: the pages came from `gnttab_alloc_pages()` and map nothing (type
        // invariant).
        unsafe { bindings::gnttab_free_pages(self.pages.len() as i32, self.pages.as_mut_ptr()) };
    }
}

/// A batch of foreign grants, one per page of a [`GrantPages`], and which of them are
/// mapped.
pub struct Mapping {
    map_ops: KVVec<gnttab_map_grant_ref>,
    unmap_ops: KVVec<gnttab_unmap_grant_ref>,
    live: usize,
}

impl Mapping {
    /// The grants `refs` of domain `dom`, for pages not mapped yet.
    pub fn new(grants: &[(DomId, GrantRef)]) -> Result<Self> {
        let mut m = Self::with_capacity(grants.len())?;
        for &(dom, r) in grants {
            m.push(dom, r)?;
        }
        Ok(m)
    }

    /// An empty batch with room for `n` grants, for [`Mapping::push`].
    pub fn with_capacity(n: usize) -> Result<Self> {
        Ok(Self {
            map_ops: KVVec::with_capacity(n, GFP_KERNEL)?,
            unmap_ops: KVVec::with_capacity(n, GFP_KERNEL)?,
            live: 0,
        })
    }

    /// Adds grant `r` of domain `dom` to a batch not mapped yet.
    pub fn push(&mut self, dom: DomId, r: GrantRef) -> Result {
        if self.live != 0 {
            return Err(EINVAL);
        }
        self.map_ops.push(
            gnttab_map_grant_ref {
                ref_: r.as_u32(),
                dom: dom.as_u16(),
                handle: INVALID_HANDLE,
                ..Default::default()
            },
            GFP_KERNEL,
        )?;
        self.unmap_ops.push(
            gnttab_unmap_grant_ref {
                handle: INVALID_HANDLE,
                ..Default::default()
            },
            GFP_KERNEL,
        )?;
        Ok(())
    }

    /// How many grants are mapped.
    pub fn live(&self) -> usize {
        self.live
    }

    /// Maps every grant into its page of `pages` (as many as the grants), with `access`
    /// (`gnttab_map_refs()`, which retries `GNTST_eagain`). `EINVAL` if any grant failed
    /// (the others stay mapped, as in C: [`Mapping::unmap`] undoes them).
    pub fn map(&mut self, pages: &GrantPages, access: Access) -> Result {
        let n = self.map_ops.len();
        if pages.len() != n || self.live != 0 {
            return Err(EINVAL);
        }
        let flags = access.flags();
        for i in 0..n {
            // `gnttab_set_map_op()`/`gnttab_set_unmap_op()` for an auto-translated guest:
            // the page's physical address.
            let addr = pages.phys(i);
            let op = &mut self.map_ops[i];
            op.host_addr = addr;
            op.flags = flags;
            op.status = 1;
            self.unmap_ops[i].host_addr = addr;
            self.unmap_ops[i].dev_bus_addr = 0;
        }
        // SAFETY: `n` operations and `n` pages of this domain taken from the balloon; the
        // pages stay allocated while mapped (the caller keeps `pages` until `unmap`).
        let ret = unsafe {
            bindings::gnttab_map_refs(
                self.map_ops.as_mut_ptr(),
                core::ptr::null_mut(),
                pages.pages.as_ptr().cast_mut(),
                n as u32,
            )
        };
        let mut err = kernel::error::to_result(ret);
        for i in 0..n {
            if self.map_ops[i].status == bindings::GNTST_okay as i16 {
                self.unmap_ops[i].handle = self.map_ops[i].handle;
                self.live += 1;
            } else if err.is_ok() {
                err = Err(EINVAL);
            }
        }
        err
    }

    /// Unmaps every mapped grant from `pages` (`gnttab_unmap_refs_sync()`: it waits
    /// until nothing else holds a reference to the pages), so that they can be given
    /// back. Xen's result.
    pub fn unmap(&mut self, pages: &GrantPages) -> Result {
        if self.live == 0 {
            return Ok(());
        }
        // Only the mapped ones; the queue takes one contiguous run at a time.
        let n = self.unmap_ops.len();
        let mut i = 0;
        let mut result = Ok(());
        while i < n {
            if self.unmap_ops[i].handle == INVALID_HANDLE {
                i += 1;
                continue;
            }
            let start = i;
            while i < n && self.unmap_ops[i].handle != INVALID_HANDLE {
                i += 1;
            }
            let mut q = bindings::gntab_unmap_queue_data {
                unmap_ops: self.unmap_ops[start..].as_mut_ptr(),
                kunmap_ops: core::ptr::null_mut(),
                pages: pages.pages[start..].as_ptr().cast_mut(),
                count: (i - start) as u32,
                ..Default::default()
            };
            // SAFETY: `i - start` operations of grants mapped into those pages; the call
            // returns once they are unmapped, and nothing of `q` outlives it.
            let ret = unsafe { bindings::gnttab_unmap_refs_sync(&mut q) };
            if ret != 0 && result.is_ok() {
                result = kernel::error::to_result(ret);
            }
            for op in &mut self.unmap_ops[start..i] {
                op.handle = INVALID_HANDLE;
            }
            self.live -= i - start;
        }
        result
    }
}

/// A zeroed page of this domain granted to another domain, owned by its grant.
///
/// # Invariants
///
/// `page` is an order-0 page, granted to `dom` as `gref` until drop, which hands it to
/// `gnttab_end_foreign_access()` (the kernel frees it once the other side has let go).
pub struct Grant {
    page: core::ptr::NonNull<kernel::bindings::page>,
    gref: u32,
}

// SAFETY: the page and the grant belong to this value alone.
unsafe impl Send for Grant {}
// SAFETY: shared access reads the page pointer and the reference only.
unsafe impl Sync for Grant {}

impl Grant {
    /// Grants a new zeroed page to `dom`, read-only unless `writable`. `ENOMEM` without
    /// a page; the grant table's error (`ENOSPC` when it has no free reference) as
    /// `gnttab_grant_foreign_access()` gives it.
    pub fn new(dom: DomId, writable: bool) -> Result<Self> {
        let page = crate::pages::Pages::alloc(
            kernel::bindings::GFP_KERNEL | kernel::bindings::__GFP_ZERO,
            0,
        )?;
        // An auto-translated guest grants its own frame numbers (`xen_page_to_gfn()`).
        let frame = page.phys().xen_pfn().as_u64();
        // SAFETY: a page of this domain, which the grant owns from here on.
        let r = unsafe {
            bindings::gnttab_grant_foreign_access(
                dom.as_u16(),
                frame as c_ulong,
                i32::from(!writable),
            )
        };
        if r < 0 {
            // Never granted: the page goes back at once (C's gntalloc leaks it).
            return Err(Error::from_errno(r));
        }
        // INVARIANT: granted just above.
        Ok(Self {
            page: page.into_raw(),
            gref: r as u32,
        })
    }

    /// The grant reference the other domain maps it with.
    pub fn gref(&self) -> GrantRef {
        GrantRef(self.gref)
    }

    /// The page.
    pub fn page(&self) -> *mut kernel::bindings::page {
        self.page.as_ptr()
    }

    /// The page's kernel address (linear map).
    pub fn address(&self) -> *mut u8 {
        // SAFETY: a page of this value.
        unsafe { crate::ffi::page_address(self.page.as_ptr()) }.cast()
    }
}

impl Drop for Grant {
    fn drop(&mut self) {
        // SAFETY: granted (type invariant); the call takes over the page's reference:
        // freed now if the grant is not in use, else once the other side lets go.
        unsafe { bindings::gnttab_end_foreign_access(self.gref, self.page.as_ptr()) };
    }
}
