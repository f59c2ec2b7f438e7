// SPDX-License-Identifier: GPL-2.0

//! Xen frame translation and swiotlb-xen's straddle and alignment checks, for 4, 16 and
//! 64 KiB Linux pages.

#[path = "support/model.rs"]
mod model;

use model::TableP2m;
use proptest::prelude::*;
use xen_dma::addr::{
    get_order, xen_pfns_spanned, Bfn, DmaAddr, Pfn, PhysAddr, XenPfn, XEN_PAGE_SIZE,
};
use xen_dma::ranges::{DmaRange, DmaRangeMap, RangeError};
use xen_dma::xen::{self, Identity, P2m};

fn p(a: u64) -> PhysAddr {
    PhysAddr::new(a)
}

fn rpi4() -> [DmaRange; 1] {
    [DmaRange::new(0, 0xC000_0000, 0x4000_0000).unwrap()]
}

#[test]
fn page_geometry() {
    assert_eq!(Pfn::<12>::XEN_PFNS_PER_PAGE, 1);
    assert_eq!(Pfn::<14>::XEN_PFNS_PER_PAGE, 4);
    assert_eq!(Pfn::<16>::XEN_PFNS_PER_PAGE, 16);
    let a = p(0x1234_5678);
    assert_eq!(a.pfn::<12>().as_u64(), 0x12345);
    assert_eq!(a.pfn::<14>().as_u64(), 0x48d1);
    assert_eq!(a.pfn::<16>().as_u64(), 0x1234);
    assert_eq!(a.xen_pfn().as_u64(), 0x12345);
    assert_eq!(a.pfn::<16>().first_xen_pfn(), Some(XenPfn::new(0x12340)));
    assert_eq!(Pfn::<16>::new(u64::MAX).phys(), None);
    assert_eq!(XenPfn::new(1 << 52).phys(0), None);
    assert_eq!(XenPfn::new(3).phys(XEN_PAGE_SIZE), None);
    assert_eq!(xen_pfns_spanned(0xfff, 2), Some(2));
    assert_eq!(xen_pfns_spanned(0, 0), Some(0));
    assert_eq!(xen_pfns_spanned(1, u64::MAX), None);
}

#[test]
fn get_order_matches_the_kernel_definition() {
    fn reference(shift: u32, size: u64) -> u32 {
        (0..64)
            .find(|&n| (1u128 << (shift + n)) >= size as u128)
            .unwrap()
    }
    for size in [
        0,
        1,
        4095,
        4096,
        4097,
        8192,
        16383,
        16384,
        16385,
        65536,
        65537,
        1 << 30,
        u64::MAX,
    ] {
        assert_eq!(
            get_order::<12>(size),
            reference(12, size),
            "4K, size {size:#x}"
        );
        assert_eq!(
            get_order::<14>(size),
            reference(14, size),
            "16K, size {size:#x}"
        );
        assert_eq!(
            get_order::<16>(size),
            reference(16, size),
            "64K, size {size:#x}"
        );
    }
}

#[test]
fn rpi4_dom0_with_a_foreign_page() {
    // Dom0 RAM is 1:1; pfn 0x10 holds a page granted by a DomU, backed by machine frame
    // 0x2_0000 (512 MiB).
    let mut p2m = TableP2m::default();
    p2m.0.insert(0x10, 0x2_0000);
    let map = DmaRangeMap::Ranges(&rpi4());
    assert_eq!(
        xen::phys_to_dma(&p2m, &map, p(0x1000)),
        Ok(DmaAddr::new(0xC000_1000))
    );
    // The foreign page: p2m first, then dma-ranges, offset kept.
    assert_eq!(
        xen::phys_to_dma(&p2m, &map, p(0x10_123)),
        Ok(DmaAddr::new(0xE000_0123))
    );
    // Skipping the dma-ranges step, the bug the RPi4 found, would give the machine address.
    assert_ne!(
        xen::phys_to_machine(&p2m, p(0x10_123)).unwrap().as_u64(),
        0xE000_0123
    );
    // A machine frame above 1 GiB is unreachable for this device.
    p2m.0.insert(0x11, 0x4_0000);
    assert_eq!(
        xen::phys_to_dma(&p2m, &map, p(0x11_000)),
        Err(RangeError::NoTranslation)
    );
    // Back: bus address to machine to pseudo-physical (identity on Arm).
    assert_eq!(
        xen::dma_to_phys(&p2m, &map, DmaAddr::new(0xC000_1234)),
        Ok(p(0x1234))
    );
    assert_eq!(
        xen::dma_to_phys(&p2m, &map, DmaAddr::new(0x1234)),
        Err(RangeError::NoTranslation)
    );
}

#[test]
fn straddle_semantics() {
    let id = Identity;
    assert!(!xen::range_straddles_page_boundary(
        &id,
        p(0x0fff),
        0x10_0000
    ));
    let mut p2m = TableP2m::default();
    p2m.0.insert(0x11, 0x9_0000);
    // Inside one Xen page: never straddles, even if that page is foreign.
    assert!(!xen::range_straddles_page_boundary(
        &p2m,
        p(0x11_000),
        0x1000
    ));
    // Crossing from 0x10 (1:1) into 0x11 (foreign): straddles.
    assert!(xen::range_straddles_page_boundary(&p2m, p(0x10_fff), 2));
    assert!(!xen::range_straddles_page_boundary(&p2m, p(0x10_fff), 1));
    // Two foreign pages whose machine frames are consecutive do not straddle.
    p2m.0.insert(0x12, 0x9_0001);
    assert!(!xen::range_straddles_page_boundary(
        &p2m,
        p(0x11_800),
        0x1000
    ));
    // Zero length and overflow.
    assert!(!xen::range_straddles_page_boundary(&p2m, p(0x10_fff), 0));
    assert!(xen::range_straddles_page_boundary(&id, p(u64::MAX), 2));
    // The top of the address space with a busy p2m: the last frames exist; a machine run
    // that would pass the top of the frame space straddles.
    assert!(!xen::range_straddles_page_boundary(
        &p2m,
        p(u64::MAX - 0x1fff),
        0x2000
    ));
    let top = u64::MAX >> 12;
    p2m.0.insert(top - 1, u64::MAX);
    assert!(xen::range_straddles_page_boundary(
        &p2m,
        p(u64::MAX - 0x1fff),
        0x2000
    ));
}

#[test]
fn straddle_at_the_top_of_the_address_space() {
    let id = Identity;
    let empty = TableP2m::default();
    // Last byte exactly u64::MAX: the end is 2^64, which is no overflow.
    for len in [1, 0x1000, 0x1001, 0x12_3456, u64::MAX - 0xfff, u64::MAX] {
        let at = p(0u64.wrapping_sub(len));
        assert!(
            !xen::range_straddles_page_boundary(&id, at, len),
            "identity, len {len:#x}"
        );
        assert!(
            !xen::range_straddles_page_boundary(&empty, at, len),
            "empty p2m, len {len:#x}"
        );
    }
    // One byte more and the last byte would lie at 2^64: an overflow, which straddles.
    assert!(xen::range_straddles_page_boundary(&id, p(u64::MAX), 2));
    assert!(xen::range_straddles_page_boundary(
        &id,
        p(u64::MAX - 0xfff),
        0x1001
    ));
    assert!(xen::range_straddles_page_boundary(&id, p(2), u64::MAX));
    assert!(xen::range_straddles_page_boundary(
        &id,
        p(u64::MAX),
        u64::MAX
    ));
    // Zero bytes at the very top: nothing to straddle.
    assert!(!xen::range_straddles_page_boundary(&id, p(u64::MAX), 0));
    assert!(!xen::range_straddles_page_boundary(&empty, p(u64::MAX), 0));
    // A busy p2m, whole space from byte 0x1001 on: frame 2 is foreign, so the run breaks
    // there; the code must get as far as looking.
    let mut busy = TableP2m::default();
    busy.0.insert(2, 0x9_0000);
    assert!(xen::range_straddles_page_boundary(
        &busy,
        p(0x1001),
        u64::MAX - 0x1000
    ));
    assert!(model::straddles(&busy, 0x1001, u64::MAX - 0x1000));
}

#[test]
fn alignment_semantics() {
    let mut p2m = TableP2m::default();
    // 4K pages: 8 KiB at 0x2000 is order-1 aligned; its machine frame 0x9_0001 is not.
    p2m.0.insert(0x2, 0x9_0001);
    assert!(xen::range_requires_alignment::<12>(&p2m, p(0x2000), 0x2000));
    // Not aligned in pseudo-physical space to begin with: nothing to keep.
    assert!(!xen::range_requires_alignment::<12>(
        &p2m,
        p(0x3000),
        0x2000
    ));
    // 1:1 keeps every alignment.
    assert!(!xen::range_requires_alignment::<12>(
        &Identity,
        p(0x2000),
        0x2000
    ));
    // 64K pages: the alignment is at least 64 KiB.
    p2m.0.insert(0x10, 0x9_0008);
    assert!(xen::range_requires_alignment::<16>(
        &p2m,
        p(0x1_0000),
        0x100
    ));
    p2m.0.insert(0x10, 0x9_0010);
    assert!(!xen::range_requires_alignment::<16>(
        &p2m,
        p(0x1_0000),
        0x100
    ));
}

fn p2m_strategy() -> impl Strategy<Value = TableP2m> {
    prop::collection::btree_map(0u64..64, 0u64..128, 0..8).prop_map(TableP2m)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn straddle_matches_model(
        p2m in p2m_strategy(),
        addr in 0u64..(70 << 12),
        len in 0u64..(8 << 12),
    ) {
        let want = model::straddles(&p2m, addr, len);
        prop_assert_eq!(xen::range_straddles_page_boundary(&p2m, p(addr), len), want);
    }

    #[test]
    fn identity_never_straddles(addr in any::<u64>(), len in 0u64..1 << 24) {
        // Only a last byte beyond u64::MAX counts; a buffer ending at 2^64 fits.
        let overflow = addr as u128 + len as u128 > 1 << 64;
        prop_assert_eq!(xen::range_straddles_page_boundary(&Identity, p(addr), len), overflow);
    }

    #[test]
    fn straddle_at_the_top_matches_model(
        back in 0u64..1 << 14,
        huge in any::<bool>(),
        end in 0u128..3,
        foreign in any::<bool>(),
    ) {
        // Buffers ending within a byte of 2^64: addr + len is 2^64 - 1, 2^64 or 2^64 + 1.
        let len = if huge { u64::MAX - back } else { back };
        let addr = (1u128 << 64) - 1 + end - len as u128;
        prop_assume!(addr <= u64::MAX as u128);
        let addr = addr as u64;
        let wraps = len != 0 && addr as u128 + len as u128 > 1 << 64;
        prop_assert_eq!(xen::range_straddles_page_boundary(&Identity, p(addr), len), wraps);
        if foreign {
            // A foreign frame right after the first one breaks every run of two or more
            // frames at once, so the model's walk stays short even for 2^64 - 1 bytes.
            let mut t = TableP2m::default();
            let next = (addr >> 12) + 1;
            t.0.insert(next, next + 7);
            let want = model::straddles(&t, addr, len);
            prop_assert_eq!(xen::range_straddles_page_boundary(&t, p(addr), len), want);
        }
    }

    #[test]
    fn p2m_round_trip_keeps_the_offset(pfn in 0u64..1 << 40, off in 0u64..XEN_PAGE_SIZE) {
        let a = XenPfn::new(pfn).phys(off).unwrap();
        let m = xen::phys_to_machine(&Identity, a).unwrap();
        prop_assert_eq!(m.as_u64(), a.as_u64());
        prop_assert_eq!(xen::machine_to_phys(&Identity, m), Some(a));
        let mut t = TableP2m::default();
        t.0.insert(pfn, pfn ^ 0x5555);
        let m = xen::phys_to_machine(&t, a).unwrap();
        prop_assert_eq!(m.bfn(), Bfn::new(pfn ^ 0x5555));
        prop_assert_eq!(m.xen_page_offset(), off);
    }

    #[test]
    fn alignment_matches_model(p2m in p2m_strategy(), pfn in 0u64..64, len in 1u64..(1 << 20)) {
        let a = p(pfn << 12);
        for shift in [12u32, 14, 16] {
            let order = (0..64).find(|&n| (1u128 << (shift + n)) >= len as u128).unwrap();
            let align = 1u64 << (order + shift);
            let bus = p2m.pfn_to_bfn(a.xen_pfn()).as_u64() << 12;
            let want = a.as_u64().is_multiple_of(align) && !bus.is_multiple_of(align);
            let got = match shift {
                12 => xen::range_requires_alignment::<12>(&p2m, a, len),
                14 => xen::range_requires_alignment::<14>(&p2m, a, len),
                _ => xen::range_requires_alignment::<16>(&p2m, a, len),
            };
            prop_assert_eq!(got, want, "shift {}", shift);
        }
    }

    #[test]
    fn pfn_round_trips_for_every_page_size(a in any::<u64>()) {
        let pa = p(a);
        prop_assert_eq!(pa.pfn::<12>().phys().unwrap().as_u64(), a & !0xfff);
        prop_assert_eq!(pa.pfn::<14>().phys().unwrap().as_u64(), a & !0x3fff);
        prop_assert_eq!(pa.pfn::<16>().phys().unwrap().as_u64(), a & !0xffff);
        prop_assert_eq!(pa.pfn::<16>().first_xen_pfn().unwrap().as_u64(), (a & !0xffff) >> 12);
    }
}
