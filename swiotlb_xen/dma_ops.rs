// SPDX-License-Identifier: GPL-2.0

//! The `struct dma_map_ops` of the Rust xen-swiotlb, built in Rust, and its C entry
//! points.
//!
//! The kernel's generated bindings leave `struct dma_map_ops` opaque (they do not include
//! `dma-map-ops.h`); the core's own bindings have it ([`xen::bindings`]).
//!
//! Every live mapping or coherent allocation holds a reference on the module, taken
//! before the mapping is made, so that rmmod is refused while a device could still hand
//! a handle back; `map_phys` and the allocations run on that reference, `unmap_phys` and
//! the frees on the one the mapping holds. The other entry points, which no reference
//! covers (a sync names a mapping, but a buggy driver may sync what it unmapped), run
//! inside an RCU read-side critical section, so that module exit, after restoring every
//! device's ops, can wait for callers still inside with `synchronize_rcu()`.
//!
//! C header: [`include/linux/dma-map-ops.h`](srctree/include/linux/dma-map-ops.h).

use core::ptr;

use kernel::bindings;
use kernel::dma::DataDirection;
use kernel::ffi::{
    c_int,   //
    c_uint,  //
    c_ulong, //
    c_void,  //
};
use kernel::mm::virt::VmaRef;
use kernel::prelude::*;
use kernel::sync::rcu;

use crate::dma::addr::{
    DmaAddr,  //
    PhysAddr, //
};
use crate::ops::{
    MapAttrs, //
    PagePfn,  //
    Swiotlb,  //
    Target,   //
};

pub use ::xen::bindings::dma_map_ops;

/// The operations table the module installs on the devices it attaches to.
pub static DMA_OPS: dma_map_ops = dma_map_ops {
    alloc: Some(alloc),
    free: Some(free),
    alloc_pages_op: Some(alloc_pages_op),
    free_pages: Some(free_pages),
    mmap: Some(mmap),
    get_sgtable: Some(get_sgtable),
    map_phys: Some(map_phys),
    unmap_phys: Some(unmap_phys),
    map_sg: Some(map_sg),
    unmap_sg: Some(unmap_sg),
    sync_single_for_cpu: Some(sync_single_for_cpu),
    sync_single_for_device: Some(sync_single_for_device),
    sync_sg_for_cpu: Some(sync_sg_for_cpu),
    sync_sg_for_device: Some(sync_sg_for_device),
    cache_sync: None,
    dma_supported: Some(dma_supported),
    get_required_mask: None,
    max_mapping_size: Some(max_mapping_size),
    opt_mapping_size: None,
    get_merge_boundary: None,
};

/// `DMA_MAPPING_ERROR`.
const MAPPING_ERROR: bindings::dma_addr_t = DmaAddr::MAPPING_ERROR.as_u64();

/// This module: the one whose references live mappings hold.
#[inline(always)]
fn this_module() -> *mut bindings::module {
    <crate::XenSwiotlb as kernel::ModuleMetadata>::THIS_MODULE.as_ptr()
}

/// Takes a reference on this module; false once rmmod has found the count at zero.
#[inline(always)]
fn module_get() -> bool {
    // SAFETY: this module's code is running, so its `struct module` exists (a caller
    // racing its unload is the window every module's callbacks have); try_module_get()
    // itself refuses a module that is going away.
    unsafe { bindings::try_module_get(this_module()) }
}

/// Drops a reference [`module_get`] took.
#[inline(always)]
fn module_put() {
    // SAFETY: a reference this module holds, for a mapping or allocation now released.
    unsafe { bindings::module_put(this_module()) }
}

/// The direction of a call; `EINVAL` for `DMA_NONE` and values that are no direction.
#[inline(always)]
fn direction(dir: bindings::dma_data_direction) -> Result<DataDirection> {
    match dir {
        bindings::dma_data_direction::DMA_BIDIRECTIONAL => Ok(DataDirection::Bidirectional),
        bindings::dma_data_direction::DMA_TO_DEVICE => Ok(DataDirection::ToDevice),
        bindings::dma_data_direction::DMA_FROM_DEVICE => Ok(DataDirection::FromDevice),
        _ => Err(EINVAL),
    }
}

/// Runs `f` with the instance and the device of a C call; counts a failure on error.
///
/// # Safety
///
/// `dev` is a live device with its DMA configured, as for every DMA operation.
#[inline(always)]
unsafe fn with<R>(
    dev: *mut bindings::device,
    f: impl FnOnce(&Swiotlb, &Target<'_>) -> Result<R>,
) -> Result<R> {
    let s = Swiotlb::get().ok_or(ENODEV)?;
    // SAFETY: per this function's requirements.
    match unsafe { Target::new(dev) }.and_then(|t| f(s, &t)) {
        Ok(r) => Ok(r),
        Err(e) => s.fail(e),
    }
}

/// `map_phys`: the bus address of `[phys, phys + size)`, `DMA_MAPPING_ERROR` when it
/// cannot be mapped. A mapping holds a module reference until it is unmapped.
///
/// # Safety
///
/// Called by the DMA API for a device with these ops.
unsafe extern "C" fn map_phys(
    dev: *mut bindings::device,
    phys: bindings::phys_addr_t,
    size: usize,
    dir: bindings::dma_data_direction,
    attrs: c_ulong,
) -> bindings::dma_addr_t {
    // The reference first: once rmmod has found the count at zero, try_module_get() fails
    // and so does the mapping, where taking the reference after mapping would leave a
    // live bounce behind a module that is going away. Held, it keeps the instance alive
    // for the rest of the call.
    if !module_get() {
        return MAPPING_ERROR;
    }
    // SAFETY: called by the DMA API (function requirement).
    let r = unsafe {
        with(dev, |s, t| {
            s.map(
                t,
                PhysAddr::new(phys),
                size as u64,
                direction(dir)?,
                MapAttrs(attrs),
            )
        })
    };
    match r {
        Ok(dma) => dma.as_u64(),
        Err(_) => {
            module_put();
            MAPPING_ERROR
        }
    }
}

/// `unmap_phys`: releases a mapping of [`map_phys`] and the module reference it held.
///
/// # Safety
///
/// Called by the DMA API for a device with these ops.
unsafe extern "C" fn unmap_phys(
    dev: *mut bindings::device,
    dma: bindings::dma_addr_t,
    size: usize,
    dir: bindings::dma_data_direction,
    attrs: c_ulong,
) {
    // The mapping holds a module reference, which keeps the instance alive until the
    // `module_put()` below.
    // SAFETY: called by the DMA API (function requirement).
    let r = unsafe {
        with(dev, |s, t| {
            s.unmap(
                t,
                DmaAddr::new(dma),
                size as u64,
                direction(dir)?,
                MapAttrs(attrs),
            )
        })
    };
    if r.is_ok() {
        module_put();
    }
}

/// `sync_single_for_cpu`.
///
/// # Safety
///
/// Called by the DMA API for a device with these ops.
unsafe extern "C" fn sync_single_for_cpu(
    dev: *mut bindings::device,
    dma: bindings::dma_addr_t,
    size: usize,
    dir: bindings::dma_data_direction,
) {
    let _rcu = rcu::read_lock();
    // SAFETY: called by the DMA API (function requirement).
    let _ = unsafe {
        with(dev, |s, t| {
            s.sync_for_cpu(t, DmaAddr::new(dma), size as u64, direction(dir)?)
        })
    };
}

/// `sync_single_for_device`.
///
/// # Safety
///
/// Called by the DMA API for a device with these ops.
unsafe extern "C" fn sync_single_for_device(
    dev: *mut bindings::device,
    dma: bindings::dma_addr_t,
    size: usize,
    dir: bindings::dma_data_direction,
) {
    let _rcu = rcu::read_lock();
    // SAFETY: called by the DMA API (function requirement).
    let _ = unsafe {
        with(dev, |s, t| {
            s.sync_for_device(t, DmaAddr::new(dma), size as u64, direction(dir)?)
        })
    };
}

/// The entries of a scatterlist as the DMA API hands it over: `nents` entries from
/// `sgl`, following chain links (`for_each_sg()`).
///
/// # Safety
///
/// `sgl` starts a scatterlist of at least `nents` entries that stays valid and is not
/// otherwise accessed while the iterator is used.
unsafe fn entries(
    sgl: *mut bindings::scatterlist,
    nents: c_int,
) -> impl Iterator<Item = *mut bindings::scatterlist> {
    let mut sg = sgl;
    (0..nents.max(0)).map(move |i| {
        if i > 0 {
            // SAFETY: `sg` is an entry of the list and not its last (function
            // requirement: `nents` entries).
            sg = unsafe { bindings::sg_next(sg) };
        }
        sg
    })
}

/// `sg_phys()`: the physical address of an entry's data.
///
/// # Safety
///
/// `sg` is a live scatterlist entry pointing at a page.
#[inline(always)]
unsafe fn sg_phys(sg: *mut bindings::scatterlist) -> PhysAddr {
    // SAFETY: `sg` is live (function requirement).
    let (link, offset) = unsafe { ((*sg).page_link, (*sg).offset) };
    // sg_page(): the page pointer, without the chain and end bits (SG_PAGE_LINK_MASK).
    const LINK_MASK: c_ulong = (bindings::SG_CHAIN | bindings::SG_END) as c_ulong;
    let page = (link & !LINK_MASK) as *const bindings::page;
    // SAFETY: the entry's page, live while it is mapped.
    PhysAddr::new(unsafe { ::xen::ffi::page_to_phys(page) } + u64::from(offset))
}

/// `unmap_sg`: unmaps every entry; each mapping released drops its module reference.
///
/// # Safety
///
/// Called by the DMA API for a device with these ops, with a list [`map_sg`] mapped.
unsafe extern "C" fn unmap_sg(
    dev: *mut bindings::device,
    sgl: *mut bindings::scatterlist,
    nents: c_int,
    dir: bindings::dma_data_direction,
    attrs: c_ulong,
) {
    let mut released = 0;
    let unmap_all = |s: &Swiotlb, t: &Target<'_>| {
        let dir = direction(dir)?;
        // SAFETY: the DMA API's list of `nents` entries (function requirement).
        for sg in unsafe { entries(sgl, nents) } {
            // SAFETY: a live entry of the caller's list.
            let (dma, len) = unsafe { ((*sg).dma_address, (*sg).dma_length) };
            match s.unmap(t, DmaAddr::new(dma), u64::from(len), dir, MapAttrs(attrs)) {
                Ok(()) => released += 1,
                Err(e) => {
                    let _ = s.fail::<()>(e);
                }
            }
        }
        Ok(())
    };
    // The entries' mappings hold module references, which keep the instance alive; they
    // are dropped once it is no longer used.
    // SAFETY: called by the DMA API (function requirement).
    let _ = unsafe { with(dev, unmap_all) };
    for _ in 0..released {
        module_put();
    }
}

/// `map_sg`: maps every entry; on failure unmaps those mapped, and answers `-EIO` as the
/// C xen-swiotlb does. The list is mapped under one module reference of its own, and one
/// instance and device lookup; each mapped entry holds a reference until unmapped.
///
/// # Safety
///
/// Called by the DMA API for a device with these ops.
unsafe extern "C" fn map_sg(
    dev: *mut bindings::device,
    sgl: *mut bindings::scatterlist,
    nents: c_int,
    raw_dir: bindings::dma_data_direction,
    attrs: c_ulong,
) -> c_int {
    let mut mapped = 0;
    let map_all = |s: &Swiotlb, t: &Target<'_>| {
        let dir = direction(raw_dir)?;
        // SAFETY: the DMA API's list of `nents` entries (function requirement).
        for sg in unsafe { entries(sgl, nents) } {
            // SAFETY: a live entry of the caller's list, ours to fill in.
            let (phys, len) = unsafe { (sg_phys(sg), (*sg).length) };
            let r = s.map(t, phys, u64::from(len), dir, MapAttrs(attrs));
            // SAFETY: as above.
            unsafe { (*sg).dma_address = r.map_or(MAPPING_ERROR, |d| d.as_u64()) };
            r?;
            // SAFETY: as above.
            unsafe { (*sg).dma_length = len };
            // The mapping's own reference: the walk's keeps the module live, so the
            // get cannot fail.
            // SAFETY: this module, live (see above).
            unsafe { bindings::__module_get(this_module()) };
            mapped += 1;
        }
        Ok(())
    };
    let held = module_get();
    let r = if held {
        // SAFETY: called by the DMA API (function requirement); the reference just taken
        // keeps the instance alive.
        unsafe { with(dev, map_all) }
    } else {
        Err(ENODEV)
    };
    let ret = match r {
        Ok(()) => nents,
        Err(_) => {
            let skip = attrs | bindings::DMA_ATTR_SKIP_CPU_SYNC as c_ulong;
            // SAFETY: the first `mapped` entries are mapped; the list has at least one
            // entry (the DMA API maps no empty list).
            unsafe {
                unmap_sg(dev, sgl, mapped, raw_dir, skip);
                if nents > 0 {
                    (*sgl).dma_length = 0;
                }
            }
            EIO.to_errno()
        }
    };
    if held {
        // The walk's own reference.
        module_put();
    }
    ret
}

/// `sync_sg_for_cpu`.
///
/// # Safety
///
/// Called by the DMA API for a device with these ops, with a list [`map_sg`] mapped.
unsafe extern "C" fn sync_sg_for_cpu(
    dev: *mut bindings::device,
    sgl: *mut bindings::scatterlist,
    nents: c_int,
    dir: bindings::dma_data_direction,
) {
    // SAFETY: per this function's requirements.
    unsafe { sync_sg(dev, sgl, nents, dir, true) }
}

/// `sync_sg_for_device`.
///
/// # Safety
///
/// Called by the DMA API for a device with these ops, with a list [`map_sg`] mapped.
unsafe extern "C" fn sync_sg_for_device(
    dev: *mut bindings::device,
    sgl: *mut bindings::scatterlist,
    nents: c_int,
    dir: bindings::dma_data_direction,
) {
    // SAFETY: per this function's requirements.
    unsafe { sync_sg(dev, sgl, nents, dir, false) }
}

/// The syncs of a list, in one RCU section and one instance and device lookup.
///
/// # Safety
///
/// As [`sync_sg_for_cpu`].
unsafe fn sync_sg(
    dev: *mut bindings::device,
    sgl: *mut bindings::scatterlist,
    nents: c_int,
    dir: bindings::dma_data_direction,
    for_cpu: bool,
) {
    let sync_all = |s: &Swiotlb, t: &Target<'_>| {
        let dir = direction(dir)?;
        // SAFETY: the DMA API's list of `nents` entries (function requirement).
        for sg in unsafe { entries(sgl, nents) } {
            // SAFETY: a live entry of the caller's list.
            let (dma, len) = unsafe { (DmaAddr::new((*sg).dma_address), (*sg).length) };
            let r = if for_cpu {
                s.sync_for_cpu(t, dma, u64::from(len), dir)
            } else {
                s.sync_for_device(t, dma, u64::from(len), dir)
            };
            if let Err(e) = r {
                let _ = s.fail::<()>(e);
            }
        }
        Ok(())
    };
    let _rcu = rcu::read_lock();
    // SAFETY: called by the DMA API (function requirement).
    let _ = unsafe { with(dev, sync_all) };
}

/// `dma_supported`: whether a device with `mask` reaches the bounce pool.
///
/// # Safety
///
/// Called by the DMA API for a device with these ops.
unsafe extern "C" fn dma_supported(dev: *mut bindings::device, mask: u64) -> c_int {
    let _rcu = rcu::read_lock();
    // SAFETY: called by the DMA API (function requirement).
    let r = unsafe { with(dev, |s, t| Ok(s.reaches_pool(t, mask))) };
    c_int::from(r.unwrap_or(false))
}

/// `max_mapping_size`: what one bounce can hold for the device.
///
/// # Safety
///
/// Called by the DMA API for a device with these ops.
unsafe extern "C" fn max_mapping_size(dev: *mut bindings::device) -> usize {
    let _rcu = rcu::read_lock();
    // SAFETY: called by the DMA API (function requirement).
    let r = unsafe { with(dev, |s, t| Ok(s.max_mapping_size(t))) };
    r.unwrap_or(0) as usize
}

/// `alloc`: a coherent buffer; it holds a module reference until freed.
///
/// # Safety
///
/// Called by the DMA API for a device with these ops; `dma` is a valid out-pointer.
unsafe extern "C" fn alloc(
    dev: *mut bindings::device,
    size: usize,
    dma: *mut bindings::dma_addr_t,
    gfp: bindings::gfp_t,
    attrs: c_ulong,
) -> *mut c_void {
    if !module_get() {
        return ptr::null_mut();
    }
    // SAFETY: called by the DMA API (function requirement).
    match unsafe { with(dev, |s, t| s.alloc(t, size as u64, gfp, MapAttrs(attrs))) } {
        Ok((vaddr, handle)) => {
            // SAFETY: the caller's out-parameter (function requirement).
            unsafe { *dma = handle.as_u64() };
            vaddr
        }
        Err(_) => {
            module_put();
            ptr::null_mut()
        }
    }
}

/// `free`: releases a buffer of [`alloc`] and its module reference.
///
/// # Safety
///
/// Called by the DMA API for a device with these ops, with a buffer [`alloc`] returned
/// for it.
unsafe extern "C" fn free(
    dev: *mut bindings::device,
    size: usize,
    vaddr: *mut c_void,
    dma: bindings::dma_addr_t,
    _attrs: c_ulong,
) {
    // The allocation holds a module reference: the module is alive.
    // SAFETY: called by the DMA API with what our `alloc` returned (function
    // requirement).
    let r = unsafe { with(dev, |s, t| s.free(t, size as u64, vaddr, DmaAddr::new(dma))) };
    if r.is_ok() {
        module_put();
    }
}

/// `alloc_pages_op` (`dma_alloc_pages()`, `dma_alloc_noncoherent()`); the pages hold a
/// module reference until freed.
///
/// # Safety
///
/// Called by the DMA API for a device with these ops; `dma` is a valid out-pointer.
unsafe extern "C" fn alloc_pages_op(
    dev: *mut bindings::device,
    size: usize,
    dma: *mut bindings::dma_addr_t,
    dir: bindings::dma_data_direction,
    gfp: bindings::gfp_t,
) -> *mut bindings::page {
    if !module_get() {
        return ptr::null_mut();
    }
    // SAFETY: called by the DMA API (function requirement).
    let r = unsafe {
        with(dev, |s, t| {
            direction(dir)?;
            s.alloc_pages(t, size as u64, gfp)
        })
    };
    match r {
        Ok((page, handle)) => {
            // SAFETY: the caller's out-parameter (function requirement).
            unsafe { *dma = handle.as_u64() };
            page
        }
        Err(_) => {
            module_put();
            ptr::null_mut()
        }
    }
}

/// `free_pages`: releases pages of [`alloc_pages_op`] and their module reference.
///
/// # Safety
///
/// Called by the DMA API for a device with these ops, with pages [`alloc_pages_op`]
/// returned for it.
unsafe extern "C" fn free_pages(
    dev: *mut bindings::device,
    size: usize,
    page: *mut bindings::page,
    dma: bindings::dma_addr_t,
    _dir: bindings::dma_data_direction,
) {
    // SAFETY: called by the DMA API with what our `alloc_pages_op` returned (function
    // requirement).
    let r = unsafe {
        with(dev, |s, t| {
            s.free_pages(t, size as u64, page, DmaAddr::new(dma))
        })
    };
    if r.is_ok() {
        module_put();
    }
}

/// Whether the device has its own coherent pool (reserved-memory `shared-dma-pool`):
/// the DMA API serves its coherent buffers from that pool before asking the ops, and the
/// helpers that map such a buffer (`dma_mmap_from_dev_coherent()`) are not exported, so
/// [`get_sgtable`] and [`mmap`] refuse those buffers.
///
/// # Safety
///
/// `dev` is a live device.
#[inline(always)]
unsafe fn has_dev_coherent_pool(dev: *mut bindings::device) -> bool {
    #[cfg(CONFIG_DMA_DECLARE_COHERENT)]
    {
        // SAFETY: `dev` is live (function requirement).
        !unsafe { (*dev).dma_mem }.is_null()
    }
    #[cfg(not(CONFIG_DMA_DECLARE_COHERENT))]
    {
        let _ = dev;
        false
    }
}

/// The first page frame of a coherent buffer, looked up in an RCU section.
///
/// # Safety
///
/// `dev` is a live device with these ops.
unsafe fn coherent_lookup(
    dev: *mut bindings::device,
    f: impl FnOnce(&Swiotlb, &Target<'_>) -> Result<PagePfn>,
) -> Result<(PagePfn, bool)> {
    // SAFETY: `dev` is live (function requirement).
    if unsafe { has_dev_coherent_pool(dev) } {
        return Err(ENXIO);
    }
    let _rcu = rcu::read_lock();
    // SAFETY: per this function's requirements.
    unsafe { with(dev, |s, t| Ok((f(s, t)?, t.coherent()))) }
}

/// `get_sgtable` (`dma_common_get_sgtable()`): a one-entry table of the buffer's pages.
///
/// # Safety
///
/// Called by the DMA API for a device with these ops; `sgt` is the caller's table to
/// fill in.
unsafe extern "C" fn get_sgtable(
    dev: *mut bindings::device,
    sgt: *mut bindings::sg_table,
    cpu_addr: *mut c_void,
    dma: bindings::dma_addr_t,
    size: usize,
    _attrs: c_ulong,
) -> c_int {
    // SAFETY: `dev` has these ops (function requirement).
    let r = unsafe { coherent_lookup(dev, |s, t| s.sgtable_pfn(t, cpu_addr, DmaAddr::new(dma))) };
    let pfn = match r {
        Ok((pfn, _)) => pfn,
        Err(e) => return e.to_errno(),
    };
    // SAFETY: `sgt` is the caller's table (function requirement).
    let ret = unsafe { bindings::sg_alloc_table(sgt, 1, bindings::GFP_KERNEL) };
    if ret == 0 {
        let len = size.next_multiple_of(kernel::page::PAGE_SIZE) as c_uint;
        // SAFETY: the table's one entry, just allocated; the page is the buffer's first,
        // live while the buffer is.
        unsafe {
            ::xen::ffi::sg_set_page(
                (*sgt).sgl,
                ::xen::ffi::pfn_to_page(pfn.as_u64() as c_ulong),
                len,
                0,
            )
        };
    }
    ret
}

/// `mmap` (`dma_common_mmap()`): maps the buffer's pages into `vma`, with the page
/// protection of `dma_pgprot()`.
///
/// # Safety
///
/// Called by the DMA API for a device with these ops, with `vma` a user mapping being
/// set up (its mmap lock held).
unsafe extern "C" fn mmap(
    dev: *mut bindings::device,
    vma: *mut bindings::vm_area_struct,
    cpu_addr: *mut c_void,
    dma: bindings::dma_addr_t,
    size: usize,
    attrs: c_ulong,
) -> c_int {
    // SAFETY: the DMA API's VMA, valid for this call (function requirement).
    let v = unsafe { VmaRef::from_raw(vma) };
    let (start, end) = (v.start(), v.end());
    // SAFETY: as above.
    let pgoff = unsafe { (*vma).vm_pgoff } as u64;
    let user_pages = ((end - start) >> kernel::page::PAGE_SHIFT) as u64;
    // SAFETY: `dev` has these ops (function requirement).
    let r = unsafe {
        coherent_lookup(dev, |s, t| {
            s.mmap_pfn(
                t,
                cpu_addr,
                DmaAddr::new(dma),
                size as u64,
                pgoff,
                user_pages,
            )
        })
    };
    let (pfn, coherent) = match r {
        Ok(x) => x,
        Err(e) => return e.to_errno(),
    };
    // SAFETY: the VMA is being set up under its mmap lock (function requirement).
    unsafe {
        let prot = (*vma).vm_page_prot;
        (*vma).vm_page_prot = if coherent {
            prot
        } else if attrs & bindings::DMA_ATTR_WRITE_COMBINE as c_ulong != 0 {
            ::xen::ffi::pgprot_writecombine(prot)
        } else {
            ::xen::ffi::pgprot_dmacoherent(prot)
        };
        bindings::remap_pfn_range(
            vma,
            start as c_ulong,
            pfn.as_u64() as c_ulong,
            end - start,
            (*vma).vm_page_prot,
        )
    }
}
