// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `xen_dma_p2m`: the kernel's p2m through the core's `KernelP2m`, the
//! straddle and alignment checks, page geometry, against the kernel's own C.

use kernel::prelude::*;

#[kunit_tests(xen_dma_p2m)]
mod tests {
    use crate::ffi;
    use ::xen::dma::addr::{
        get_order,     //
        Bfn,           //
        DmaAddr,       //
        Pfn,           //
        PhysAddr,      //
        XenPfn,        //
        XEN_PAGE_SIZE, //
    };
    use ::xen::dma::glue::device::DeviceRanges;
    use ::xen::dma::glue::fixture::Rpi4Buses;
    use ::xen::dma::glue::p2m::KernelP2m;
    use ::xen::dma::ranges::RangeError;
    use ::xen::dma::xen::{
        self, //
        P2m,  //
    };
    use kernel::ffi::c_ulong;
    use kernel::page::{
        Page,       //
        PAGE_SHIFT, //
        PAGE_SIZE,  //
    };
    use kernel::prelude::*;

    const SHIFT: u32 = PAGE_SHIFT as u32;

    /// The Xen frames of a page this test owns, whose p2m entries it may change; the
    /// entries are erased again (back to 1:1) on drop.
    struct OwnedFrames {
        first: XenPfn,
        count: u64,
        _page: Page,
    }

    impl OwnedFrames {
        fn new() -> Result<Self> {
            let page = Page::alloc_page(GFP_KERNEL)?;
            // SAFETY: `page` is a live page.
            let phys = PhysAddr::new(unsafe { ffi::page_to_phys(page.as_ptr()) });
            Ok(Self {
                first: phys.xen_pfn(),
                count: Pfn::<SHIFT>::XEN_PFNS_PER_PAGE,
                _page: page,
            })
        }

        fn set(&self, i: u64, bfn: u64) {
            assert!(i < self.count);
            let pfn = (self.first.as_u64() + i) as c_ulong;
            // SAFETY: the frame belongs to a page we own; the entry is ours to change.
            let ok = unsafe { ffi::__set_phys_to_machine(pfn, bfn as c_ulong) };
            assert!(ok);
        }
    }

    impl Drop for OwnedFrames {
        fn drop(&mut self) {
            for i in 0..self.count {
                let pfn = (self.first.as_u64() + i) as c_ulong;
                // SAFETY: as in `set`; INVALID_P2M_ENTRY (~0) erases the entry.
                unsafe { ffi::__set_phys_to_machine(pfn, !0) };
            }
        }
    }

    #[test]
    fn page_geometry_matches_the_kernel() {
        assert_eq!(Pfn::<SHIFT>::PAGE_SIZE, PAGE_SIZE as u64);
        assert_eq!(
            Pfn::<SHIFT>::XEN_PFNS_PER_PAGE,
            PAGE_SIZE as u64 / XEN_PAGE_SIZE
        );
        for size in [
            0u64,
            1,
            4095,
            4096,
            4097,
            65536,
            65537,
            1 << 20,
            (1 << 20) + 1,
        ] {
            // SAFETY: arithmetic only.
            let kernel = unsafe { ffi::xrs_get_order(size as c_ulong) };
            if size != 0 {
                assert_eq!(get_order::<SHIFT>(size), kernel as u32);
            }
        }
    }

    #[test]
    fn page_frame_numbers_match_the_kernel() -> Result {
        let page = Page::alloc_page(GFP_KERNEL)?;
        // SAFETY: `page` is live.
        let phys = PhysAddr::new(unsafe { ffi::page_to_phys(page.as_ptr()) });
        let pfn = phys.pfn::<SHIFT>();
        // SAFETY: `pfn` is the frame of a live page.
        let back = unsafe { ffi::pfn_to_page(pfn.as_u64() as c_ulong) };
        assert_eq!(back, page.as_ptr());
        assert_eq!(pfn.phys(), Some(phys));
        assert_eq!(pfn.first_xen_pfn(), Some(phys.xen_pfn()));
        Ok(())
    }

    #[test]
    fn own_ram_is_one_to_one() -> Result {
        // Bare metal and an Arm Dom0 alike: the kernel's own pages are at their machine
        // address.
        let frames = OwnedFrames::new()?;
        for i in 0..frames.count {
            let pfn = XenPfn::new(frames.first.as_u64() + i);
            assert_eq!(KernelP2m.pfn_to_bfn(pfn).as_u64(), pfn.as_u64());
        }
        Ok(())
    }

    #[test]
    fn bfn_to_pfn_is_identity_on_arm() {
        for raw in [0u64, 1, 0x4_0000, 0xf_ffff_ffff] {
            // SAFETY: arithmetic only.
            let c = unsafe { ffi::xrs_bfn_to_pfn(raw as c_ulong) } as u64;
            assert_eq!(c, raw);
            assert_eq!(KernelP2m.bfn_to_pfn(Bfn::new(raw)), XenPfn::new(c));
        }
    }

    #[test]
    fn foreign_entry_is_seen_and_erased() -> Result {
        let frames = OwnedFrames::new()?;
        frames.set(0, 0x9_0000);
        assert_eq!(KernelP2m.pfn_to_bfn(frames.first), Bfn::new(0x9_0000));
        drop(frames);
        let frames = OwnedFrames::new()?;
        assert_eq!(
            KernelP2m.pfn_to_bfn(frames.first).as_u64(),
            frames.first.as_u64()
        );
        Ok(())
    }

    #[test]
    fn lookup_agrees_with_c_with_and_without_entries() -> Result {
        // The Rust lookup skips the call while the tree is empty; with one entry in the
        // tree it must still answer exactly what C's pfn_to_bfn() answers for every frame.
        let c = |pfn: XenPfn| {
            // SAFETY: pure lookup.
            Bfn::new(unsafe { ffi::xrs_pfn_to_bfn(pfn.as_u64() as c_ulong) } as u64)
        };
        let frames = OwnedFrames::new()?;
        let probes = [
            frames.first,
            XenPfn::new(frames.first.as_u64() + 1),
            XenPfn::new(0),
            XenPfn::new(0x4_0000),
        ];
        for pfn in probes {
            assert_eq!(KernelP2m.pfn_to_bfn(pfn), c(pfn));
        }
        frames.set(0, 0x9_0000);
        assert!(KernelP2m.may_have_foreign());
        for pfn in probes {
            assert_eq!(KernelP2m.pfn_to_bfn(pfn), c(pfn));
        }
        assert_eq!(KernelP2m.pfn_to_bfn(probes[0]), Bfn::new(0x9_0000));
        Ok(())
    }

    #[test]
    fn straddle_with_the_kernel_p2m() -> Result {
        let frames = OwnedFrames::new()?;
        let start = frames.first.phys(0).ok_or(EINVAL)?;
        // One Xen page never straddles.
        assert!(!xen::range_straddles_page_boundary(
            &KernelP2m,
            start,
            XEN_PAGE_SIZE
        ));
        // Remapping the first frame breaks contiguity with the (1:1) frame after it.
        frames.set(0, 0x9_0000);
        assert!(xen::range_straddles_page_boundary(
            &KernelP2m,
            start,
            2 * XEN_PAGE_SIZE
        ));
        assert!(xen::range_straddles_page_boundary(
            &KernelP2m,
            start.checked_add(XEN_PAGE_SIZE - 1).ok_or(EINVAL)?,
            2
        ));
        assert!(!xen::range_straddles_page_boundary(
            &KernelP2m,
            start,
            XEN_PAGE_SIZE
        ));
        Ok(())
    }

    #[test]
    fn alignment_with_the_kernel_p2m() -> Result {
        // A two-page buffer must be two-page aligned: find a page of ours that is (pages
        // come from the buddy allocator, about every other one qualifies).
        let len = 2 * PAGE_SIZE as u64;
        let mut held = KVec::new();
        let frames = loop {
            let f = OwnedFrames::new()?;
            if f.first.phys(0).ok_or(EINVAL)?.is_aligned(len) {
                break f;
            }
            if held.len() == 64 {
                return Err(ENOMEM);
            }
            held.push(f, GFP_KERNEL)?;
        };
        let start = frames.first.phys(0).ok_or(EINVAL)?;
        // 1:1 keeps the alignment.
        assert!(!xen::range_requires_alignment::<SHIFT>(
            &KernelP2m, start, len
        ));
        // Backed by a machine frame one Linux page past an aligned one, it loses it.
        frames.set(0, 0x9_0000 + Pfn::<SHIFT>::XEN_PFNS_PER_PAGE);
        assert!(xen::range_requires_alignment::<SHIFT>(
            &KernelP2m, start, len
        ));
        // Only an alignment the buffer had counts: one page is satisfied by any page.
        assert!(!xen::range_requires_alignment::<SHIFT>(
            &KernelP2m,
            start,
            PAGE_SIZE as u64
        ));
        Ok(())
    }

    #[test]
    fn foreign_page_through_rpi4_window() -> Result {
        // A page granted by another domain, held in machine frame 0x2_0000 (512 MiB): a
        // device on emmc2bus must be given 0xE000_0000, not the pseudo-physical address
        // and not the machine address.
        let frames = OwnedFrames::new()?;
        frames.set(0, 0x2_0000);
        let buses = Rpi4Buses::apply()?;
        let dev = buses.emmc2()?;
        // SAFETY: the fixture device is live and configured by the fixture only.
        let r = unsafe { DeviceRanges::from_raw(dev.raw()) }?;
        let phys = frames.first.phys(0x123).ok_or(EINVAL)?;
        assert_eq!(
            xen::phys_to_dma(&KernelP2m, &r.map(), phys),
            Ok(DmaAddr::new(0xe000_0123))
        );
        // The kernel's own phys_to_dma of the machine address agrees.
        // SAFETY: the fixture device is live.
        let kernel = unsafe { ffi::xrs_kernel_phys_to_dma(dev.raw(), 0x2000_0123) };
        assert_eq!(kernel, 0xe000_0123);
        // The page itself, by its pseudo-physical address: out of the window where RAM is
        // above 1 GiB (QEMU virt), in it below (a Raspberry Pi 4).
        if phys.as_u64() >= 0x4000_0000 {
            assert_eq!(r.map().phys_to_dma(phys), Err(RangeError::NoTranslation));
        } else {
            assert_eq!(
                r.map().phys_to_dma(phys),
                Ok(DmaAddr::new(phys.as_u64() + 0xc000_0000))
            );
        }
        // Back from the bus: machine 0x2000_0123, identity bfn_to_pfn on Arm.
        assert_eq!(
            xen::dma_to_phys(&KernelP2m, &r.map(), DmaAddr::new(0xe000_0123)),
            Ok(PhysAddr::new(0x2000_0123))
        );
        Ok(())
    }
}
