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
    // dma_range_map_min is about the bus side: the window starts at bus 0xC000_0000, not
    // at its CPU address 0.
    assert_eq!(map.dma_min(), Some(d(0xC000_0000)));
}

#[test]
fn rpi4_identity_is_named_not_assumed() {
    // scb-bus has no dma-ranges: the kernel leaves dma_range_map NULL.
    let scb = DmaRangeMap::Direct;
    assert_eq!(scb.phys_to_dma(p(0x1_2345_6000)), Ok(d(0x1_2345_6000)));
    assert_eq!(scb.dma_limit(), None);
    assert_eq!(scb.dma_min(), Some(d(0)));
    // An empty table is not the identity: nothing translates.
    let empty = DmaRangeMap::Ranges(&[]);
    assert_eq!(empty.phys_to_dma(p(0x1000)), Err(RangeError::NoTranslation));
    assert_eq!(empty.dma_to_phys(d(0x1000)), Err(RangeError::NoTranslation));
    assert_eq!(empty.dma_limit(), None);
    assert_eq!(empty.dma_min(), None);
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

/// Two CPU windows of 256 MiB overlapping in [0x1800_0000, 0x2000_0000), mapped to
/// different bus addresses.
const OVERLAP: [(u64, u64, u64); 2] = [
    (0x1000_0000, 0x8000_0000, 0x1000_0000),
    (0x1800_0000, 0x9800_0000, 0x1000_0000),
];

fn table_of(t: &[(u64, u64, u64)]) -> Vec<DmaRange> {
    t.iter()
        .map(|&(c, d, s)| DmaRange::new(c, d, s).unwrap())
        .collect()
}

#[test]
fn first_matching_entry_wins() {
    let r = table_of(&OVERLAP);
    let map = DmaRangeMap::Ranges(&r);
    // 0x1800_0000 lies in both windows: the first one translates it.
    assert_eq!(map.phys_to_dma(p(0x1800_0000)), Ok(d(0x8800_0000)));
    assert_eq!(map.phys_to_dma(p(0x1fff_ffff)), Ok(d(0x8fff_ffff)));
    // Past the first window only the second one holds it.
    assert_eq!(map.phys_to_dma(p(0x2000_0000)), Ok(d(0xa000_0000)));
    // The other order, the other answer.
    let rev = [r[1], r[0]];
    let map = DmaRangeMap::Ranges(&rev);
    assert_eq!(map.phys_to_dma(p(0x1800_0000)), Ok(d(0x9800_0000)));
    assert_eq!(map.phys_to_dma(p(0x1000_0000)), Ok(d(0x8000_0000)));

    // The bus side: one bus window reached from two CPU windows.
    let r = table_of(&[
        (0x4000_0000, 0xC000_0000, 0x1000_0000),
        (0x0, 0xC000_0000, 0x4000_0000),
    ]);
    let map = DmaRangeMap::Ranges(&r);
    assert_eq!(map.dma_to_phys(d(0xC000_1000)), Ok(p(0x4000_1000)));
    assert_eq!(map.dma_to_phys(d(0xD000_1000)), Ok(p(0x1000_1000)));
    assert_eq!(
        map.dma_range_to_machine(d(0xC000_0000), 0x1000),
        Ok(MachineAddr::new(0x4000_0000))
    );
    // Both CPU windows give their own bus address for the same bus window.
    assert_eq!(map.phys_to_dma(p(0x4000_1000)), Ok(d(0xC000_1000)));
    assert_eq!(map.phys_to_dma(p(0x1000)), Ok(d(0xC000_1000)));
    // A buffer that the first window holds only in part is taken whole from the second.
    assert_eq!(
        map.dma_range_to_machine(d(0xCFFF_F000), 0x2000),
        Ok(MachineAddr::new(0x0FFF_F000))
    );
    assert_eq!(map.dma_min(), Some(d(0xC000_0000)));
    assert_eq!(map.dma_limit(), Some(d(0xFFFF_FFFF)));
}

#[test]
fn a_buffer_over_two_adjacent_windows_is_refused() {
    // Adjacent on both sides: the second window continues the first in CPU and bus
    // addresses alike, yet a buffer must lie in one range.
    let r = table_of(&[
        (0x0, 0xC000_0000, 0x1000_0000),
        (0x1000_0000, 0xD000_0000, 0x1000_0000),
    ]);
    let map = DmaRangeMap::Ranges(&r);
    let m = MachineAddr::new(0x0FFF_F000);
    assert_eq!(map.machine_range_to_dma(m, 0x1000), Ok(d(0xCFFF_F000)));
    assert_eq!(
        map.machine_range_to_dma(MachineAddr::new(0x1000_0000), 0x1000),
        Ok(d(0xD000_0000))
    );
    assert_eq!(
        map.machine_range_to_dma(m, 0x2000),
        Err(RangeError::NoTranslation)
    );
    assert_eq!(
        map.phys_range_to_dma(p(0x0FFF_FFFF), 2),
        Err(RangeError::NoTranslation)
    );
    assert_eq!(
        map.dma_range_to_machine(d(0xCFFF_F000), 0x2000),
        Err(RangeError::NoTranslation)
    );
    // Each byte on its own translates.
    assert_eq!(map.phys_to_dma(p(0x0FFF_FFFF)), Ok(d(0xCFFF_FFFF)));
    assert_eq!(map.phys_to_dma(p(0x1000_0000)), Ok(d(0xD000_0000)));
}

#[test]
fn max_address_is_min_not_zero() {
    let lim = |mask, bus_limit| DmaLimit { mask, bus_limit };
    // A zero mask leaves the bus limit, a zero bus limit the mask.
    assert_eq!(lim(0, 0xFFFF_FFFF).max_address(), 0xFFFF_FFFF);
    assert_eq!(lim(0xFFFF_FFFF, 0).max_address(), 0xFFFF_FFFF);
    assert_eq!(lim(0, 0).max_address(), 0);
    // Both set: the smaller, whichever it is.
    assert_eq!(lim(0xFFFF_FFFF, 0x3FFF_FFFF).max_address(), 0x3FFF_FFFF);
    assert_eq!(lim(0x3FFF_FFFF, 0xFFFF_FFFF).max_address(), 0x3FFF_FFFF);
    assert_eq!(lim(u64::MAX, u64::MAX).max_address(), u64::MAX);
    // Through dma_capable: a zero mask does not make everything unreachable.
    assert!(lim(0, 0xFFFF_FFFF).reachable(d(0xFFFF_F000), 0x1000));
    assert!(!lim(0, 0xFFFF_FFFF).reachable(d(0xFFFF_F000), 0x1001));
    assert!(lim(0, 0).reachable(d(0), 1));
    assert!(!lim(0, 0).reachable(d(1), 1));
}

/// Sizes from one byte to 1 TiB, small ones often.
fn size() -> impl Strategy<Value = u64> {
    prop_oneof![1u64..=0x1_0000, 1u64..=1 << 40]
}

fn entry() -> impl Strategy<Value = model::Entry> {
    // Starts anywhere the end still fits.
    size().prop_flat_map(|size| {
        (
            0..=u64::MAX - (size - 1),
            0..=u64::MAX - (size - 1),
            Just(size),
        )
    })
}

/// Room kept below and above the windows of derived tables: a table derives at most 5
/// windows, each moved from its parent by less than 2^42, so no window leaves the
/// address space.
const ROOM: u64 = 1 << 44;

fn roomy_start() -> impl Strategy<Value = u64> {
    ROOM..=u64::MAX - ROOM
}

/// How to derive a window: (kind, parent, shift, size, fresh start for the other side).
fn step() -> impl Strategy<Value = (u8, usize, u64, u64, u64)> {
    (
        any::<u8>(),
        any::<usize>(),
        any::<u64>(),
        size(),
        roomy_start(),
    )
}

/// Windows overlapping earlier ones: the same CPU window, or one starting inside it, at
/// another bus address; the same bus window, or one starting inside it, from another CPU
/// address. Shuffled, so the first match is any of them.
fn overlapping_table() -> impl Strategy<Value = Vec<model::Entry>> {
    let base = (roomy_start(), roomy_start(), size());
    (base, prop::collection::vec(step(), 1..5))
        .prop_map(|(base, steps)| {
            let mut t = vec![base];
            for (kind, parent, shift, n, f) in steps {
                let (c, d, s) = t[parent % t.len()];
                t.push(match kind % 4 {
                    0 => (c, f, s),
                    1 => (c + shift % s, f, n),
                    2 => (f, d, s),
                    _ => (f, d + shift % s, n),
                });
            }
            t
        })
        .prop_shuffle()
}

/// A chain of windows, each beginning where the one before it ends or ending where it
/// begins, on the CPU side, on the bus side, or on both. Shuffled.
fn adjacent_table() -> impl Strategy<Value = Vec<model::Entry>> {
    let base = (roomy_start(), roomy_start(), size());
    (base, prop::collection::vec(step(), 1..5))
        .prop_map(|(base, steps)| {
            let mut t = vec![base];
            for (kind, _, _, n, f) in steps {
                let (c, d, s) = t[t.len() - 1];
                t.push(match kind % 5 {
                    0 => (c + s, f, n),
                    1 => (c - n, f, n),
                    2 => (f, d + s, n),
                    3 => (f, d - n, n),
                    _ => (c + s, d + s, n),
                });
            }
            t
        })
        .prop_shuffle()
}

/// A third each: independent windows (anywhere, up to the top of the address space),
/// overlapping windows, adjacent windows.
fn table() -> impl Strategy<Value = Vec<model::Entry>> {
    prop_oneof![
        prop::collection::vec(entry(), 0..6),
        overlapping_table(),
        adjacent_table(),
    ]
}

fn ranges(t: &[model::Entry]) -> Vec<DmaRange> {
    t.iter()
        .map(|&(c, d, s)| DmaRange::new(c, d, s).unwrap())
        .collect()
}

/// Whether two windows of `t` share an address, and whether one begins where another
/// ends, on either side.
fn shape(t: &[model::Entry]) -> (bool, bool) {
    let (mut overlap, mut adjacent) = (false, false);
    for (i, &(c0, d0, s0)) in t.iter().enumerate() {
        for &(c1, d1, s1) in &t[i + 1..] {
            let meet = |a: u64, b: u64| {
                let (a, b) = (a as u128, b as u128);
                (
                    a < b + s1 as u128 && b < a + s0 as u128,
                    a + s0 as u128 == b || b + s1 as u128 == a,
                )
            };
            let (cpu_o, cpu_a) = meet(c0, c1);
            let (bus_o, bus_a) = meet(d0, d1);
            overlap |= cpu_o || bus_o;
            adjacent |= cpu_a || bus_a;
        }
    }
    (overlap, adjacent)
}

#[test]
fn the_table_generator_draws_overlaps_and_neighbours() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut overlap, mut adjacent) = (0, 0);
    let n = 900;
    for _ in 0..n {
        let t = table().new_tree(&mut runner).unwrap().current();
        let (o, a) = shape(&t);
        overlap += o as u32;
        adjacent += a as u32;
    }
    // A third of the tables each, less a little for chance.
    assert!(overlap >= n / 4, "{overlap} of {n} tables overlap");
    assert!(
        adjacent >= n / 4,
        "{adjacent} of {n} tables have neighbours"
    );
}

/// An address inside, at the last bytes of, at the first byte of, just past or just before
/// a random entry, or anywhere.
fn probe(t: &[model::Entry], pick: usize, off: u64, any: u64, side_dma: bool) -> u64 {
    if t.is_empty() || pick % 6 == 5 {
        return any;
    }
    let (c, d, s) = t[(pick / 6) % t.len()];
    let base = if side_dma { d } else { c };
    match pick % 6 {
        0 => base + off % s,
        1 => base + (s - 1 - off % s.min(1 << 21)),
        2 => base,
        3 => base.wrapping_add(s),
        _ => base.wrapping_sub(1),
    }
}

fn limit_value() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        (1u32..=64).prop_map(|bits| u64::MAX >> (64 - bits)),
        any::<u64>(),
    ]
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
        prop_assert_eq!(got.ok().map(DmaAddr::as_u64), model::range_to_dma(&t, addr, len));
        let got = map.machine_range_to_dma(MachineAddr::new(addr), len);
        prop_assert_eq!(got.ok().map(DmaAddr::as_u64), model::range_to_dma(&t, addr, len));
        let addr = probe(&t, pick, off, a, true);
        let got = map.dma_range_to_machine(d(addr), len);
        prop_assert_eq!(got.ok().map(MachineAddr::as_u64), model::range_to_phys(&t, addr, len));
    }

    #[test]
    fn dma_limit_is_the_highest_bus_byte(t in table()) {
        let r = ranges(&t);
        let want = t.iter().map(|&(_, d, s)| d + (s - 1)).max();
        prop_assert_eq!(DmaRangeMap::Ranges(&r).dma_limit().map(DmaAddr::as_u64), want);
    }

    #[test]
    fn dma_min_is_the_lowest_bus_start(t in table()) {
        let r = ranges(&t);
        let got = DmaRangeMap::Ranges(&r).dma_min().map(DmaAddr::as_u64);
        prop_assert_eq!(got, model::dma_min(&t));
    }

    #[test]
    fn max_address_and_reachable_match_min_not_zero(
        mask in limit_value(),
        bus_limit in limit_value(),
        len in prop_oneof![0u64..0x1_0000, any::<u64>()],
        near in 0u64..3,
        a in any::<u64>(),
        at_limit in any::<bool>(),
    ) {
        // min_not_zero: the smaller of the values that are not zero, else zero.
        let want = [mask, bus_limit].into_iter().filter(|&v| v != 0).min().unwrap_or(0);
        let lim = DmaLimit { mask, bus_limit };
        prop_assert_eq!(lim.max_address(), want);
        // A buffer whose last byte is one below, at or one above the limit, or anywhere.
        let dma = if at_limit {
            want.wrapping_sub(len.saturating_sub(1)).wrapping_add(near).wrapping_sub(1)
        } else {
            a
        };
        let last = dma as u128 + len.max(1) as u128 - 1;
        let reach = dma != u64::MAX && last <= want as u128;
        prop_assert_eq!(lim.reachable(d(dma), len), reach);
    }
}
