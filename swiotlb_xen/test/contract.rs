// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `xen_swiotlb_contract`: the points of the DMA API contract a review found
//! broken in the Rust xen-swiotlb, one case each, through the DMA API as drivers call it
//! (or through the ops directly where the DMA API's own checks would stop a buggy caller
//! first). Each case failed before its fix.

use kernel::prelude::*;

#[kunit_tests(xen_swiotlb_contract)]
mod tests {
    use kernel::bindings;
    use kernel::bindings::dma_data_direction as Dir;
    use kernel::ffi::{
        c_ulong, //
        c_void,  //
    };
    use kernel::new_spinlock;
    use kernel::page::PAGE_SIZE;
    use kernel::prelude::*;
    use kernel::sync::atomic::Relaxed;

    use crate::attach;
    use crate::dma::addr::{
        DmaAddr,     //
        MachineAddr, //
    };
    use crate::dma::glue::fixture::Rpi4Buses;
    use crate::ffi;
    use crate::testing::{
        block,        //
        built_in,     //
        module_refs,  //
        one_more,     //
        pattern,      //
        placed_buses, //
        skip,         //
        Rig,          //
        DIFF_MMIO,    //
    };
    use xen::hypercall::grant_table;

    const SKIP_CPU_SYNC: c_ulong = bindings::DMA_ATTR_SKIP_CPU_SYNC as c_ulong;
    const NO_WARN: c_ulong = bindings::DMA_ATTR_NO_WARN as c_ulong;
    const ERROR: u64 = DmaAddr::MAPPING_ERROR.as_u64();

    /// What the CPU sees through a kernel address.
    fn bytes<'a>(vaddr: *mut c_void, len: usize) -> &'a [u8] {
        // SAFETY: the callers pass a live buffer of at least `len` bytes, not written
        // while the view lives.
        unsafe { core::slice::from_raw_parts(vaddr.cast::<u8>(), len) }
    }

    fn holds(vaddr: *mut c_void, len: usize, seed: u8) -> bool {
        bytes(vaddr, len)
            .iter()
            .enumerate()
            .all(|(i, &b)| b == pattern(i, seed))
    }

    fn write(vaddr: *mut c_void, len: usize, seed: u8) {
        for i in 0..len {
            // SAFETY: as in `bytes`; no view is live.
            unsafe { vaddr.cast::<u8>().add(i).write(pattern(i, seed)) };
        }
    }

    /// 1: a driver that syncs the head of a buffer, writes its tail from the CPU and
    /// unmaps with `DMA_ATTR_SKIP_CPU_SYNC` (network drivers building an skb) keeps its
    /// CPU writes: the bounce slot is not copied back.
    #[test]
    fn skip_cpu_sync_unmap_keeps_cpu_writes() -> Result {
        let blk = block()?;
        let buses = placed_buses(&blk)?;
        let rig = Rig::placed(&buses, &blk)?;
        let p = rig.unreachable_pages(0)?;
        p.fill(40);
        let len = PAGE_SIZE;
        let dma = rig.map(p.phys, len, Dir::DMA_FROM_DEVICE);
        assert!(rig.in_pool(dma));
        assert!(rig.engine().fill(dma, len, 41)?);
        // SAFETY: a live mapping of this device; the head of it.
        unsafe { ffi::xrs_test_sync_for_cpu(rig.raw(), dma, 512, Dir::DMA_FROM_DEVICE) };
        p.fill_range(512, len - 512, 42);
        // SAFETY: the live mapping, unmapped without a sync.
        unsafe {
            ffi::xrs_test_unmap_attrs(rig.raw(), dma, len, Dir::DMA_FROM_DEVICE, SKIP_CPU_SYNC)
        };
        assert!(p.holds_range(0, 512, 41));
        assert!(p.holds_range(512, len - 512, 42));
        Ok(())
    }

    /// 1: a scatterlist whose mapping fails half-way is unwound without copying the
    /// bounces of the entries already mapped back over their buffers.
    #[test]
    fn failed_scatterlist_unwinds_without_copying_back() -> Result {
        let blk = block()?;
        let buses = placed_buses(&blk)?;
        let rig = Rig::placed(&buses, &blk)?;
        let a = rig.unreachable_pages(0)?;
        // 512 KiB out of reach: no bounce can hold it.
        let big = rig.unreachable_pages(7)?;
        let (refs, used) = (module_refs(), rig.s.pool_stats().used);
        let copied = rig.s.stats.bounced_bytes.load(Relaxed);
        let phys = [a.phys, big.phys];
        let len = [PAGE_SIZE as u32, big.bytes() as u32];
        let mut dma = [0u64; 2];
        // SAFETY: two ranges of pages we own; `dma` has room for two addresses.
        let h = unsafe {
            ffi::xrs_test_map_sg(
                rig.raw(),
                phys.as_ptr(),
                len.as_ptr(),
                2,
                Dir::DMA_FROM_DEVICE,
                NO_WARN,
                dma.as_mut_ptr(),
            )
        };
        assert!(h.is_null());
        // The first entry's bounce was filled at map time, and only then.
        let copied = rig.s.stats.bounced_bytes.load(Relaxed) - copied;
        assert_eq!(copied, PAGE_SIZE as u64);
        assert_eq!(rig.s.pool_stats().used, used);
        assert_eq!(module_refs(), refs);
        Ok(())
    }

    /// 2: `dma_map_resource()` gives the bus address through `dma-ranges`, as
    /// dma-direct does, and its unmap releases the mapping's module reference.
    #[test]
    fn mmio_mapping_is_translated_and_released() -> Result {
        let hole = block()?;
        let buses = Rpi4Buses::apply_diff((hole.phys, hole.bytes() as u64))?;
        let rig = Rig::diff(&buses, &hole)?;
        let refs = module_refs();
        // SAFETY: the device is live; nothing is accessed at the address.
        let dma =
            unsafe { ffi::xrs_test_map_resource(rig.raw(), DIFF_MMIO, 64, Dir::DMA_FROM_DEVICE) };
        // Through the bus's window: bus = physical - 0x2000_0000.
        assert_eq!(dma, DIFF_MMIO - 0x2000_0000);
        assert_eq!(module_refs(), one_more(refs));
        // SAFETY: the mapping made above.
        unsafe { ffi::xrs_test_unmap_resource(rig.raw(), dma, 64, Dir::DMA_FROM_DEVICE) };
        assert_eq!(module_refs(), refs);
        Ok(())
    }

    /// 2: MMIO outside RAM on a non-coherent device without `dma-ranges` is handed over
    /// and taken back without cache maintenance (the linear alias of QEMU virt's UART does
    /// not exist: cleaning it would fault).
    #[test]
    fn mmio_outside_ram_gets_no_cache_maintenance() -> Result {
        let buses = Rpi4Buses::apply()?;
        let rig = Rig::attach(buses.scb_genet()?, [(0, 0, 1 << 32); 2], 1)?;
        let refs = module_refs();
        let uart = 0x0900_0000;
        // SAFETY: the device is live; nothing is accessed at `uart`.
        let dma =
            unsafe { ffi::xrs_test_map_resource(rig.raw(), uart, 0x1000, Dir::DMA_FROM_DEVICE) };
        assert_eq!(dma, uart);
        // SAFETY: the mapping made above.
        unsafe { ffi::xrs_test_unmap_resource(rig.raw(), dma, 0x1000, Dir::DMA_FROM_DEVICE) };
        assert_eq!(module_refs(), refs);
        Ok(())
    }

    /// 3: `GFP_ATOMIC` under a spinlock (USB host controllers' `dma_pool_alloc`): the
    /// non-coherent device is served from the atomic pool without sleeping, the coherent
    /// one with plain pages and the caller's flags.
    #[test]
    fn atomic_coherent_alloc_under_a_spinlock() -> Result {
        let buses = Rpi4Buses::apply()?;
        let rig = Rig::at_1g(&buses)?;
        let lock = KBox::pin_init(new_spinlock!(()), GFP_KERNEL)?;
        let size = 3 * PAGE_SIZE;
        for coherent in [false, true] {
            // SAFETY: the test's own device, with no mapping live.
            unsafe { ffi::xrs_test_set_coherent(rig.raw(), coherent) };
            let atomic = rig.s.pool_stats().atomic.1;
            let mut dma = 0u64;
            let guard = lock.lock();
            // SAFETY: the device is live; `dma` is an out-parameter.
            let vaddr = unsafe {
                ffi::xrs_test_alloc_attrs(rig.raw(), size, &mut dma, bindings::GFP_ATOMIC, 0)
            };
            drop(guard);
            assert!(!vaddr.is_null());
            // Four pages (order 2) from the atomic pool for the non-coherent device only.
            let from_pool = if coherent { 0 } else { 4 };
            assert_eq!(rig.s.pool_stats().atomic.1, atomic + from_pool);
            assert!(bytes(vaddr, size).iter().all(|&b| b == 0));
            assert!(rig.engine().fill(dma, size, 43)?);
            assert!(holds(vaddr, size, 43));
            // SAFETY: frees what was allocated above.
            unsafe { ffi::xrs_test_free_attrs(rig.raw(), size, vaddr, dma, 0) };
            assert_eq!(rig.s.pool_stats().atomic.1, atomic);
        }
        // SAFETY: as above.
        unsafe { ffi::xrs_test_set_coherent(rig.raw(), false) };
        Ok(())
    }

    /// 3: the allocation attributes a driver may pass are accepted: the buffer is
    /// usable by the device and the CPU, and freed with the same attributes.
    #[test]
    fn coherent_alloc_with_every_attribute() -> Result {
        let buses = Rpi4Buses::apply()?;
        let rig = Rig::at_1g(&buses)?;
        let live = rig.s.stats.coherent.load(Relaxed);
        for a in [
            0,
            bindings::DMA_ATTR_WRITE_COMBINE,
            bindings::DMA_ATTR_NO_WARN,
            bindings::DMA_ATTR_NO_KERNEL_MAPPING,
            bindings::DMA_ATTR_WEAK_ORDERING,
        ] {
            let attrs = a as c_ulong;
            let mut dma = 0u64;
            // SAFETY: the device is live; `dma` is an out-parameter.
            let vaddr = unsafe {
                ffi::xrs_test_alloc_attrs(
                    rig.raw(),
                    PAGE_SIZE,
                    &mut dma,
                    bindings::GFP_KERNEL,
                    attrs,
                )
            };
            assert!(!vaddr.is_null());
            assert!(rig.engine().fill(dma, PAGE_SIZE, 44)?);
            // The Rust ops always give a kernel mapping (which NO_KERNEL_MAPPING allows).
            assert!(holds(vaddr, PAGE_SIZE, 44));
            // SAFETY: frees what was allocated above.
            unsafe { ffi::xrs_test_free_attrs(rig.raw(), PAGE_SIZE, vaddr, dma, attrs) };
        }
        assert_eq!(rig.s.stats.coherent.load(Relaxed), live);
        Ok(())
    }

    /// 4: once rmmod has found no reference (the module is going), a mapping fails and
    /// takes none, instead of leaving a bounce behind the unloaded module.
    #[test]
    fn no_mapping_while_the_module_goes_away() -> Result {
        let blk = block()?;
        let buses = placed_buses(&blk)?;
        let rig = Rig::placed(&buses, &blk)?;
        let p = rig.unreachable_pages(0)?;
        if built_in() {
            skip(c"xen-swiotlb is built in: there is no module to go away");
            return Ok(());
        }
        let (refs, used) = (module_refs(), rig.s.pool_stats().used);
        // SAFETY: restored right after the one call below.
        unsafe { ffi::xrs_test_module_going(xen_swiotlb::this_module(), true) };
        let dma = rig.map(p.phys, 64, Dir::DMA_TO_DEVICE);
        // SAFETY: as above.
        unsafe { ffi::xrs_test_module_going(xen_swiotlb::this_module(), false) };
        if dma != ERROR {
            rig.unmap(dma, 64, Dir::DMA_TO_DEVICE);
        }
        assert_eq!(dma, ERROR);
        assert_eq!(module_refs(), refs);
        assert_eq!(rig.s.pool_stats().used, used);
        Ok(())
    }

    /// 5: bounces keep the device's segment boundary in bus space.
    #[test]
    fn bounces_keep_the_segment_boundary() -> Result {
        let blk = block()?;
        let buses = placed_buses(&blk)?;
        let rig = Rig::placed(&buses, &blk)?;
        let src = rig.unreachable_pages(5)?;
        // SAFETY: the test's own device.
        unsafe { ffi::xrs_test_set_seg_boundary(rig.raw(), 0xffff) };
        let mut maps = KVec::new();
        let mut off = 0usize;
        // 48 KiB then sizes that would land across the next 64 KiB line if packed.
        for size in [48 << 10, 24 << 10, 20 << 10, 40 << 10, 8 << 10, 60 << 10] {
            let dma = rig.map(src.phys + off as u64, size, Dir::DMA_TO_DEVICE);
            assert!(rig.in_pool(dma));
            assert_eq!(dma >> 16, (dma + size as u64 - 1) >> 16);
            maps.push((dma, size), GFP_KERNEL)?;
            off = (off + size) % (src.bytes() / 2);
        }
        for (dma, size) in maps {
            rig.unmap(dma, size, Dir::DMA_TO_DEVICE);
        }
        // SAFETY: back to no boundary.
        unsafe { ffi::xrs_test_set_seg_boundary(rig.raw(), c_ulong::MAX) };
        Ok(())
    }

    /// 5: `dma_max_mapping_size()` accounts for `min_align_mask`: a mapping of that size
    /// with the worst offset is placed.
    #[test]
    fn max_mapping_size_fits_with_min_align_mask() -> Result {
        let blk = block()?;
        let buses = placed_buses(&blk)?;
        let rig = Rig::placed(&buses, &blk)?;
        let src = rig.unreachable_pages(7)?;
        src.fill(45);
        // SAFETY: the test's own device.
        unsafe { ffi::xrs_test_set_min_align_mask(rig.raw(), 0xfff) };
        // SAFETY: the device is live.
        let max = unsafe { ffi::xrs_test_max_mapping_size(rig.raw()) };
        assert_eq!(max, (256 << 10) - 4096);
        let dma = rig.map(src.phys + 0xfff, max, Dir::DMA_TO_DEVICE);
        let ok = dma != ERROR;
        if ok {
            assert_eq!(dma & 0xfff, 0xfff);
            let mut v = KVec::from_elem(0u8, max, GFP_KERNEL)?;
            assert!(rig.engine().read(dma, &mut v));
            assert!(v
                .iter()
                .enumerate()
                .all(|(i, &b)| b == pattern(0xfff + i, 45)));
            rig.unmap(dma, max, Dir::DMA_TO_DEVICE);
        }
        // SAFETY: back to none.
        unsafe { ffi::xrs_test_set_min_align_mask(rig.raw(), 0) };
        assert!(ok);
        Ok(())
    }

    /// 6: Xen's cache flush takes one Xen page an entry: a longer entry is refused, so
    /// the module splits, and every entry of a three-page range is accepted.
    #[test]
    fn xen_cache_flush_one_xen_page_an_entry() -> Result {
        let s = crate::ops::Swiotlb::get().ok_or(ENODEV)?;
        if !xen::hypercall::xen_domain() || !s.has_cache_flush() {
            skip(c"needs Xen's GNTTABOP_cache_flush");
            return Ok(());
        }
        let blk = block()?;
        let buses = placed_buses(&blk)?;
        let rig = Rig::placed(&buses, &blk)?;
        // The block is Dom0's own RAM, mapped 1:1, which Xen lets Dom0 flush.
        let r = grant_table::cache_flush(&grant_table::CacheFlush {
            dev_bus_addr: blk.phys,
            offset: 0,
            length: 2 * 4096,
            op: grant_table::CACHE_CLEAN,
        });
        assert_eq!(r, Err(EINVAL));
        let failed = rig.s.stats.cache_flush_failed.load(Relaxed);
        let range = MachineAddr::new(blk.phys + 0x100);
        assert_eq!(
            rig.s
                .xen_cache_flush(range, 3 * 4096, grant_table::CACHE_CLEAN),
            Ok(())
        );
        assert_eq!(
            rig.s.xen_cache_flush(
                range,
                3 * 4096,
                grant_table::CACHE_INVAL | grant_table::CACHE_CLEAN
            ),
            Ok(())
        );
        assert_eq!(rig.s.stats.cache_flush_failed.load(Relaxed), failed);
        Ok(())
    }

    /// 7: binding a driver re-runs the bus's DMA configuration (under Xen it puts the C
    /// ops back); the driver's probe still finds the Rust ops, bind after bind.
    #[test]
    fn attach_survives_bind_and_rebind() -> Result {
        let buses = Rpi4Buses::apply()?;
        let rig = Rig::at_1g(&buses)?;
        // SAFETY: registration of the test driver, unregistered below.
        kernel::error::to_result(unsafe { ffi::xrs_test_driver_register() })?;
        let ours = crate::testing::rust_ops();
        let xen = xen::hypercall::xen_domain();
        let mut results = KVec::new();
        for round in 1..=2u32 {
            // SAFETY: the device is live and has no driver.
            let bound = unsafe { ffi::xrs_test_bind(rig.raw()) };
            let mut probes = 0;
            // SAFETY: a read of the test driver's record.
            let seen = unsafe { ffi::xrs_test_probe_ops(&mut probes) };
            let state = attach::state(rig.raw());
            if bound == 0 {
                // SAFETY: bound just above.
                unsafe { ffi::xrs_test_unbind(rig.raw()) };
            }
            results.push((round, bound, seen, state), GFP_KERNEL)?;
        }
        // SAFETY: registered above; no device is bound to it any more.
        unsafe { ffi::xrs_test_driver_unregister() };
        for (round, bound, seen, state) in results {
            assert_eq!(bound, 0);
            assert_eq!(seen, ours);
            // Under Xen each bind displaced the ops, which came back; bare nothing did.
            assert_eq!(state, Some((true, if xen { round } else { 0 })));
        }
        Ok(())
    }

    /// 8: `dma_alloc_pages()` and `dma_alloc_noncoherent()` give zeroed memory the device
    /// reaches in place, whose syncs move data both ways.
    #[test]
    fn noncoherent_pages_round_trip() -> Result {
        let buses = Rpi4Buses::apply()?;
        let rig = Rig::at_1g(&buses)?;
        let (live, refs) = (rig.s.stats.coherent.load(Relaxed), module_refs());
        let size = 2 * PAGE_SIZE;
        let dir = Dir::DMA_BIDIRECTIONAL;
        for pages in [true, false] {
            let mut dma = 0u64;
            let mut page = core::ptr::null_mut();
            // SAFETY: the device is live; `dma` is an out-parameter.
            let vaddr = unsafe {
                if pages {
                    page = ffi::xrs_test_alloc_pages(rig.raw(), size, &mut dma, dir);
                    if page.is_null() {
                        core::ptr::null_mut()
                    } else {
                        ffi::page_address(page)
                    }
                } else {
                    ffi::xrs_test_alloc_noncoherent(rig.raw(), size, &mut dma, dir)
                }
            };
            assert!(!vaddr.is_null());
            assert_eq!(module_refs(), one_more(refs));
            // In place: the device's address names the buffer's own pages.
            // SAFETY: a linear-map address of the live buffer.
            let phys = unsafe { crate::ffi::xrs_swiotlb_kernel_virt_to_phys(vaddr) };
            assert_eq!(rig.engine().phys(dma, size), Some(phys));
            assert!(bytes(vaddr, size).iter().all(|&b| b == 0));
            assert!(rig.engine().fill(dma, size, 46)?);
            // SAFETY: the live buffer of this device.
            unsafe { ffi::xrs_test_sync_for_cpu(rig.raw(), dma, size, dir) };
            assert!(holds(vaddr, size, 46));
            write(vaddr, size, 47);
            // SAFETY: as above.
            unsafe { ffi::xrs_test_sync_for_device(rig.raw(), dma, size, dir) };
            assert!(rig.engine().holds(dma, size, 47)?);
            // SAFETY: frees what was allocated above.
            unsafe {
                if pages {
                    ffi::xrs_test_free_pages(rig.raw(), size, page, dma, dir)
                } else {
                    ffi::xrs_test_free_noncoherent(rig.raw(), size, vaddr, dma, dir)
                }
            };
        }
        assert_eq!(rig.s.stats.coherent.load(Relaxed), live);
        assert_eq!(module_refs(), refs);
        Ok(())
    }

    /// 8: a partial sync that runs past its mapping is clamped to it (with a warning), as
    /// C's swiotlb_bounce() does, not skipped.
    #[test]
    fn sync_past_the_mapping_is_clamped() -> Result {
        let blk = block()?;
        let buses = placed_buses(&blk)?;
        let rig = Rig::placed(&buses, &blk)?;
        let p = rig.unreachable_pages(0)?;
        p.fill(48);
        let dma = rig.map(p.phys, 3000, Dir::DMA_FROM_DEVICE);
        assert!(rig.in_pool(dma));
        assert!(rig.engine().fill(dma, 3000, 49)?);
        let clamped = rig.s.stats.sync_clamped.load(Relaxed);
        // SAFETY: the ops of a live mapping, past whose end the sync runs (the DMA API's
        // debug checks would report the caller first).
        unsafe { ffi::xrs_test_ops_sync(rig.raw(), dma + 2000, 2000, Dir::DMA_FROM_DEVICE, true) };
        assert_eq!(rig.s.stats.sync_clamped.load(Relaxed), clamped + 1);
        // The 1000 bytes of the mapping came back; nothing before or past was touched.
        assert!(p.holds_range(2000, 1000, 49));
        assert!(p.holds_range(0, 2000, 48));
        assert!(p.holds_range(3000, PAGE_SIZE - 3000, 48));
        rig.unmap(dma, 3000, Dir::DMA_FROM_DEVICE);
        assert!(p.holds_range(0, 3000, 49));
        Ok(())
    }

    /// 9: a buffer whose pointer carries a KASAN or MTE tag in its top byte (as
    /// tag-based KASAN hands them out) is found and freed: the tag is stripped before
    /// the address is classified.
    #[test]
    fn tagged_pointer_frees_its_buffer() -> Result {
        let buses = Rpi4Buses::apply()?;
        let rig = Rig::at_1g(&buses)?;
        for coherent in [false, true] {
            // SAFETY: the test's own device, with no mapping live.
            unsafe { ffi::xrs_test_set_coherent(rig.raw(), coherent) };
            let live = rig.s.stats.coherent.load(Relaxed);
            let mut dma = 0u64;
            // SAFETY: the device is live; `dma` is an out-parameter.
            let vaddr = unsafe {
                ffi::xrs_test_ops_alloc(rig.raw(), 2 * PAGE_SIZE, &mut dma, bindings::GFP_KERNEL)
            };
            assert!(!vaddr.is_null());
            let tagged = ((vaddr as usize & !(0xff << 56)) | (0xf4 << 56)) as *mut c_void;
            // SAFETY: the buffer allocated above, under another tag; never dereferenced.
            unsafe { ffi::xrs_test_ops_free(rig.raw(), 2 * PAGE_SIZE, tagged, dma) };
            assert_eq!(rig.s.stats.coherent.load(Relaxed), live);
            if !coherent {
                // The uncached alias is gone.
                let mut pfn = 0;
                // SAFETY: a page-table walk of an address in vmalloc space.
                let mapped =
                    unsafe { crate::ffi::xrs_swiotlb_kernel_vmalloc_to_pfn(vaddr, &mut pfn) };
                assert!(!mapped);
            }
        }
        // SAFETY: as above.
        unsafe { ffi::xrs_test_set_coherent(rig.raw(), false) };
        Ok(())
    }
}
