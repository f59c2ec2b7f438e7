// SPDX-License-Identifier: GPL-2.0

//! What the core reaches in C: the helpers of `xen/helpers.c` (header inlines and macros,
//! named as the kernel names its own Rust helpers, `rust_helper_…`), and exported kernel
//! symbols that the generated bindings do not declare.

use kernel::bindings;
use kernel::ffi::{
    c_uint,  //
    c_ulong, //
    c_void,  //
};

#[expect(
    improper_ctypes,
    reason = "bindgen's struct device has zero-sized members; only pointers cross over"
)]
extern "C" {
    /// `page_to_phys()`.
    #[link_name = "rust_helper_page_to_phys"]
    pub fn page_to_phys(page: *const bindings::page) -> u64;
    /// `pfn_to_page()`.
    #[link_name = "rust_helper_pfn_to_page"]
    pub fn pfn_to_page(pfn: c_ulong) -> *mut bindings::page;
    /// `page_to_pfn()`.
    #[link_name = "rust_helper_page_to_pfn"]
    pub fn page_to_pfn(page: *const bindings::page) -> c_ulong;
    /// `page_address()` (arm64 has no highmem: the linear-map address).
    #[link_name = "rust_helper_page_address"]
    pub fn page_address(page: *const bindings::page) -> *mut c_void;
    /// `phys_to_virt()`.
    #[link_name = "rust_helper_phys_to_virt"]
    pub fn phys_to_virt(phys: u64) -> *mut c_void;
    /// `pfn_valid()`.
    #[link_name = "rust_helper_pfn_valid"]
    pub fn pfn_valid(pfn: c_ulong) -> bool;
    /// `PAGE_OFFSET`.
    #[link_name = "rust_helper_PAGE_OFFSET"]
    pub fn PAGE_OFFSET() -> c_ulong;
    /// `PHYS_OFFSET`.
    #[link_name = "rust_helper_PHYS_OFFSET"]
    pub fn PHYS_OFFSET() -> u64;
    /// `VMALLOC_START`.
    #[link_name = "rust_helper_VMALLOC_START"]
    pub fn VMALLOC_START() -> c_ulong;
    /// `VMALLOC_END`.
    #[link_name = "rust_helper_VMALLOC_END"]
    pub fn VMALLOC_END() -> c_ulong;
    /// `vmap(pages, count, VM_MAP, pgprot_dmacoherent(PAGE_KERNEL))`: the uncached kernel
    /// mapping dma-direct gives non-coherent devices' buffers on arm64.
    #[link_name = "rust_helper_vmap_dmacoherent"]
    pub fn vmap_dmacoherent(pages: *mut *mut bindings::page, count: c_uint) -> *mut c_void;

    /// `dma_kmalloc_needs_bounce()`.
    #[link_name = "rust_helper_dma_kmalloc_needs_bounce"]
    pub fn dma_kmalloc_needs_bounce(
        dev: *mut bindings::device,
        size: usize,
        dir: bindings::dma_data_direction,
    ) -> bool;
    /// `pgprot_dmacoherent()`.
    #[link_name = "rust_helper_pgprot_dmacoherent"]
    pub fn pgprot_dmacoherent(prot: bindings::pgprot_t) -> bindings::pgprot_t;
    /// `pgprot_writecombine()`.
    #[link_name = "rust_helper_pgprot_writecombine"]
    pub fn pgprot_writecombine(prot: bindings::pgprot_t) -> bindings::pgprot_t;
    /// `sg_set_page()`.
    #[link_name = "rust_helper_sg_set_page"]
    pub fn sg_set_page(
        sg: *mut bindings::scatterlist,
        page: *mut bindings::page,
        len: c_uint,
        offset: c_uint,
    );
    /// `read_sanitised_ftr_reg(SYS_CTR_EL0)`: the cache type register every CPU agrees
    /// on (arm64).
    #[link_name = "rust_helper_read_sanitised_ctr_el0"]
    pub fn read_sanitised_ctr_el0() -> u64;
    /// `current->mm`: the calling task's address space (null in a kernel thread). The
    /// kernel crate's `CurrentTask::mm()` reads the wrong field in this kernel: its
    /// bindings lay out `struct task_struct` 48 bytes short of C's before `mm` (offset
    /// 936 against 984, measured).
    #[link_name = "rust_helper_current_mm"]
    pub fn current_mm() -> *mut bindings::mm_struct;
    /// `mmap_write_lock()`.
    #[link_name = "rust_helper_mmap_write_lock"]
    pub fn mmap_write_lock(mm: *mut bindings::mm_struct);
    /// `mmap_write_unlock()`.
    #[link_name = "rust_helper_mmap_write_unlock"]
    pub fn mmap_write_unlock(mm: *mut bindings::mm_struct);
    /// `access_ok()`: whether `[ptr, ptr + size)` lies in user space.
    #[link_name = "rust_helper_access_ok"]
    pub fn access_ok(ptr: *const c_void, size: c_ulong) -> bool;
    /// `ptep_get()`.
    #[link_name = "rust_helper_ptep_get"]
    pub fn ptep_get(ptep: *mut bindings::pte_t) -> bindings::pte_t;
    /// `pte_none()`.
    #[link_name = "rust_helper_pte_none"]
    pub fn pte_none(pte: bindings::pte_t) -> kernel::ffi::c_int;

    /// `vunmap()` (mm/vmalloc.c, exported).
    pub fn vunmap(addr: *const c_void);
}

// Exports that the kernel's bindings do not declare, from the core's own bindings:
// `__pfn_to_mfn()` (the p2m tree lookup behind `pfn_to_bfn()`; `INVALID_P2M_ENTRY`, ~0,
// when the frame has no entry), `__set_phys_to_machine()`, and `phys_to_mach`, the root
// of Arm's p2m tree, empty while no page of another domain is mapped
// (arch/arm/xen/p2m.c).
pub use crate::bindings::{
    __pfn_to_mfn,          //
    __set_phys_to_machine, //
    phys_to_mach,          //
};
