// SPDX-License-Identifier: GPL-2.0

//! `dma-ranges` translation: the Raspberry Pi 4 tables with exact addresses, and property
//! tests against the reference model.

#[path = "support/model.rs"]
mod model;

use proptest::prelude::*;
use xen_dma::addr::{DmaAddr, MachineAddr, PhysAddr};
use xen_dma::ranges::{DmaLimit, DmaRange, DmaRangeMap, RangeError};

/// bcm2711.dtsi `emmc2bus` and `soc`: `dma-ranges = <0x0 0xc0000000 0x0 0x00000000
/// 0x40000000>`: bus 0xC000_0000 is physical 0, for the first GiB only.
const RPI4_LOW_GIB: [DmaRange; 1] = match DmaRange::new(0, 0xC000_0000, 0x4000_0000) {
    Ok(r) => [r],
    Err(_) => panic!(),
};

/// bcm2711.dtsi `pcie0`: the first 3 GiB at bus address 0.
const RPI4_PCIE: [DmaRange; 1] = match DmaRange::new(0, 0, 0xC000_0000) {
    Ok(r) => [r],
    Err(_) => panic!(),
};

fn p(a: u64) -> PhysAddr {
    PhysAddr::new(a)
}
fn d(a: u64) -> DmaAddr {
    DmaAddr::new(a)
}

#[test]
fn rpi4_emmc2bus_exact_addresses() {
    let map = DmaRangeMap::Ranges(&RPI4_LOW_GIB);
    assert_eq!(map.phys_to_dma(p(0x1000)), Ok(d(0xC000_1000)));
    assert_eq!(map.phys_to_dma(p(0)), Ok(d(0xC000_0000)));
    assert_eq!(map.phys_to_dma(p(0x3FFF_FFFF)), Ok(d(0xFFFF_FFFF)));
    assert_eq!(
        map.phys_to_dma(p(0x4000_0000)),
        Err(RangeError::NoTranslation)
    );
    assert_eq!(
        map.phys_to_dma(p(0x1_0000_0000)),
        Err(RangeError::NoTranslation)
    );
    assert_eq!(map.dma_to_phys(d(0xC000_1000)), Ok(p(0x1000)));
    assert_eq!(map.dma_to_phys(d(0x1000)), Err(RangeError::NoTranslation));
    assert_eq!(
        map.dma_to_phys(d(0xBFFF_FFFF)),
        Err(RangeError::NoTranslation)
    );
    assert_eq!(map.dma_limit(), Some(d(0xFFFF_FFFF)));
    assert_eq!(map.cpu_min(), Some(0));
}

#[test]
fn rpi4_identity_is_named_not_assumed() {
    // scb-bus has no dma-ranges: the kernel leaves dma_range_map NULL.
    let scb = DmaRangeMap::Direct;
    assert_eq!(scb.phys_to_dma(p(0x1_2345_6000)), Ok(d(0x1_2345_6000)));
    assert_eq!(scb.dma_limit(), None);
    // An empty table is not the identity: nothing translates.
    let empty = DmaRangeMap::Ranges(&[]);
    assert_eq!(empty.phys_to_dma(p(0x1000)), Err(RangeError::NoTranslation));
    assert_eq!(empty.dma_to_phys(d(0x1000)), Err(RangeError::NoTranslation));
    assert_eq!(empty.dma_limit(), None);
    let pcie = DmaRangeMap::Ranges(&RPI4_PCIE);
    assert_eq!(pcie.phys_to_dma(p(0xBFFF_FFFF)), Ok(d(0xBFFF_FFFF)));
    assert_eq!(
        pcie.phys_to_dma(p(0xC000_0000)),
        Err(RangeError::NoTranslation)
    );
}

#[test]
fn whole_buffer_must_fit_one_range() {
    let map = DmaRangeMap::Ranges(&RPI4_LOW_GIB);
    let m = MachineAddr::new(0x3FFF_F000);
    assert_eq!(map.machine_range_to_dma(m, 0x1000), Ok(d(0xFFFF_F000)));
    assert_eq!(
        map.machine_range_to_dma(m, 0x1001),
        Err(RangeError::NoTranslation)
    );
    assert_eq!(map.dma_range_to_machine(d(0xFFFF_F000), 0x1000), Ok(m));
    assert_eq!(
        map.dma_range_to_machine(d(0xFFFF_F000), 0x1001),
        Err(RangeError::NoTranslation)
    );
    // Direct: only overflow of the 64-bit space is refused.
    let direct = DmaRangeMap::Direct;
    assert_eq!(direct.phys_range_to_dma(p(u64::MAX), 1), Ok(d(u64::MAX)));
    assert_eq!(
        direct.phys_range_to_dma(p(u64::MAX), 2),
        Err(RangeError::NoTranslation)
    );
}

#[test]
fn bad_ranges_are_refused() {
    assert_eq!(DmaRange::new(0, 0, 0), Err(RangeError::BadRange));
    assert_eq!(DmaRange::new(u64::MAX, 0, 2), Err(RangeError::BadRange));
    assert_eq!(DmaRange::new(0, u64::MAX, 2), Err(RangeError::BadRange));
    assert!(DmaRange::new(u64::MAX, 0, 1).is_ok());
    assert!(DmaRange::new(0, 0, u64::MAX).is_ok());
}

#[test]
fn reachability_follows_mask_and_bus_limit() {
    // The emmc2 controller: 32-bit mask, bus limit from the table.
    let lim = DmaLimit {
        mask: 0xFFFF_FFFF,
        bus_limit: 0xFFFF_FFFF,
    };
    assert!(lim.reachable(d(0xFFFF_F000), 0x1000));
    assert!(!lim.reachable(d(0xFFFF_F000), 0x1001));
    assert!(!lim.reachable(DmaAddr::MAPPING_ERROR, 1));
    assert!(!lim.reachable(d(u64::MAX - 1), 4));
    // A 30-bit bus limit under a 64-bit mask wins, and a zero limit means "mask only".
    let lim = DmaLimit {
        mask: u64::MAX,
        bus_limit: 0x3FFF_FFFF,
    };
    assert_eq!(lim.max_address(), 0x3FFF_FFFF);
    assert!(!lim.reachable(d(0x4000_0000), 1));
    let lim = DmaLimit {
        mask: 0xFFFF_FFFF,
        bus_limit: 0,
    };
    assert_eq!(lim.max_address(), 0xFFFF_FFFF);
}

fn entry() -> impl Strategy<Value = model::Entry> {
    // Sizes from one byte to 1 TiB, starts anywhere the end still fits.
    (1u64..=1 << 40).prop_flat_map(|size| {
        (
            0..=u64::MAX - (size - 1),
            0..=u64::MAX - (size - 1),
            Just(size),
        )
    })
}

fn table() -> impl Strategy<Value = Vec<model::Entry>> {
    prop::collection::vec(entry(), 0..6)
}

fn ranges(t: &[model::Entry]) -> Vec<DmaRange> {
    t.iter()
        .map(|&(c, d, s)| DmaRange::new(c, d, s).unwrap())
        .collect()
}

/// An address inside (or just outside) a random entry, or anywhere.
fn probe(t: &[model::Entry], pick: usize, off: u64, any: u64, side_dma: bool) -> u64 {
    if t.is_empty() || pick % 4 == 3 {
        return any;
    }
    let (c, d, s) = t[pick % t.len()];
    let base = if side_dma { d } else { c };
    match pick % 4 {
        0 => base.wrapping_add(off % s),
        1 => base.wrapping_add(s),
        _ => base.wrapping_sub(1),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn phys_to_dma_matches_model(
        t in table(),
        pick in any::<usize>(),
        off in any::<u64>(),
        a in any::<u64>(),
    ) {
        let r = ranges(&t);
        let map = DmaRangeMap::Ranges(&r);
        let addr = probe(&t, pick, off, a, false);
        let want = model::phys_to_dma(&t, addr);
        prop_assert_eq!(map.phys_to_dma(p(addr)).ok().map(DmaAddr::as_u64), want);
        let m = MachineAddr::new(addr);
        prop_assert_eq!(map.machine_to_dma(m).ok().map(DmaAddr::as_u64), want);
    }

    #[test]
    fn dma_to_phys_matches_model(
        t in table(),
        pick in any::<usize>(),
        off in any::<u64>(),
        a in any::<u64>(),
    ) {
        let r = ranges(&t);
        let map = DmaRangeMap::Ranges(&r);
        let addr = probe(&t, pick, off, a, true);
        let want = model::dma_to_phys(&t, addr);
        prop_assert_eq!(map.dma_to_phys(d(addr)).ok().map(PhysAddr::as_u64), want);
    }

    #[test]
    fn round_trip_inside_a_range(e in entry(), off in any::<u64>()) {
        let r = [DmaRange::new(e.0, e.1, e.2).unwrap()];
        let map = DmaRangeMap::Ranges(&r);
        let phys = p(e.0 + off % e.2);
        let dma = map.phys_to_dma(phys).unwrap();
        prop_assert_eq!(dma.as_u64() - e.1, phys.as_u64() - e.0);
        prop_assert_eq!(map.dma_to_phys(dma), Ok(phys));
    }

    #[test]
    fn outside_every_range_is_an_error(t in table(), a in any::<u64>()) {
        let r = ranges(&t);
        let map = DmaRangeMap::Ranges(&r);
        let inside = t.iter().any(|&(c, _, s)| a >= c && a - c < s);
        prop_assert_eq!(map.phys_to_dma(p(a)).is_err(), !inside);
    }

    #[test]
    fn buffer_translation_is_all_or_nothing(
        t in table(),
        pick in any::<usize>(),
        off in any::<u64>(),
        a in any::<u64>(),
        len in 0u64..1 << 20,
    ) {
        let r = ranges(&t);
        let map = DmaRangeMap::Ranges(&r);
        let addr = probe(&t, pick, off, a, false);
        let got = map.phys_range_to_dma(p(addr), len);
        // The model: the first entry holding every byte of the buffer.
        let want = t.iter().find_map(|&(c, d, s)| {
            let (a, l, c, s) = (addr as u128, len as u128, c as u128, s as u128);
            (a >= c && a < c + s && a + l <= c + s).then(|| (d as u128 + (a - c)) as u64)
        });
        prop_assert_eq!(got.ok().map(DmaAddr::as_u64), want);
    }

    #[test]
    fn dma_limit_is_the_highest_bus_byte(t in table()) {
        let r = ranges(&t);
        let want = t.iter().map(|&(_, d, s)| d + (s - 1)).max();
        prop_assert_eq!(DmaRangeMap::Ranges(&r).dma_limit().map(DmaAddr::as_u64), want);
    }
}
