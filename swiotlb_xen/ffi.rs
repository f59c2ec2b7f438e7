// SPDX-License-Identifier: GPL-2.0

//! The C helpers of `swiotlb_helpers.c`.
//!
//! C header: `swiotlb_xen/swiotlb_helpers.h`.

use kernel::bindings;
use kernel::ffi::{
    c_char,  //
    c_int,   //
    c_uint,  //
    c_ulong, //
    c_void,  //
};

/// `GNTTAB_CACHE_CLEAN` (include/xen/interface/grant_table.h).
pub const GNTTAB_CACHE_CLEAN: u32 = 1 << 0;
/// `GNTTAB_CACHE_INVAL`.
pub const GNTTAB_CACHE_INVAL: u32 = 1 << 1;

#[expect(
    improper_ctypes,
    reason = "bindgen's struct device has zero-sized members; only pointers cross over"
)]
extern "C" {
    /// Our `struct dma_map_ops`.
    pub fn xrs_swiotlb_ops() -> *const c_void;
    /// `dev->dma_ops`.
    pub fn xrs_get_dma_ops(dev: *mut bindings::device) -> *const c_void;
    /// `set_dma_ops()`, and clears `dma_skip_sync` so that our sync callbacks run.
    pub fn xrs_set_dma_ops(dev: *mut bindings::device, ops: *const c_void);
    /// A referenced platform device by name, or NULL.
    pub fn xrs_find_platform_device(name: *const c_char) -> *mut bindings::device;
    /// `get_device()`.
    pub fn xrs_get_device(dev: *mut bindings::device) -> *mut bindings::device;
    /// `put_device()`.
    pub fn xrs_put_device(dev: *mut bindings::device);
    /// `dev_name()`.
    pub fn xrs_dev_name(dev: *mut bindings::device) -> *const c_char;
    /// The `devices` module parameter.
    pub fn xrs_devices_param() -> *const c_char;
    /// `dev_is_dma_coherent()`.
    pub fn xrs_dev_is_dma_coherent(dev: *mut bindings::device) -> bool;
    /// `*dev->dma_mask`, 0 without one.
    pub fn xrs_dev_dma_mask(dev: *mut bindings::device) -> u64;
    /// `dev->coherent_dma_mask`.
    pub fn xrs_dev_coherent_dma_mask(dev: *mut bindings::device) -> u64;
    /// `dma_get_min_align_mask()`.
    pub fn xrs_dev_min_align_mask(dev: *mut bindings::device) -> u64;
    /// `dma_kmalloc_needs_bounce()`.
    pub fn xrs_dma_kmalloc_needs_bounce(
        dev: *mut bindings::device,
        size: usize,
        dir: c_uint,
    ) -> bool;
    /// `memcpy` between two ranges of local, linear-mapped RAM.
    pub fn xrs_copy_phys(dst: u64, src: u64, len: usize);
    /// Cache maintenance by VA before the device accesses `[phys, phys + size)`, Dom0's
    /// own RAM.
    pub fn xrs_dcache_for_device(phys: u64, size: usize, dir: c_uint);
    /// Cache maintenance by VA before the CPU reads what the device wrote to Dom0's own
    /// RAM.
    pub fn xrs_dcache_for_cpu(phys: u64, size: usize, dir: c_uint);
    /// One `GNTTABOP_cache_flush` entry: `len` bytes at `off` into the Xen page at machine
    /// address `page`; Xen's result (0 or a negative errno).
    pub fn xrs_xen_cache_flush(page: u64, off: u16, len: u16, op: u32) -> c_int;
    /// `pfn_valid()`.
    pub fn xrs_pfn_valid(pfn: u64) -> bool;
    /// Whether Xen implements `GNTTABOP_cache_flush`.
    pub fn xrs_xen_has_cache_flush() -> bool;
    /// `alloc_pages(gfp, order)`.
    pub fn xrs_alloc_pages(gfp: bindings::gfp_t, order: c_uint) -> *mut bindings::page;
    /// `__free_pages()`.
    pub fn xrs_free_pages(page: *mut bindings::page, order: c_uint);
    /// `page_address()`.
    pub fn xrs_page_address(page: *mut bindings::page) -> *mut c_void;
    /// An uncached `vmap` of `1 << order` pages, the linear alias flushed. May sleep.
    pub fn xrs_remap_uncached(page: *mut bindings::page, order: c_uint) -> *mut c_void;
    /// `phys_to_virt()`.
    pub fn xrs_phys_to_virt(phys: u64) -> *mut c_void;
    /// Reads the D-cache line size for the cache maintenance helpers; called once at
    /// module load.
    pub fn xrs_cache_init();
    /// `synchronize_rcu()`.
    pub fn xrs_synchronize_rcu();

    /// `dma_map_phys()` then `dma_mapping_error()`: `DMA_MAPPING_ERROR` on failure.
    pub fn xrs_test_map(
        dev: *mut bindings::device,
        phys: u64,
        size: usize,
        dir: bindings::dma_data_direction,
    ) -> u64;
    /// `dma_unmap_phys()`.
    pub fn xrs_test_unmap(
        dev: *mut bindings::device,
        dma: u64,
        size: usize,
        dir: bindings::dma_data_direction,
    );
    /// `dma_sync_single_for_cpu()`.
    pub fn xrs_test_sync_for_cpu(
        dev: *mut bindings::device,
        dma: u64,
        size: usize,
        dir: bindings::dma_data_direction,
    );
    /// `dma_sync_single_for_device()`.
    pub fn xrs_test_sync_for_device(
        dev: *mut bindings::device,
        dma: u64,
        size: usize,
        dir: bindings::dma_data_direction,
    );
    /// `dma_map_sg_attrs()` of `n` physical ranges; their bus addresses into `dma`; NULL
    /// when the list was not mapped.
    pub fn xrs_test_map_sg(
        dev: *mut bindings::device,
        phys: *const u64,
        len: *const u32,
        n: c_uint,
        dir: bindings::dma_data_direction,
        attrs: c_ulong,
        dma: *mut u64,
    ) -> *mut c_void;
    /// `dma_unmap_sg_attrs()` of a list mapped by `xrs_test_map_sg`.
    pub fn xrs_test_unmap_sg(
        dev: *mut bindings::device,
        handle: *mut c_void,
        dir: bindings::dma_data_direction,
        attrs: c_ulong,
    );
    /// `dma_sync_sg_for_cpu()` or `dma_sync_sg_for_device()` of such a list.
    pub fn xrs_test_sync_sg(
        dev: *mut bindings::device,
        handle: *mut c_void,
        dir: bindings::dma_data_direction,
        for_cpu: bool,
    );
    /// `dma_map_phys()` with attributes, then `dma_mapping_error()`.
    pub fn xrs_test_map_attrs(
        dev: *mut bindings::device,
        phys: u64,
        size: usize,
        dir: bindings::dma_data_direction,
        attrs: c_ulong,
    ) -> u64;
    /// `dma_unmap_phys()` with attributes.
    pub fn xrs_test_unmap_attrs(
        dev: *mut bindings::device,
        dma: u64,
        size: usize,
        dir: bindings::dma_data_direction,
        attrs: c_ulong,
    );
    /// `dma_map_resource()`, then `dma_mapping_error()`.
    pub fn xrs_test_map_resource(
        dev: *mut bindings::device,
        phys: u64,
        size: usize,
        dir: bindings::dma_data_direction,
    ) -> u64;
    /// `dma_unmap_resource()`.
    pub fn xrs_test_unmap_resource(
        dev: *mut bindings::device,
        dma: u64,
        size: usize,
        dir: bindings::dma_data_direction,
    );
    /// `dma_alloc_attrs()`.
    pub fn xrs_test_alloc_attrs(
        dev: *mut bindings::device,
        size: usize,
        dma: *mut u64,
        gfp: bindings::gfp_t,
        attrs: c_ulong,
    ) -> *mut c_void;
    /// `dma_free_attrs()`.
    pub fn xrs_test_free_attrs(
        dev: *mut bindings::device,
        size: usize,
        vaddr: *mut c_void,
        dma: u64,
        attrs: c_ulong,
    );
    /// `dma_alloc_pages(GFP_KERNEL)`.
    pub fn xrs_test_alloc_pages(
        dev: *mut bindings::device,
        size: usize,
        dma: *mut u64,
        dir: bindings::dma_data_direction,
    ) -> *mut bindings::page;
    /// `dma_free_pages()`.
    pub fn xrs_test_free_pages(
        dev: *mut bindings::device,
        size: usize,
        page: *mut bindings::page,
        dma: u64,
        dir: bindings::dma_data_direction,
    );
    /// `dma_alloc_noncoherent(GFP_KERNEL)`.
    pub fn xrs_test_alloc_noncoherent(
        dev: *mut bindings::device,
        size: usize,
        dma: *mut u64,
        dir: bindings::dma_data_direction,
    ) -> *mut c_void;
    /// `dma_free_noncoherent()`.
    pub fn xrs_test_free_noncoherent(
        dev: *mut bindings::device,
        size: usize,
        vaddr: *mut c_void,
        dma: u64,
        dir: bindings::dma_data_direction,
    );
    /// `dma_set_min_align_mask()`.
    pub fn xrs_test_set_min_align_mask(dev: *mut bindings::device, mask: c_uint);
    /// `dma_set_seg_boundary()`.
    pub fn xrs_test_set_seg_boundary(dev: *mut bindings::device, mask: c_ulong);
    /// The kernel's `dma_get_seg_boundary()`.
    pub fn xrs_kernel_seg_boundary(dev: *mut bindings::device) -> u64;
    /// The device's `alloc` op, called without the DMA API's bookkeeping.
    pub fn xrs_test_ops_alloc(
        dev: *mut bindings::device,
        size: usize,
        dma: *mut u64,
        gfp: bindings::gfp_t,
    ) -> *mut c_void;
    /// The device's `free` op, called without the DMA API's bookkeeping.
    pub fn xrs_test_ops_free(dev: *mut bindings::device, size: usize, vaddr: *mut c_void, dma: u64);
    /// The device's `sync_single_for_cpu` or `sync_single_for_device` op, called
    /// without the DMA API's checks.
    pub fn xrs_test_ops_sync(
        dev: *mut bindings::device,
        dma: u64,
        size: usize,
        dir: bindings::dma_data_direction,
        for_cpu: bool,
    );
    /// Where the kernel's own swiotlb pool of `dev` lies: `[start, end)`.
    pub fn xrs_test_kernel_swiotlb(
        dev: *mut bindings::device,
        start: *mut u64,
        end: *mut u64,
    ) -> bool;
    /// Registers the test platform driver `xrs-test-bind`.
    pub fn xrs_test_driver_register() -> c_int;
    /// Unregisters it.
    pub fn xrs_test_driver_unregister();
    /// Binds the test driver to `dev` (`device_driver_attach()`).
    pub fn xrs_test_bind(dev: *mut bindings::device) -> c_int;
    /// `device_release_driver()`.
    pub fn xrs_test_unbind(dev: *mut bindings::device);
    /// The ops the test driver's last probe saw; the number of probes into `probes`.
    pub fn xrs_test_probe_ops(probes: *mut c_uint) -> *const c_void;
    /// Marks the running KUnit case skipped.
    pub fn xrs_test_skip(reason: *const c_char);
    /// `xen_domain()`.
    pub fn xrs_xen_domain() -> bool;
    /// Sets the module's state to `MODULE_STATE_GOING` (or back to live).
    pub fn xrs_test_module_going(going: bool);
    /// `dma_alloc_coherent()`.
    pub fn xrs_test_alloc_coherent(
        dev: *mut bindings::device,
        size: usize,
        dma: *mut u64,
    ) -> *mut c_void;
    /// `dma_free_coherent()`.
    pub fn xrs_test_free_coherent(
        dev: *mut bindings::device,
        size: usize,
        vaddr: *mut c_void,
        dma: u64,
    );
    /// `dma_set_mask()`.
    pub fn xrs_test_set_mask(dev: *mut bindings::device, mask: u64) -> c_int;
    /// `dma_mmap_coherent()` into a fresh user mapping of `map_len` bytes at page offset
    /// `pgoff` in the test's mm; what user space sees there is copied to `out`.
    pub fn xrs_test_mmap_coherent(
        dev: *mut bindings::device,
        vaddr: *mut c_void,
        dma: u64,
        size: usize,
        pgoff: kernel::ffi::c_ulong,
        map_len: usize,
        out: *mut c_void,
    ) -> c_int;
    /// `dma_get_sgtable()`: the physical address and length of its one entry.
    pub fn xrs_test_sgtable(
        dev: *mut bindings::device,
        vaddr: *mut c_void,
        dma: u64,
        size: usize,
        phys: *mut u64,
        len: *mut u32,
    ) -> c_int;
    /// `dev_assign_dma_coherent()`.
    pub fn xrs_test_set_coherent(dev: *mut bindings::device, coherent: bool);
    /// `dma_max_mapping_size()`.
    pub fn xrs_test_max_mapping_size(dev: *mut bindings::device) -> usize;
    /// `module_refcount(THIS_MODULE)`.
    pub fn xrs_module_refcount() -> c_int;
    /// `iters` map+unmap pairs of one range in direction `dir`; elapsed ns, `u64::MAX`
    /// on a failed map.
    pub fn xrs_bench_single(
        dev: *mut bindings::device,
        phys: u64,
        size: usize,
        dir: bindings::dma_data_direction,
        iters: c_uint,
    ) -> u64;
    /// `iters` map+unmap pairs of an `n`-entry scatterlist of `len`-byte ranges.
    pub fn xrs_bench_sg(
        dev: *mut bindings::device,
        phys: *const u64,
        n: c_uint,
        len: u32,
        iters: c_uint,
    ) -> u64;
}
