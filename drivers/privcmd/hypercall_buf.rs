// SPDX-License-Identifier: GPL-2.0

//! `/dev/xen/hypercall`: hypercall buffers for libxencall. A shared mapping of the device
//! gets zeroed pages of its own; Xen reads and writes them through the process's page
//! tables while a hypercall runs, so they must not move or be swapped.
//!
//! The pages belong to the mapping (`vm_private_data`, an [`Arc`] shared by the VMAs a
//! split or a fork makes of it) and go when its last VMA closes; the page tables hold
//! references of their own meanwhile.
//!
//! C: drivers/xen/privcmd-buf.c.

use kernel::bindings;
use kernel::ffi::{
    c_int,   //
    c_ulong, //
};
use kernel::page::Page;
use kernel::prelude::*;
use kernel::sync::Arc;
use xen::misc::StaticFops;

/// The pages of one mapping.
struct BufPages {
    _pages: KVec<Page>,
}

static FOPS: StaticFops = StaticFops(bindings::file_operations {
    owner: kernel::module::this_module::<crate::XenPrivcmd>().as_ptr(),
    mmap: Some(mmap),
    ..pin_init::zeroed()
});

/// The file operations of `/dev/xen/hypercall`.
pub fn fops() -> &'static bindings::file_operations {
    FOPS.get()
}

static VM_OPS: bindings::vm_operations_struct = bindings::vm_operations_struct {
    open: Some(xen::vma::arc_open::<BufPages>),
    close: Some(xen::vma::arc_close::<BufPages>),
    fault: Some(vma_fault),
    ..pin_init::zeroed()
};

/// `mmap`: zeroed pages for the whole VMA, which must be shared (`EINVAL` otherwise, as
/// C).
///
/// # Safety
///
/// Called by the VFS with a VMA being set up.
unsafe extern "C" fn mmap(_file: *mut bindings::file, vma: *mut bindings::vm_area_struct) -> c_int {
    // SAFETY: the VMA is being set up: ours to read and change, not shared yet.
    let v = unsafe { kernel::mm::virt::VmaRef::from_raw(vma) };
    if v.flags() & bindings::VM_SHARED == 0 {
        return EINVAL.to_errno();
    }
    let count = (v.end() - v.start()) >> kernel::page::PAGE_SHIFT;
    let r = (|| -> Result<(Arc<BufPages>, KVec<*mut bindings::page>)> {
        let mut pages = KVec::with_capacity(count, GFP_KERNEL)?;
        let mut raw = KVec::with_capacity(count, GFP_KERNEL)?;
        for _ in 0..count {
            let p = Page::alloc_page(GFP_KERNEL | __GFP_ZERO)?;
            raw.push(p.as_ptr(), GFP_KERNEL)?;
            pages.push(p, GFP_KERNEL)?;
        }
        Ok((Arc::new(BufPages { _pages: pages }, GFP_KERNEL)?, raw))
    })();
    let (pages, mut raw) = match r {
        Ok(x) => x,
        Err(e) => return e.to_errno(),
    };
    // SAFETY: the VMA is being set up; every page is ours, and the mapping takes
    // references of its own.
    let ret = unsafe {
        (*vma).__bindgen_anon_2.vm_flags |= bindings::VM_IO | bindings::VM_DONTEXPAND;
        bindings::vm_map_pages_zero(vma, raw.as_mut_ptr(), count as c_ulong)
    };
    if ret != 0 {
        return ret;
    }
    // SAFETY: as above; the operations are `xen::vma`'s for `BufPages`.
    unsafe {
        (*vma).vm_ops = &VM_OPS;
        xen::vma::set_arc(vma, pages);
    }
    0
}

/// `fault`: every page is mapped at `mmap`; anything else is an error.
///
/// # Safety
///
/// Called by the mm.
unsafe extern "C" fn vma_fault(_vmf: *mut bindings::vm_fault) -> bindings::vm_fault_t {
    bindings::vm_fault_reason_VM_FAULT_SIGBUS as bindings::vm_fault_t
}
