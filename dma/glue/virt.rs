// SPDX-License-Identifier: GPL-2.0

//! The kernel's virtual memory layout and vmalloc page-table walk.
//!
//! C header: [`include/linux/vmalloc.h`](srctree/include/linux/vmalloc.h).

use kernel::bindings;
use kernel::page::PAGE_SHIFT;
use kernel::prelude::*;

use super::super::addr::{
    Pfn,      //
    PhysAddr, //
};
use super::super::virt::{
    self as pure, //
    PageTables,   //
    VirtError,    //
    VirtLayout,   //
};
use super::ffi;

/// Page shift of the running kernel.
pub const SHIFT: u32 = PAGE_SHIFT as u32;

/// The running kernel's layout: linear map `[PAGE_OFFSET, high_memory)`, vmalloc space
/// `[VMALLOC_START, VMALLOC_END)`; on arm64 pointers are untagged as `__tag_reset` does.
pub fn layout() -> VirtLayout {
    // SAFETY: constants of the running kernel, and `high_memory`, set once at boot.
    unsafe {
        VirtLayout {
            linear_start: ffi::PAGE_OFFSET(),
            linear_end: core::ptr::read(&raw const bindings::high_memory) as usize,
            phys_offset: ffi::PHYS_OFFSET(),
            vmalloc_start: ffi::VMALLOC_START(),
            vmalloc_end: ffi::VMALLOC_END(),
            tbi: cfg!(CONFIG_ARM64),
        }
    }
}

/// The kernel page tables (`vmalloc_to_page`).
#[derive(Clone, Copy, Debug, Default)]
pub struct KernelPageTables;

impl PageTables<SHIFT> for KernelPageTables {
    fn vmalloc_to_pfn(&self, virt: usize) -> Option<Pfn<SHIFT>> {
        // SAFETY: `vmalloc_to_page` walks the kernel page tables for any address in vmalloc
        // space and returns NULL where nothing is mapped.
        let page = unsafe { bindings::vmalloc_to_page(virt as *const _) };
        // SAFETY: `page` is a live page (mapped in vmalloc space).
        (!page.is_null()).then(|| Pfn::new(unsafe { ffi::page_to_pfn(page) } as u64))
    }
}

/// The physical address behind `ptr`, a linear-map or vmalloc-space kernel address.
pub fn virt_to_phys<T>(ptr: *const T) -> Result<PhysAddr, VirtError> {
    pure::virt_to_phys(&layout(), &KernelPageTables, ptr as usize)
}

/// The page frame behind `ptr`: `virt_to_page` that also works for vmalloc addresses.
pub fn virt_to_pfn<T>(ptr: *const T) -> Result<Pfn<SHIFT>, VirtError> {
    pure::virt_to_pfn(&layout(), &KernelPageTables, ptr as usize)
}
