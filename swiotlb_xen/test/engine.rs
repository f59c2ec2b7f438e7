// SPDX-License-Identifier: GPL-2.0

//! KUnit suite of the Rust xen-swiotlb, driven by a software DMA engine (see
//! [`crate::testing`]): the paths of the ops, one case each.

use kernel::prelude::*;

#[kunit_tests(xen_swiotlb_ops)]
mod tests {
    use kernel::bindings::dma_data_direction as Dir;
    use kernel::dma::DataDirection;
    use kernel::ffi::c_ulong;
    use kernel::prelude::*;
    use kernel::sync::atomic::Relaxed;

    use crate::attach::Attachment;
    use crate::dma::addr::{
        DmaAddr,  //
        PhysAddr, //
    };
    use crate::dma::glue::fixture::Rpi4Buses;
    use crate::ffi;
    use crate::ops::{
        MapAttrs, //
        Swiotlb,  //
        Target,   //
    };
    use crate::swiotlb::pool::MAX_MAPPING_SIZE;
    use crate::testing::{
        block,        //
        pattern,      //
        placed_buses, //
        pool_range,   //
        P2mEntry,     //
        Pages,        //
        Rig,          //
        AT_1G,        //
    };

    #[test]
    fn reachable_buffer_maps_in_place() -> Result {
        let buses = Rpi4Buses::apply()?;
        let rig = Rig::at_1g(&buses)?;
        let p = Pages::alloc(0, |p, n| p >= AT_1G.1 && p + n <= AT_1G.1 + AT_1G.2)?;
        p.fill(1);
        let direct = rig.s.stats.direct.load(Relaxed);
        let dma = rig.map(p.phys + 16, 1000, Dir::DMA_TO_DEVICE);
        // The RPi4 arithmetic: bus = physical - window start + 0xC000_0000.
        assert_eq!(dma, p.phys + 16 - AT_1G.1 + AT_1G.0);
        assert_eq!(rig.s.stats.direct.load(Relaxed), direct + 1);
        let mut v = [0u8; 1000];
        assert!(rig.engine().read(dma, &mut v));
        assert!(v.iter().enumerate().all(|(i, &b)| b == pattern(i + 16, 1)));
        rig.unmap(dma, 1000, Dir::DMA_TO_DEVICE);
        Ok(())
    }

    #[test]
    fn unreachable_buffer_bounces_to_the_device() -> Result {
        let blk = block()?;
        let buses = placed_buses(&blk)?;
        let rig = Rig::placed(&buses, &blk)?;
        let p = rig.unreachable_pages(0)?;
        p.fill(2);
        let before = rig.s.stats.bounced[1].load(Relaxed);
        let dma = rig.map(p.phys, p.bytes(), Dir::DMA_TO_DEVICE);
        assert!(rig.in_pool(dma));
        assert_eq!(rig.s.stats.bounced[1].load(Relaxed), before + 1);
        assert!(rig.engine().holds(dma, p.bytes(), 2)?);
        rig.unmap(dma, p.bytes(), Dir::DMA_TO_DEVICE);
        Ok(())
    }

    #[test]
    fn bounce_from_the_device_lands_at_unmap() -> Result {
        let blk = block()?;
        let buses = placed_buses(&blk)?;
        let rig = Rig::placed(&buses, &blk)?;
        let p = rig.unreachable_pages(0)?;
        p.fill(3);
        let dma = rig.map(p.phys, p.bytes(), Dir::DMA_FROM_DEVICE);
        assert!(rig.in_pool(dma));
        assert!(rig.engine().fill(dma, p.bytes(), 4)?);
        // Not yet visible: the data is in the pool.
        assert!(p.holds(3, p.bytes()));
        rig.unmap(dma, p.bytes(), Dir::DMA_FROM_DEVICE);
        assert!(p.holds(4, p.bytes()));
        Ok(())
    }

    #[test]
    fn bidirectional_bounce_round_trip() -> Result {
        let blk = block()?;
        let buses = placed_buses(&blk)?;
        let rig = Rig::placed(&buses, &blk)?;
        let p = rig.unreachable_pages(0)?;
        p.fill(5);
        let dma = rig.map(p.phys, 3000, Dir::DMA_BIDIRECTIONAL);
        assert!(rig.engine().holds(dma, 3000, 5)?);
        assert!(rig.engine().fill(dma, 3000, 6)?);
        rig.unmap(dma, 3000, Dir::DMA_BIDIRECTIONAL);
        assert!(p.holds(6, 3000));
        // Bytes past the mapping are untouched.
        assert_eq!(p.buf()[3000], pattern(3000, 5));
        Ok(())
    }

    #[test]
    fn syncs_move_data_mid_mapping() -> Result {
        let blk = block()?;
        let buses = placed_buses(&blk)?;
        let rig = Rig::placed(&buses, &blk)?;
        let p = rig.unreachable_pages(0)?;
        p.fill(7);
        let len = 2048;
        let dma = rig.map(p.phys, len, Dir::DMA_BIDIRECTIONAL);
        assert!(rig.engine().fill(dma, len, 8)?);
        // SAFETY: live mapping of this device.
        unsafe { ffi::xrs_test_sync_for_cpu(rig.raw(), dma, len, Dir::DMA_BIDIRECTIONAL) };
        assert!(p.holds(8, len));
        p.fill(9);
        // SAFETY: as above.
        unsafe { ffi::xrs_test_sync_for_device(rig.raw(), dma, len, Dir::DMA_BIDIRECTIONAL) };
        assert!(rig.engine().holds(dma, len, 9)?);
        rig.unmap(dma, len, Dir::DMA_BIDIRECTIONAL);
        Ok(())
    }

    #[test]
    fn scatterlist_of_sixteen_mixed_entries() -> Result {
        let blk = block()?;
        blk.fill(0x40);
        let buses = placed_buses(&blk)?;
        let rig = Rig::placed(&buses, &blk)?;
        let page = kernel::page::PAGE_SIZE as u64;
        let mut out = KVec::new();
        let mut phys = [0u64; 16];
        let mut len = [0u32; 16];
        for i in 0..16 {
            len[i] = 512 + 100 * i as u32;
            if i % 2 == 0 {
                // Reachable: a page of the block, mapped in place.
                phys[i] = blk.phys + (i as u64 / 2) * page + 8;
            } else {
                let p = rig.unreachable_pages(0)?;
                p.fill(i as u8);
                phys[i] = p.phys + 8;
                out.push(p, GFP_KERNEL)?;
            }
        }
        let mut dma = [0u64; 16];
        let bounced = rig.bounced();
        // SAFETY: 16 ranges of pages we own; `dma` has room for 16 addresses.
        let h = unsafe {
            ffi::xrs_test_map_sg(
                rig.raw(),
                phys.as_ptr(),
                len.as_ptr(),
                16,
                Dir::DMA_TO_DEVICE,
                0,
                dma.as_mut_ptr(),
            )
        };
        assert!(!h.is_null());
        assert_eq!(rig.bounced(), bounced + 8);
        for i in 0..16 {
            let mut v = KVec::from_elem(0u8, len[i] as usize, GFP_KERNEL)?;
            assert!(rig.engine().read(dma[i], &mut v));
            let (seed, off) = if i % 2 == 0 {
                (0x40, (phys[i] - blk.phys) as usize)
            } else {
                (i as u8, 8)
            };
            assert!(v
                .iter()
                .enumerate()
                .all(|(j, &b)| b == pattern(j + off, seed)));
            assert_eq!(rig.in_pool(dma[i]), i % 2 == 1);
        }
        // SAFETY: `h` is the live list mapped above.
        unsafe { ffi::xrs_test_unmap_sg(rig.raw(), h, Dir::DMA_TO_DEVICE, 0) };
        Ok(())
    }

    #[test]
    fn forced_bounce_of_a_reachable_buffer() -> Result {
        let blk = block()?;
        blk.fill(10);
        let buses = placed_buses(&blk)?;
        let rig = Rig::placed(&buses, &blk)?;
        rig.s.set_force(true);
        let dma = rig.map(blk.phys, 100, Dir::DMA_FROM_DEVICE);
        rig.s.set_force(false);
        assert!(rig.in_pool(dma));
        assert!(rig.engine().fill(dma, 100, 11)?);
        rig.unmap(dma, 100, Dir::DMA_FROM_DEVICE);
        assert!(blk.holds(11, 100));
        assert_eq!(blk.buf()[100], pattern(100, 10));
        Ok(())
    }

    #[test]
    fn straddling_buffer_bounces() -> Result {
        let blk = block()?;
        blk.fill(12);
        let buses = placed_buses(&blk)?;
        let rig = Rig::placed(&buses, &blk)?;
        let page = kernel::page::PAGE_SIZE as u64;
        // The second page's machine frame no longer follows the first's.
        let _e = P2mEntry::set((blk.phys + page) >> 12, (blk.phys >> 12) + 0x100);
        let before = rig.s.stats.bounced[2].load(Relaxed);
        let dma = rig.map(blk.phys + page - 64, 128, Dir::DMA_TO_DEVICE);
        assert!(rig.in_pool(dma));
        assert_eq!(rig.s.stats.bounced[2].load(Relaxed), before + 1);
        let mut v = [0u8; 128];
        assert!(rig.engine().read(dma, &mut v));
        let base = page as usize - 64;
        assert!(v
            .iter()
            .enumerate()
            .all(|(i, &b)| b == pattern(base + i, 12)));
        rig.unmap(dma, 128, Dir::DMA_TO_DEVICE);
        Ok(())
    }

    #[test]
    fn foreign_page_needs_a_flush_or_a_bounce() -> Result {
        let blk = block()?;
        let buses = placed_buses(&blk)?;
        let rig = Rig::placed(&buses, &blk)?;
        let page = kernel::page::PAGE_SIZE as u64;
        // Page 2 of the block stands for a page granted by another domain, held in
        // page 3's machine frame.
        let (p, backing) = (blk.phys + 2 * page, blk.phys + 3 * page);
        let _e = P2mEntry::set(p >> 12, backing >> 12);
        // SAFETY: the device is live.
        let t = unsafe { Target::new(rig.raw()) }?;
        let r = rig.s.map(
            &t,
            PhysAddr::new(p),
            64,
            DataDirection::ToDevice,
            MapAttrs(0),
        );
        if rig.s.has_cache_flush() {
            // Xen keeps the caches right: in place, at the machine frame's bus address.
            assert_eq!(r, Ok(DmaAddr::new(backing - blk.phys + 0x8000_0000)));
        } else {
            // Without it, the non-coherent device gets a copy.
            let dma = r?;
            assert!(rig.in_pool(dma.as_u64()));
            assert_eq!(
                rig.s
                    .unmap(&t, dma, 64, DataDirection::ToDevice, MapAttrs(0)),
                Ok(())
            );
        }
        Ok(())
    }

    #[test]
    fn double_and_mismatched_unmaps_are_refused() -> Result {
        let blk = block()?;
        let buses = placed_buses(&blk)?;
        let rig = Rig::placed(&buses, &blk)?;
        let a = rig.unreachable_pages(0)?;
        let b = rig.unreachable_pages(0)?;
        a.fill(13);
        b.fill(14);
        // SAFETY: the device is live.
        let t = unsafe { Target::new(rig.raw()) }?;
        let da = rig.s.map(
            &t,
            PhysAddr::new(a.phys),
            256,
            DataDirection::ToDevice,
            MapAttrs(0),
        )?;
        let db = rig.s.map(
            &t,
            PhysAddr::new(b.phys),
            256,
            DataDirection::FromDevice,
            MapAttrs(0),
        )?;
        let used = rig.s.pool_stats().used;
        // Wrong direction, wrong size, inside the mapping: refused, nothing freed.
        assert_eq!(
            rig.s
                .unmap(&t, da, 256, DataDirection::FromDevice, MapAttrs(0)),
            Err(EINVAL)
        );
        assert_eq!(
            rig.s
                .unmap(&t, da, 255, DataDirection::ToDevice, MapAttrs(0)),
            Err(EINVAL)
        );
        let inside = DmaAddr::new(da.as_u64() + 8);
        assert_eq!(
            rig.s
                .unmap(&t, inside, 8, DataDirection::ToDevice, MapAttrs(0)),
            Err(EINVAL)
        );
        assert_eq!(rig.s.pool_stats().used, used);
        assert_eq!(
            rig.s
                .unmap(&t, da, 256, DataDirection::ToDevice, MapAttrs(0)),
            Ok(())
        );
        // Twice: refused, and the other mapping still works.
        assert_eq!(
            rig.s
                .unmap(&t, da, 256, DataDirection::ToDevice, MapAttrs(0)),
            Err(EINVAL)
        );
        assert!(rig.engine().fill(db.as_u64(), 256, 15)?);
        assert_eq!(
            rig.s
                .unmap(&t, db, 256, DataDirection::FromDevice, MapAttrs(0)),
            Ok(())
        );
        assert!(b.holds(15, 256));
        Ok(())
    }

    #[test]
    fn bad_directions_fail_the_call() -> Result {
        let blk = block()?;
        let buses = placed_buses(&blk)?;
        let rig = Rig::placed(&buses, &blk)?;
        let failures = rig.s.stats.failures.load(Relaxed);
        for dir in [3u32, 7] {
            // Our entry point, called as the DMA API would, with a bad direction.
            let map = xen_swiotlb::dma_ops::DMA_OPS.map_phys.ok_or(EINVAL)?;
            // SAFETY: the test's device, which has these ops.
            let dma = unsafe { map(rig.raw(), blk.phys, 64, Dir(dir), 0) };
            assert_eq!(dma, DmaAddr::MAPPING_ERROR.as_u64());
        }
        assert_eq!(rig.s.stats.failures.load(Relaxed), failures + 2);
        Ok(())
    }

    #[test]
    fn exhausted_pool_fails_without_harm() -> Result {
        let blk = block()?;
        let buses = placed_buses(&blk)?;
        let rig = Rig::placed(&buses, &blk)?;
        // SAFETY: the device is live.
        let t = unsafe { Target::new(rig.raw()) }?;
        let src = rig.unreachable_pages(6)?;
        src.fill(16);
        let (_, bytes) = pool_range(rig.s)?;
        let n = (bytes / MAX_MAPPING_SIZE) as usize;
        let mut maps = KVec::new();
        let mut refused = 0;
        for _ in 0..n + 2 {
            let r = rig.s.map(
                &t,
                PhysAddr::new(src.phys),
                MAX_MAPPING_SIZE,
                DataDirection::ToDevice,
                MapAttrs(0),
            );
            match r {
                Ok(d) => maps.push(d, GFP_KERNEL)?,
                Err(e) => {
                    assert_eq!(e, ENOMEM);
                    refused += 1;
                }
            }
        }
        // The whole pool went to full-size mappings; the rest was refused.
        assert_eq!(maps.len(), n);
        assert_eq!(refused, 2);
        for &d in maps.iter() {
            assert!(rig
                .engine()
                .holds(d.as_u64(), MAX_MAPPING_SIZE as usize, 16)?);
        }
        for &d in maps.iter() {
            assert_eq!(
                rig.s.unmap(
                    &t,
                    d,
                    MAX_MAPPING_SIZE,
                    DataDirection::ToDevice,
                    MapAttrs(0)
                ),
                Ok(())
            );
        }
        assert_eq!(rig.s.pool_stats().used, 0);
        Ok(())
    }

    #[test]
    fn coherent_buffer_is_reachable_and_freed_by_its_pages() -> Result {
        let buses = Rpi4Buses::apply()?;
        let rig = Rig::at_1g(&buses)?;
        let size = 3 * kernel::page::PAGE_SIZE;
        let mut dma = 0u64;
        let live = rig.s.stats.coherent.load(Relaxed);
        // SAFETY: the device is live; `dma` is an out-parameter.
        let vaddr = unsafe { ffi::xrs_test_alloc_coherent(rig.raw(), size, &mut dma) };
        assert!(!vaddr.is_null());
        assert!(rig.engine().phys(dma, size).is_some());
        // The test device is not DMA-coherent: the buffer is an uncached vmalloc-space
        // alias, which only the page-table walk resolves when it is freed.
        let kind = crate::dma::glue::virt::layout().classify(vaddr as usize);
        assert_eq!(kind, Some(crate::dma::virt::VirtKind::Vmalloc));
        assert!(rig.engine().fill(dma, size, 17)?);
        // SAFETY: `vaddr` maps `size` bytes of the live allocation.
        let seen = unsafe { core::slice::from_raw_parts(vaddr.cast::<u8>(), size) };
        assert!(seen.iter().enumerate().all(|(i, &b)| b == pattern(i, 17)));
        assert_eq!(rig.s.stats.coherent.load(Relaxed), live + 1);
        // SAFETY: frees what we allocated above.
        unsafe { ffi::xrs_test_free_coherent(rig.raw(), size, vaddr, dma) };
        assert_eq!(rig.s.stats.coherent.load(Relaxed), live);
        Ok(())
    }

    #[test]
    fn coherent_buffer_maps_to_user_space_and_to_a_scatterlist() -> Result {
        let buses = Rpi4Buses::apply()?;
        let rig = Rig::at_1g(&buses)?;
        let page = kernel::page::PAGE_SIZE;
        let size = 3 * page;
        let mut dma = 0u64;
        // SAFETY: the device is live; `dma` is an out-parameter.
        let vaddr = unsafe { ffi::xrs_test_alloc_coherent(rig.raw(), size, &mut dma) };
        assert!(!vaddr.is_null());
        let phys = rig.engine().phys(dma, size).ok_or(EINVAL)?;
        assert!(rig.engine().fill(dma, size, 29)?);

        // One scatterlist entry: the pages the device wrote (found through the uncached
        // alias, which virt_to_page() would get wrong), the whole buffer long.
        let (mut sg_phys, mut sg_len) = (0u64, 0u32);
        // SAFETY: the live buffer; out-parameters.
        let r = unsafe {
            ffi::xrs_test_sgtable(rig.raw(), vaddr, dma, size, &mut sg_phys, &mut sg_len)
        };
        assert_eq!(r, 0);
        assert_eq!(sg_phys, phys);
        assert_eq!(sg_len as usize, size);

        // User space mapping pages 1 and 2 sees what the device wrote there.
        let mut seen = KVec::from_elem(0u8, 2 * page, GFP_KERNEL)?;
        let user = |pgoff: usize, len: usize, out: &mut KVec<u8>| {
            // SAFETY: the live buffer; `out` holds at least `len` bytes.
            unsafe {
                ffi::xrs_test_mmap_coherent(
                    rig.raw(),
                    vaddr,
                    dma,
                    size,
                    pgoff as kernel::ffi::c_ulong,
                    len,
                    out.as_mut_ptr().cast(),
                )
            }
        };
        assert_eq!(user(1, 2 * page, &mut seen), 0);
        assert!(seen
            .iter()
            .enumerate()
            .all(|(i, &b)| b == pattern(page + i, 29)));
        // Running off the buffer, or a handle that is not the buffer's: ENXIO.
        assert_eq!(user(2, 2 * page, &mut seen), ENXIO.to_errno());
        let other = dma + page as u64;
        // SAFETY: as above; the call must refuse the mismatched handle.
        let r = unsafe {
            ffi::xrs_test_sgtable(rig.raw(), vaddr, other, size, &mut sg_phys, &mut sg_len)
        };
        assert_eq!(r, ENXIO.to_errno());

        // SAFETY: frees what we allocated above.
        unsafe { ffi::xrs_test_free_coherent(rig.raw(), size, vaddr, dma) };
        Ok(())
    }

    #[test]
    fn masks_and_mapping_size() -> Result {
        let blk = block()?;
        let buses = placed_buses(&blk)?;
        let rig = Rig::placed(&buses, &blk)?;
        // SAFETY: the device is live.
        unsafe {
            assert_eq!(ffi::xrs_test_max_mapping_size(rig.raw()), 256 * 1024);
            assert_eq!(ffi::xrs_test_set_mask(rig.raw(), u64::from(u32::MAX)), 0);
            // A 30-bit mask cannot reach the pool at bus 0xC000_0000.
            assert!(ffi::xrs_test_set_mask(rig.raw(), (1 << 30) - 1) != 0);
            assert_eq!(ffi::xrs_test_set_mask(rig.raw(), u64::from(u32::MAX)), 0);
        }
        Ok(())
    }

    #[test]
    fn device_reads_match_the_kernel() -> Result {
        // The ops read the mask, bus limit and coherence bit of `struct device` directly;
        // each must equal what the kernel's own accessors say, coherence both ways.
        let blk = block()?;
        let buses = placed_buses(&blk)?;
        let rig = Rig::placed(&buses, &blk)?;
        let raw = rig.raw();
        for coherent in [true, false] {
            // SAFETY: the test's own device, with no mapping live.
            unsafe { ffi::xrs_test_set_coherent(raw, coherent) };
            // SAFETY: the device is live and configured.
            let t = unsafe { Target::new(raw) }?;
            assert_eq!(t.coherent(), coherent);
            // SAFETY: the device is live.
            unsafe {
                assert_eq!(t.coherent(), ffi::xrs_kernel_is_dma_coherent(raw));
                assert_eq!(t.limit().mask, ffi::xrs_kernel_dma_mask(raw));
                assert_eq!(
                    t.limit().bus_limit,
                    crate::ffi::xrs_swiotlb_kernel_bus_dma_limit(raw)
                );
            }
            assert!(t.limit().bus_limit != 0);
        }
        // The DMA parameters, unset and set, as dma_get_min_align_mask() and
        // dma_get_seg_boundary() read them.
        for (align, boundary) in [(0, c_ulong::MAX), (0xfff, 0xffff), (0x3f, 0)] {
            // SAFETY: the test's own device, with no mapping live.
            unsafe {
                ffi::xrs_test_set_min_align_mask(raw, align);
                ffi::xrs_test_set_seg_boundary(raw, boundary);
            }
            // SAFETY: the device is live and configured.
            let t = unsafe { Target::new(raw) }?;
            // SAFETY: the device is live.
            let kernel = unsafe {
                (
                    ffi::xrs_kernel_min_align_mask(raw),
                    ffi::xrs_kernel_seg_boundary(raw),
                )
            };
            assert_eq!(t.dma_parms(), kernel);
        }
        // SAFETY: as above; back to the rig's defaults.
        unsafe {
            ffi::xrs_test_set_min_align_mask(raw, 0);
            ffi::xrs_test_set_seg_boundary(raw, c_ulong::MAX);
        }
        Ok(())
    }

    #[test]
    fn live_mappings_pin_the_module() -> Result {
        let blk = block()?;
        let buses = placed_buses(&blk)?;
        let rig = Rig::placed(&buses, &blk)?;
        let p = rig.unreachable_pages(0)?;
        let refs = crate::testing::module_refs;
        let before = refs();
        let dma = rig.map(p.phys, 64, Dir::DMA_TO_DEVICE);
        assert!(rig.in_pool(dma));
        assert_eq!(refs(), crate::testing::one_more(before));
        rig.unmap(dma, 64, Dir::DMA_TO_DEVICE);
        assert_eq!(refs(), before);
        Ok(())
    }

    #[test]
    fn attach_refuses_a_device_that_cannot_reach_the_pool() -> Result {
        let buses = Rpi4Buses::apply()?;
        let s = Swiotlb::get().ok_or(ENODEV)?;
        // The real RPi4 emmc2bus window (physical 0..1 GiB) holds no RAM here.
        let dev = buses.emmc2()?;
        // SAFETY: `dev` is live.
        let ops = unsafe { crate::testing::ops_of(dev.raw()) };
        // SAFETY: as in `Rig::attach`.
        let raw = unsafe { crate::testing::device_ref(dev.raw()) };
        // SAFETY: a fresh test device: configured, no mapping yet.
        let r = unsafe { Attachment::new(s, raw) };
        assert!(matches!(r, Err(e) if e == ERANGE));
        // SAFETY: `dev` is live.
        assert_eq!(unsafe { crate::testing::ops_of(dev.raw()) }, ops);
        Ok(())
    }

    #[test]
    fn detach_restores_the_previous_ops() -> Result {
        let buses = Rpi4Buses::apply()?;
        let dev = buses.window_at_1g()?;
        let s = Swiotlb::get().ok_or(ENODEV)?;
        // SAFETY: `dev` is live.
        let before = unsafe { crate::testing::ops_of(dev.raw()) };
        // SAFETY: as in `Rig::attach`.
        let att = unsafe { Attachment::new(s, crate::testing::device_ref(dev.raw())) }?;
        // SAFETY: `dev` is live; our ops table is static.
        unsafe {
            assert_eq!(
                crate::testing::ops_of(dev.raw()),
                crate::testing::rust_ops()
            );
        }
        drop(att);
        // SAFETY: `dev` is live.
        assert_eq!(unsafe { crate::testing::ops_of(dev.raw()) }, before);
        Ok(())
    }
}
