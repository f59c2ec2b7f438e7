// SPDX-License-Identifier: GPL-2.0

//! The kernel's own answers, for the suites to compare with (`helpers.c`), and the core's
//! C helpers they use too.

use kernel::bindings;
use kernel::ffi::{
    c_int,   //
    c_ulong, //
    c_void,  //
};

pub(crate) use xen::ffi::{
    __set_phys_to_machine, //
    page_address,          //
    page_to_phys,          //
    pfn_to_page,           //
};

#[expect(
    improper_ctypes,
    reason = "bindgen's struct device has zero-sized members; only pointers cross over"
)]
extern "C" {
    /// Marks the running KUnit case skipped, with `reason`.
    fn xrs_core_test_skip(reason: *const kernel::ffi::c_char);
    /// `pfn_to_bfn()`.
    pub(crate) fn xrs_pfn_to_bfn(xen_pfn: c_ulong) -> c_ulong;
    /// `bfn_to_pfn()`.
    pub(crate) fn xrs_bfn_to_pfn(bfn: c_ulong) -> c_ulong;
    /// `vmalloc_to_page()` as a frame number; false where nothing is mapped.
    pub(crate) fn xrs_kernel_vmalloc_to_pfn(addr: *const c_void, pfn: *mut c_ulong) -> bool;
    /// The kernel's `phys_to_dma()`.
    pub(crate) fn xrs_kernel_phys_to_dma(dev: *mut bindings::device, phys: u64) -> u64;
    /// The kernel's `dma_to_phys()`.
    pub(crate) fn xrs_kernel_dma_to_phys(dev: *mut bindings::device, dma: u64) -> u64;
    /// The kernel's `dma_capable()` for a non-RAM check.
    pub(crate) fn xrs_kernel_dma_capable(dev: *mut bindings::device, dma: u64, size: u64) -> bool;
    /// The kernel's `dma_capable()` (not RAM) with the device's mask set to `mask`.
    pub(crate) fn xrs_kernel_dma_capable_mask(
        dev: *mut bindings::device,
        mask: u64,
        dma: u64,
        size: u64,
    ) -> bool;
    /// `dev->bus_dma_limit`.
    pub(crate) fn xrs_kernel_bus_dma_limit(dev: *mut bindings::device) -> u64;
    /// The kernel's `dma_range_map_min()`; `u64::MAX` without a range table.
    pub(crate) fn xrs_kernel_dma_range_map_min(dev: *mut bindings::device) -> u64;
    /// The kernel's `virt_to_phys()`.
    pub(crate) fn xrs_kernel_virt_to_phys(addr: *const c_void) -> u64;
    /// `phys_to_virt()`.
    pub(crate) fn xrs_kernel_phys_to_virt(phys: u64) -> *mut c_void;
    /// `page_to_pfn(virt_to_page(addr))`: linear-map arithmetic, whatever `addr` is.
    pub(crate) fn xrs_kernel_virt_to_page_pfn(addr: *const c_void) -> c_ulong;
    /// `virt_addr_valid()`.
    pub(crate) fn xrs_kernel_virt_addr_valid(addr: *const c_void) -> bool;
    /// `is_vmalloc_addr()`.
    pub(crate) fn xrs_kernel_is_vmalloc_addr(addr: *const c_void) -> bool;
    /// `&jiffies_64`, an address in the kernel image, and its `__pa_symbol()` into `phys`.
    pub(crate) fn xrs_kernel_image_sample(phys: *mut u64) -> *const c_void;
    /// `vmap(pages, count, VM_MAP, PAGE_KERNEL)`.
    pub(crate) fn xrs_vmap(pages: *mut *mut bindings::page, count: u32) -> *mut c_void;
    /// `vunmap()`.
    pub(crate) fn xrs_vunmap(addr: *const c_void);
    /// `get_order()`.
    pub(crate) fn xrs_get_order(size: c_ulong) -> c_int;
}

/// Marks the running KUnit case skipped, with `reason`.
pub(crate) fn skip(reason: &core::ffi::CStr) {
    // SAFETY: `reason` is NUL-terminated; KUnit copies it.
    unsafe { xrs_core_test_skip(kernel::str::CStrExt::as_char_ptr(reason)) };
}
