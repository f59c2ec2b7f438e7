// SPDX-License-Identifier: GPL-2.0

//! The map-time bounce decision on the Raspberry Pi 4 emmc2bus window.

use std::collections::BTreeMap;

use proptest::prelude::*;
use xen_swiotlb::decide::{plan, BounceReason, InPlace, MapPlan, Policy};
use xen_swiotlb::dma::addr::{Bfn, DmaAddr, MachineAddr, PhysAddr, XenPfn};
use xen_swiotlb::dma::ranges::{DmaLimit, DmaRange, DmaRangeMap};
use xen_swiotlb::dma::xen::{self, Identity, P2m};

/// Arm Dom0 p2m: identity but for foreign frames.
#[derive(Default)]
struct Foreign(BTreeMap<u64, u64>);

impl P2m for Foreign {
    fn pfn_to_bfn(&self, pfn: XenPfn) -> Bfn {
        Bfn::new(*self.0.get(&pfn.as_u64()).unwrap_or(&pfn.as_u64()))
    }
    fn bfn_to_pfn(&self, bfn: Bfn) -> XenPfn {
        XenPfn::new(bfn.as_u64())
    }
}

fn emmc2() -> [DmaRange; 1] {
    [DmaRange::new(0, 0xc000_0000, 0x4000_0000).unwrap()]
}

const LIMIT: DmaLimit = DmaLimit {
    mask: 0xffff_ffff,
    bus_limit: 0xffff_ffff,
};

fn p(a: u64) -> PhysAddr {
    PhysAddr::new(a)
}

fn direct(dma: u64, machine: u64, foreign: bool) -> MapPlan {
    MapPlan::Direct(InPlace {
        dma: DmaAddr::new(dma),
        machine: MachineAddr::new(machine),
        foreign,
    })
}

#[test]
fn rpi4_direct_and_unreachable() {
    let r = emmc2();
    let map = DmaRangeMap::Ranges(&r);
    let none = Policy::default();
    assert_eq!(
        plan(&Identity, &map, &LIMIT, p(0x1000), 0x1000, &none),
        direct(0xc000_1000, 0x1000, false)
    );
    assert_eq!(
        plan(&Identity, &map, &LIMIT, p(0x4000_0000), 16, &none),
        MapPlan::Bounce(BounceReason::Unreachable)
    );
    // The last page of the window is fine; one byte more runs out of it.
    assert_eq!(
        plan(&Identity, &map, &LIMIT, p(0x3fff_f000), 0x1000, &none),
        direct(0xffff_f000, 0x3fff_f000, false)
    );
    assert_eq!(
        plan(&Identity, &map, &LIMIT, p(0x3fff_f000), 0x1001, &none),
        MapPlan::Bounce(BounceReason::Unreachable)
    );
    let force = Policy {
        force: true,
        ..none
    };
    assert_eq!(
        plan(&Identity, &map, &LIMIT, p(0x1000), 8, &force),
        MapPlan::Bounce(BounceReason::Forced)
    );
}

#[test]
fn foreign_pages() {
    let r = emmc2();
    let map = DmaRangeMap::Ranges(&r);
    let mut p2m = Foreign::default();
    // Pseudo-physical 0x5000_0000 (unreachable itself) holds machine frame 0x2_0000.
    p2m.0.insert(0x5_0000, 0x2_0000);
    let coherent = Policy::default();
    assert_eq!(
        plan(&p2m, &map, &LIMIT, p(0x5000_0010), 64, &coherent),
        direct(0xe000_0010, 0x2000_0010, true)
    );
    let no_cflush = Policy {
        foreign_needs_bounce: true,
        ..coherent
    };
    assert_eq!(
        plan(&p2m, &map, &LIMIT, p(0x5000_0010), 64, &no_cflush),
        MapPlan::Bounce(BounceReason::Foreign)
    );
    // Own pages are not foreign, whatever the policy.
    assert_eq!(
        plan(&p2m, &map, &LIMIT, p(0x1000), 64, &no_cflush),
        direct(0xc000_1000, 0x1000, false)
    );
    // Running from a foreign frame into an own one straddles.
    assert_eq!(
        plan(&p2m, &map, &LIMIT, p(0x5000_0ff0), 0x20, &coherent),
        MapPlan::Bounce(BounceReason::Straddles)
    );
}

proptest! {
    #[test]
    fn direct_means_translated_reachable_and_contiguous(
        frames in prop::collection::btree_map(0u64..0x60, 0u64..0x60, 0..6),
        phys in 0u64..0x60_000,
        len in 1u64..0x4000,
        mask_bits in 12u32..33,
    ) {
        // A tiny window, so that every outcome happens.
        let r = [DmaRange::new(0x10_000, 0x8_0000, 0x30_000).unwrap()];
        let map = DmaRangeMap::Ranges(&r);
        let limit = DmaLimit { mask: (1u64 << mask_bits) - 1, bus_limit: 0 };
        let p2m = Foreign(frames);
        match plan(&p2m, &map, &limit, p(phys), len, &Policy::default()) {
            MapPlan::Direct(InPlace { dma: d, machine, foreign }) => {
                prop_assert_eq!(xen::phys_to_dma(&p2m, &map, p(phys)), Ok(d));
                prop_assert_eq!(xen::phys_to_machine(&p2m, p(phys)), Some(machine));
                let pfn = p(phys).xen_pfn();
                prop_assert_eq!(foreign, p2m.pfn_to_bfn(pfn) != Bfn::new(pfn.as_u64()));
                prop_assert!(limit.reachable(d, len));
                prop_assert!(!xen::range_straddles_page_boundary(&p2m, p(phys), len));
            }
            MapPlan::Bounce(BounceReason::Straddles) => {
                prop_assert!(xen::range_straddles_page_boundary(&p2m, p(phys), len));
            }
            MapPlan::Bounce(BounceReason::Unreachable) => {
                let m = xen::phys_to_machine(&p2m, p(phys)).unwrap();
                let ok = map.machine_range_to_dma(m, len).map(|d| limit.reachable(d, len));
                prop_assert_ne!(ok, Ok(true));
            }
            other => prop_assert!(false, "unexpected {:?}", other),
        }
    }
}
