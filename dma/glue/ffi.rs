// SPDX-License-Identifier: GPL-2.0

//! The C helpers of `dma_helpers.c`: out-of-line copies of kernel inlines and macros.
//!
//! C header: `dma/dma_helpers.h`.

use kernel::bindings;
use kernel::ffi::{
    c_char,  //
    c_int,   //
    c_uint,  //
    c_ulong, //
    c_void,  //
};

/// `struct xrs_virt_layout`: the kernel's virtual memory layout.
#[repr(C)]
#[derive(Default)]
pub struct VirtLayoutRaw {
    /// `PAGE_OFFSET`.
    pub linear_start: c_ulong,
    /// `high_memory`.
    pub linear_end: c_ulong,
    /// `PHYS_OFFSET`.
    pub phys_offset: u64,
    /// `VMALLOC_START`.
    pub vmalloc_start: c_ulong,
    /// `VMALLOC_END`.
    pub vmalloc_end: c_ulong,
}

#[expect(
    improper_ctypes,
    reason = "bindgen's struct device has zero-sized members; only pointers cross over"
)]
extern "C" {
    /// `pfn_to_bfn()`.
    pub fn xrs_pfn_to_bfn(xen_pfn: c_ulong) -> c_ulong;
    /// `bfn_to_pfn()`.
    pub fn xrs_bfn_to_pfn(bfn: c_ulong) -> c_ulong;
    /// Fills `l` with the kernel's layout.
    pub fn xrs_virt_layout(l: *mut VirtLayoutRaw);
    /// `vmalloc_to_page()` as a frame number; false where nothing is mapped.
    pub fn xrs_vmalloc_to_pfn(addr: *const c_void, pfn: *mut c_ulong) -> bool;
    /// The kernel's `phys_to_dma()`.
    pub fn xrs_kernel_phys_to_dma(dev: *mut bindings::device, phys: u64) -> u64;
    /// The kernel's `dma_to_phys()`.
    pub fn xrs_kernel_dma_to_phys(dev: *mut bindings::device, dma: u64) -> u64;
    /// The kernel's `dma_capable()` for a non-RAM check.
    pub fn xrs_kernel_dma_capable(dev: *mut bindings::device, dma: u64, size: u64) -> bool;
    /// `dev->bus_dma_limit`.
    pub fn xrs_kernel_bus_dma_limit(dev: *mut bindings::device) -> u64;
    /// The kernel's `virt_to_phys()`.
    pub fn xrs_kernel_virt_to_phys(addr: *const c_void) -> u64;
    /// `page_to_pfn(virt_to_page(addr))`: linear-map arithmetic, whatever `addr` is.
    pub fn xrs_kernel_virt_to_page_pfn(addr: *const c_void) -> c_ulong;
    /// `virt_addr_valid()`.
    pub fn xrs_kernel_virt_addr_valid(addr: *const c_void) -> bool;
    /// `is_vmalloc_addr()`.
    pub fn xrs_kernel_is_vmalloc_addr(addr: *const c_void) -> bool;
    /// `page_to_phys()`.
    pub fn xrs_page_to_phys(page: *mut bindings::page) -> u64;
    /// `pfn_to_page()`.
    pub fn xrs_pfn_to_page(pfn: c_ulong) -> *mut bindings::page;
    /// `vmap(pages, count, VM_MAP, PAGE_KERNEL)`.
    pub fn xrs_vmap(pages: *mut *mut bindings::page, count: c_uint) -> *mut c_void;
    /// `vunmap()`.
    pub fn xrs_vunmap(addr: *const c_void);
    /// `get_order()`.
    pub fn xrs_get_order(size: c_ulong) -> c_int;
    /// A platform device for the DT node at `path`, DMA configured by `of_dma_configure`.
    pub fn xrs_of_dma_device(path: *const c_char) -> *mut bindings::platform_device;
    /// `&jiffies_64`, an address in the kernel image, and its `__pa_symbol()` into `phys`.
    pub fn xrs_kernel_image_sample(phys: *mut u64) -> *const c_void;
    /// The kernel's `dma_range_map_min()`; `u64::MAX` without a range table.
    pub fn xrs_kernel_dma_range_map_min(dev: *mut bindings::device) -> u64;
    /// The kernel's `dma_capable()` (not RAM) with the device's mask set to `mask`.
    pub fn xrs_kernel_dma_capable_mask(
        dev: *mut bindings::device,
        mask: u64,
        dma: u64,
        size: u64,
    ) -> bool;
    /// `phys_to_virt()`.
    pub fn xrs_kernel_phys_to_virt(phys: u64) -> *mut c_void;
    /// `&pdev->dev`.
    pub fn xrs_platform_dev(pdev: *mut bindings::platform_device) -> *mut bindings::device;

    /// Exported by arch/arm/xen/p2m.c; not in the generated bindings.
    pub fn __set_phys_to_machine(pfn: c_ulong, mfn: c_ulong) -> bool;

    /// The p2m tree lookup behind `pfn_to_bfn()` (arch/arm/xen/p2m.c, exported):
    /// `INVALID_P2M_ENTRY` (~0) when the frame has no entry.
    pub fn __pfn_to_mfn(pfn: c_ulong) -> c_ulong;

    /// The root of Arm's p2m tree (arch/arm/xen/p2m.c, exported; not in the generated
    /// bindings): empty while no page of another domain is mapped.
    pub static phys_to_mach: bindings::rb_root;
}
