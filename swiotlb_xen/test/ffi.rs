// SPDX-License-Identifier: GPL-2.0

//! The test module's C (`helpers.c`): the DMA API as a driver calls it, the kernel's own
//! answers, a platform driver to bind; and the driver's and the core's helpers the suites
//! use.

use kernel::bindings;
use kernel::ffi::{
    c_char,  //
    c_int,   //
    c_uint,  //
    c_ulong, //
    c_void,  //
};

pub(crate) use xen::ffi::{
    __set_phys_to_machine, //
    page_address,          //
    page_to_phys,          //
    phys_to_virt,          //
};

#[expect(
    improper_ctypes,
    reason = "bindgen's struct device has zero-sized members; only pointers cross over"
)]
extern "C" {
    /// `dma_map_phys()` then `dma_mapping_error()`: `DMA_MAPPING_ERROR` on failure.
    pub(crate) fn xrs_test_map(
        dev: *mut bindings::device,
        phys: u64,
        size: usize,
        dir: bindings::dma_data_direction,
    ) -> u64;
    /// `dma_unmap_phys()`.
    pub(crate) fn xrs_test_unmap(
        dev: *mut bindings::device,
        dma: u64,
        size: usize,
        dir: bindings::dma_data_direction,
    );
    /// `dma_sync_single_for_cpu()`.
    pub(crate) fn xrs_test_sync_for_cpu(
        dev: *mut bindings::device,
        dma: u64,
        size: usize,
        dir: bindings::dma_data_direction,
    );
    /// `dma_sync_single_for_device()`.
    pub(crate) fn xrs_test_sync_for_device(
        dev: *mut bindings::device,
        dma: u64,
        size: usize,
        dir: bindings::dma_data_direction,
    );
    /// `dma_map_sg_attrs()` of `n` physical ranges; their bus addresses into `dma`; NULL
    /// when the list was not mapped.
    pub(crate) fn xrs_test_map_sg(
        dev: *mut bindings::device,
        phys: *const u64,
        len: *const u32,
        n: c_uint,
        dir: bindings::dma_data_direction,
        attrs: c_ulong,
        dma: *mut u64,
    ) -> *mut c_void;
    /// `dma_unmap_sg_attrs()` of a list mapped by `xrs_test_map_sg`.
    pub(crate) fn xrs_test_unmap_sg(
        dev: *mut bindings::device,
        handle: *mut c_void,
        dir: bindings::dma_data_direction,
        attrs: c_ulong,
    );
    /// `dma_sync_sg_for_cpu()` or `dma_sync_sg_for_device()` of such a list.
    pub(crate) fn xrs_test_sync_sg(
        dev: *mut bindings::device,
        handle: *mut c_void,
        dir: bindings::dma_data_direction,
        for_cpu: bool,
    );
    /// `dma_map_phys()` with attributes, then `dma_mapping_error()`.
    pub(crate) fn xrs_test_map_attrs(
        dev: *mut bindings::device,
        phys: u64,
        size: usize,
        dir: bindings::dma_data_direction,
        attrs: c_ulong,
    ) -> u64;
    /// `dma_unmap_phys()` with attributes.
    pub(crate) fn xrs_test_unmap_attrs(
        dev: *mut bindings::device,
        dma: u64,
        size: usize,
        dir: bindings::dma_data_direction,
        attrs: c_ulong,
    );
    /// `dma_map_resource()`, then `dma_mapping_error()`.
    pub(crate) fn xrs_test_map_resource(
        dev: *mut bindings::device,
        phys: u64,
        size: usize,
        dir: bindings::dma_data_direction,
    ) -> u64;
    /// `dma_unmap_resource()`.
    pub(crate) fn xrs_test_unmap_resource(
        dev: *mut bindings::device,
        dma: u64,
        size: usize,
        dir: bindings::dma_data_direction,
    );
    /// `dma_alloc_attrs()`.
    pub(crate) fn xrs_test_alloc_attrs(
        dev: *mut bindings::device,
        size: usize,
        dma: *mut u64,
        gfp: bindings::gfp_t,
        attrs: c_ulong,
    ) -> *mut c_void;
    /// `dma_free_attrs()`.
    pub(crate) fn xrs_test_free_attrs(
        dev: *mut bindings::device,
        size: usize,
        vaddr: *mut c_void,
        dma: u64,
        attrs: c_ulong,
    );
    /// `dma_alloc_pages(GFP_KERNEL)`.
    pub(crate) fn xrs_test_alloc_pages(
        dev: *mut bindings::device,
        size: usize,
        dma: *mut u64,
        dir: bindings::dma_data_direction,
    ) -> *mut bindings::page;
    /// `dma_free_pages()`.
    pub(crate) fn xrs_test_free_pages(
        dev: *mut bindings::device,
        size: usize,
        page: *mut bindings::page,
        dma: u64,
        dir: bindings::dma_data_direction,
    );
    /// `dma_alloc_noncoherent(GFP_KERNEL)`.
    pub(crate) fn xrs_test_alloc_noncoherent(
        dev: *mut bindings::device,
        size: usize,
        dma: *mut u64,
        dir: bindings::dma_data_direction,
    ) -> *mut c_void;
    /// `dma_free_noncoherent()`.
    pub(crate) fn xrs_test_free_noncoherent(
        dev: *mut bindings::device,
        size: usize,
        vaddr: *mut c_void,
        dma: u64,
        dir: bindings::dma_data_direction,
    );
    /// `dma_set_min_align_mask()`.
    pub(crate) fn xrs_test_set_min_align_mask(dev: *mut bindings::device, mask: c_uint);
    /// `dma_set_seg_boundary()`.
    pub(crate) fn xrs_test_set_seg_boundary(dev: *mut bindings::device, mask: c_ulong);
    /// The kernel's `dma_get_seg_boundary()`.
    pub(crate) fn xrs_kernel_seg_boundary(dev: *mut bindings::device) -> u64;
    /// `dma_get_min_align_mask()`.
    pub(crate) fn xrs_kernel_min_align_mask(dev: *mut bindings::device) -> u64;
    /// The device's `alloc` op, called without the DMA API's bookkeeping.
    pub(crate) fn xrs_test_ops_alloc(
        dev: *mut bindings::device,
        size: usize,
        dma: *mut u64,
        gfp: bindings::gfp_t,
    ) -> *mut c_void;
    /// The device's `free` op, called without the DMA API's bookkeeping.
    pub(crate) fn xrs_test_ops_free(
        dev: *mut bindings::device,
        size: usize,
        vaddr: *mut c_void,
        dma: u64,
    );
    /// The device's `sync_single_for_cpu` or `sync_single_for_device` op, called
    /// without the DMA API's checks.
    pub(crate) fn xrs_test_ops_sync(
        dev: *mut bindings::device,
        dma: u64,
        size: usize,
        dir: bindings::dma_data_direction,
        for_cpu: bool,
    );
    /// Where the kernel's own swiotlb pool of `dev` lies: `[start, end)`.
    pub(crate) fn xrs_test_kernel_swiotlb(
        dev: *mut bindings::device,
        start: *mut u64,
        end: *mut u64,
    ) -> bool;
    /// Registers the test platform driver `xrs-test-bind`.
    pub(crate) fn xrs_test_driver_register() -> c_int;
    /// Unregisters it.
    pub(crate) fn xrs_test_driver_unregister();
    /// Binds the test driver to `dev` (`device_driver_attach()`).
    pub(crate) fn xrs_test_bind(dev: *mut bindings::device) -> c_int;
    /// `device_release_driver()`.
    pub(crate) fn xrs_test_unbind(dev: *mut bindings::device);
    /// The ops the test driver's last probe saw; the number of probes into `probes`.
    pub(crate) fn xrs_test_probe_ops(probes: *mut c_uint) -> *const c_void;
    /// Marks the running KUnit case skipped.
    pub(crate) fn xrs_test_skip(reason: *const c_char);
    /// Sets the state of `module` to `MODULE_STATE_GOING` (or back to live).
    pub(crate) fn xrs_test_module_going(module: *mut bindings::module, going: bool);
    /// `dma_alloc_coherent()`.
    pub(crate) fn xrs_test_alloc_coherent(
        dev: *mut bindings::device,
        size: usize,
        dma: *mut u64,
    ) -> *mut c_void;
    /// `dma_free_coherent()`.
    pub(crate) fn xrs_test_free_coherent(
        dev: *mut bindings::device,
        size: usize,
        vaddr: *mut c_void,
        dma: u64,
    );
    /// `dma_set_mask()`.
    pub(crate) fn xrs_test_set_mask(dev: *mut bindings::device, mask: u64) -> c_int;
    /// `dma_mmap_coherent()` into a fresh user mapping of `map_len` bytes at page offset
    /// `pgoff` in the test's mm; what user space sees there is copied to `out`.
    pub(crate) fn xrs_test_mmap_coherent(
        dev: *mut bindings::device,
        vaddr: *mut c_void,
        dma: u64,
        size: usize,
        pgoff: kernel::ffi::c_ulong,
        map_len: usize,
        out: *mut c_void,
    ) -> c_int;
    /// The kernel's `vmalloc_to_page()` as a frame number; false where nothing is mapped.
    pub(crate) fn xrs_swiotlb_kernel_vmalloc_to_pfn(addr: *const c_void, pfn: *mut c_ulong)
        -> bool;
    /// The kernel's `virt_to_phys()`.
    pub(crate) fn xrs_swiotlb_kernel_virt_to_phys(addr: *const c_void) -> u64;
    /// `dev->bus_dma_limit`.
    pub(crate) fn xrs_swiotlb_kernel_bus_dma_limit(dev: *mut bindings::device) -> u64;
    /// `dev_is_dma_coherent()`.
    pub(crate) fn xrs_kernel_is_dma_coherent(dev: *mut bindings::device) -> bool;
    /// `*dev->dma_mask`, 0 without one.
    pub(crate) fn xrs_kernel_dma_mask(dev: *mut bindings::device) -> u64;
    /// `dma_get_sgtable()`: the physical address and length of its one entry.
    pub(crate) fn xrs_test_sgtable(
        dev: *mut bindings::device,
        vaddr: *mut c_void,
        dma: u64,
        size: usize,
        phys: *mut u64,
        len: *mut u32,
    ) -> c_int;
    /// `dev_assign_dma_coherent()`.
    pub(crate) fn xrs_test_set_coherent(dev: *mut bindings::device, coherent: bool);
    /// `dma_max_mapping_size()`.
    pub(crate) fn xrs_test_max_mapping_size(dev: *mut bindings::device) -> usize;
    /// `module_refcount(THIS_MODULE)`.
    pub(crate) fn xrs_module_refcount(module: *mut bindings::module) -> c_int;
    /// `iters` map+unmap pairs of one range in direction `dir`; elapsed ns, `u64::MAX`
    /// on a failed map.
    pub(crate) fn xrs_bench_single(
        dev: *mut bindings::device,
        phys: u64,
        size: usize,
        dir: bindings::dma_data_direction,
        iters: c_uint,
    ) -> u64;
    /// `iters` map+unmap pairs of an `n`-entry scatterlist of `len`-byte ranges.
    pub(crate) fn xrs_bench_sg(
        dev: *mut bindings::device,
        phys: *const u64,
        n: c_uint,
        len: u32,
        iters: c_uint,
    ) -> u64;
    /// The `i`th device the module's `board_devices` names, referenced; null past the
    /// end, `ERR_PTR(-ENODEV)` for a name no platform device has.
    pub(crate) fn xrs_test_board_device(i: c_uint) -> *mut bindings::device;
    /// `put_device()`.
    pub(crate) fn xrs_test_put_device(dev: *mut bindings::device);
}
