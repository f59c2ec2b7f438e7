// SPDX-License-Identifier: GPL-2.0

//! The bounce pool: exact cases, and random alloc/free sequences against a model.

use proptest::prelude::*;
use xen_swiotlb::dma::addr::PhysAddr;
use xen_swiotlb::pool::{
    max_mapping_size, Placement, Pool, PoolError, Slot, IO_TLB_SEGSIZE, IO_TLB_SIZE,
    MAX_MAPPING_SIZE,
};

/// Below 1 GiB: where a Raspberry Pi 4's 30-bit devices can reach.
const BASE: u64 = 0x3000_0000;
const PAGE: u64 = 4096;

fn p(a: u64) -> PhysAddr {
    PhysAddr::new(a)
}

/// A device that sees the pool at its physical address, with these masks.
fn pl(min_align_mask: u64, alloc_align_mask: u64) -> Placement {
    Placement {
        min_align_mask,
        alloc_align_mask,
        ..Placement::at(BASE)
    }
}

#[test]
fn small_mapping_takes_one_slot() {
    let mut slots = vec![Slot::FREE; 256];
    let mut pool = Pool::new(p(BASE), PAGE, slots.as_mut_slice()).unwrap();
    let b = pool.alloc(p(0x4000_1234), 100, &pl(0, 0), 0).unwrap();
    assert!(b.tlb.is_aligned(IO_TLB_SIZE));
    assert!(pool.contains(b.tlb));
    assert_eq!((b.orig, b.size), (p(0x4000_1234), 100));
    assert_eq!(pool.stats().used, 1);
    assert_eq!(pool.free(b.tlb, 100, 0), Ok(b));
    assert_eq!(pool.stats().used, 0);
    assert_eq!(pool.stats().high_water, 1);
}

#[test]
fn min_align_mask_keeps_the_low_bits() {
    let mut slots = vec![Slot::FREE; 256];
    let mut pool = Pool::new(p(BASE), PAGE, slots.as_mut_slice()).unwrap();
    // NVMe-style 4 KiB min_align_mask: the offset inside a 4 KiB page is kept.
    let orig = p(0x4000_1a34);
    let b = pool.alloc(orig, 3000, &pl(0xfff, 0), 7).unwrap();
    assert_eq!(b.tag, 7);
    assert_eq!(b.tlb.as_u64() & 0xfff, 0xa34);
    // 0xa34 + 3000 bytes span two slots.
    assert_eq!(pool.stats().used, 2);
}

#[test]
fn page_sized_mappings_are_page_aligned() {
    let mut slots = vec![Slot::FREE; 256];
    let mut pool = Pool::new(p(BASE), PAGE, slots.as_mut_slice()).unwrap();
    let a = pool.alloc(p(0x4000_0800), 100, &pl(0, 0), 0).unwrap();
    let b = pool.alloc(p(0x4000_0800), PAGE, &pl(0, 0), 0).unwrap();
    assert!(b.tlb.is_aligned(PAGE));
    assert_ne!(a.tlb, b.tlb);
    // An explicit alignment mask wins.
    let c = pool.alloc(p(0x4000_0000), 100, &pl(0, 0x3fff), 0).unwrap();
    assert!(c.tlb.is_aligned(0x4000));
}

#[test]
fn segments_bound_a_mapping() {
    let mut slots = vec![Slot::FREE; 2 * IO_TLB_SEGSIZE];
    let mut pool = Pool::new(p(BASE), PAGE, slots.as_mut_slice()).unwrap();
    assert_eq!(MAX_MAPPING_SIZE, 256 * 1024);
    let a = pool
        .alloc(p(0x4000_0000), MAX_MAPPING_SIZE, &pl(0, 0), 0)
        .unwrap();
    assert_eq!(
        pool.alloc(p(0x4000_0000), MAX_MAPPING_SIZE + 1, &pl(0, 0), 0),
        Err(PoolError::BadSize)
    );
    assert_eq!(
        pool.alloc(p(0x4000_0000), 0, &pl(0, 0), 0),
        Err(PoolError::BadSize)
    );
    // With an in-slot offset, a full segment's worth no longer fits in one segment.
    assert_eq!(
        pool.alloc(p(0x4000_0010), MAX_MAPPING_SIZE, &pl(0xfff, 0), 0),
        Err(PoolError::BadSize)
    );
    // A mapping one slot into a segment cannot take the rest plus one slot.
    pool.free(a.tlb, MAX_MAPPING_SIZE, 0).unwrap();
    let one = pool.alloc(p(0x4000_0000), 1, &pl(0, 0), 0).unwrap();
    let big = pool
        .alloc(p(0x4000_0000), MAX_MAPPING_SIZE, &pl(0, 0), 0)
        .unwrap();
    let first = (big.tlb.as_u64() - BASE) / IO_TLB_SIZE;
    assert_eq!(first % IO_TLB_SEGSIZE as u64, 0);
    assert_ne!(one.tlb, big.tlb);
}

#[test]
fn exhaustion_fails_cleanly() {
    let mut slots = vec![Slot::FREE; 4];
    let mut pool = Pool::new(p(BASE), PAGE, slots.as_mut_slice()).unwrap();
    let a = pool
        .alloc(p(0x4000_0000), 2 * IO_TLB_SIZE, &pl(0, 0), 0)
        .unwrap();
    let b = pool
        .alloc(p(0x5000_0000), 2 * IO_TLB_SIZE, &pl(0, 0), 0)
        .unwrap();
    assert_eq!(
        pool.alloc(p(0x6000_0000), 1, &pl(0, 0), 0),
        Err(PoolError::Exhausted)
    );
    assert_eq!(pool.stats().exhausted, 1);
    // The live mappings are untouched.
    assert_eq!(pool.find(a.tlb), Some(a));
    assert_eq!(pool.find(b.tlb), Some(b));
    pool.free(a.tlb, a.size, 0).unwrap();
    assert!(pool.alloc(p(0x6000_0000), 1, &pl(0, 0), 0).is_ok());
}

#[test]
fn bad_unmaps_are_refused() {
    let mut slots = vec![Slot::FREE; 16];
    let mut pool = Pool::new(p(BASE), PAGE, slots.as_mut_slice()).unwrap();
    let b = pool.alloc(p(0x4000_0000), 3000, &pl(0, 0), 0).unwrap();
    assert_eq!(pool.free(b.tlb, 2999, 0), Err(PoolError::NotMapped));
    assert_eq!(
        pool.free(p(b.tlb.as_u64() + 8), 3000, 0),
        Err(PoolError::NotMapped)
    );
    assert_eq!(pool.free(p(0x1000), 3000, 0), Err(PoolError::NotMapped));
    // Another tag (the DMA direction, to the module) than the mapping's.
    assert_eq!(pool.free(b.tlb, 3000, 1), Err(PoolError::NotMapped));
    // `get` refuses what `free` refuses and changes nothing.
    assert_eq!(pool.get(b.tlb, 2999, 0), Err(PoolError::NotMapped));
    assert_eq!(pool.get(b.tlb, 3000, 1), Err(PoolError::NotMapped));
    assert_eq!(pool.get(b.tlb, 3000, 0), Ok(b));
    assert_eq!(pool.get(b.tlb, 3000, 0), Ok(b));
    assert_eq!(pool.stats().used, 2);
    assert_eq!(pool.free(b.tlb, 3000, 0), Ok(b));
    assert_eq!(pool.free(b.tlb, 3000, 0), Err(PoolError::NotMapped));
    assert_eq!(pool.stats().used, 0);
}

#[test]
fn partial_addresses_find_their_mapping() {
    let mut slots = vec![Slot::FREE; 16];
    let mut pool = Pool::new(p(BASE), PAGE, slots.as_mut_slice()).unwrap();
    let b = pool.alloc(p(0x4000_0000), 5000, &pl(0, 0), 0).unwrap();
    assert_eq!(pool.find(p(b.tlb.as_u64() + 4999)), Some(b));
    assert_eq!(pool.find(p(b.tlb.as_u64() + 5000)), None);
}

#[test]
fn unusable_pools_are_refused() {
    let mut slots = vec![Slot::FREE; 4];
    assert_eq!(
        Pool::new(p(BASE + 8), PAGE, slots.as_mut_slice()).err(),
        Some(PoolError::BadPool)
    );
    assert_eq!(
        Pool::new(p(!0x7ff), PAGE, slots.as_mut_slice()).err(),
        Some(PoolError::BadPool)
    );
    assert_eq!(
        Pool::new(p(BASE), 3000, slots.as_mut_slice()).err(),
        Some(PoolError::BadPool)
    );
}

#[test]
fn segment_boundary_is_kept_in_bus_space() {
    let mut slots = vec![Slot::FREE; IO_TLB_SEGSIZE];
    let mut pool = Pool::new(p(BASE), PAGE, slots.as_mut_slice()).unwrap();
    let b64k = Placement {
        boundary_mask: 0xffff,
        ..Placement::at(BASE)
    };
    let a = pool.alloc(p(0x4000_0000), 48 << 10, &b64k, 0).unwrap();
    assert_eq!(a.tlb, p(BASE));
    // 16 KiB at 48 KiB end exactly on the 64 KiB line: allowed.
    let b = pool.alloc(p(0x4000_0000), 16 << 10, &b64k, 0).unwrap();
    assert_eq!(b.tlb, p(BASE + (48 << 10)));
    pool.free(b.tlb, b.size, 0).unwrap();
    // 24 KiB there would cross it: the next start is 64 KiB.
    let c = pool.alloc(p(0x4000_0000), 24 << 10, &b64k, 0).unwrap();
    assert_eq!(c.tlb, p(BASE + (64 << 10)));
    pool.free(c.tlb, c.size, 0).unwrap();
    // Without a boundary, the page-aligned slot after the first mapping is taken.
    let d = pool.alloc(p(0x4000_0000), 24 << 10, &pl(0, 0), 0).unwrap();
    assert_eq!(d.tlb, p(BASE + (48 << 10)));
    pool.free(d.tlb, d.size, 0).unwrap();
    // The boundary is the device's: for a device that sees the pool 8 KiB further on,
    // the 64 KiB line lies at 56 KiB into the pool. 16 KiB at 48 KiB would cross it
    // (bus 0x8000_e000..0x8001_2000), though they cross no physical 64 KiB line.
    let shifted = Placement {
        dma_base: 0x8000_2000,
        ..b64k
    };
    let e = pool.alloc(p(0x4000_0000), 16 << 10, &shifted, 0).unwrap();
    assert_eq!(e.tlb, p(BASE + (56 << 10)));
}

#[test]
fn alignment_is_checked_on_the_bus_address() {
    let mut slots = vec![Slot::FREE; IO_TLB_SEGSIZE];
    let mut pool = Pool::new(p(BASE), PAGE, slots.as_mut_slice()).unwrap();
    // The device sees the pool half a page off: a page-sized mapping must be page
    // aligned for the device, so one slot in.
    let half = Placement::at(0xc000_0800);
    let b = pool.alloc(p(0x4000_0000), PAGE, &half, 0).unwrap();
    assert_eq!(b.tlb, p(BASE + IO_TLB_SIZE));
    // min_align_mask bits above the slot are matched in bus space too.
    let nvme = Placement {
        min_align_mask: 0xfff,
        ..half
    };
    let c = pool.alloc(p(0x4000_1a34), 100, &nvme, 0).unwrap();
    let dma = 0xc000_0800 + (c.tlb.as_u64() - BASE);
    assert_eq!(dma & 0xfff, 0xa34);
}

#[test]
fn max_mapping_size_follows_min_align_mask() {
    assert_eq!(max_mapping_size(0), 256 << 10);
    assert_eq!(max_mapping_size(0x7ff), (256 << 10) - 2048);
    assert_eq!(max_mapping_size(0xfff), (256 << 10) - 4096);
    assert_eq!(max_mapping_size(0x1000), (256 << 10) - 4096);
    assert_eq!(max_mapping_size(u64::MAX), 0);
}

fn mask() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        (0u32..17).prop_map(|k| (1u64 << k) - 1),
        0u64..0x1_0000,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// What `max_mapping_size` promises: in an empty pool, any mapping up to it is placed,
    /// with the bits under the mask kept in bus space, wherever the device sees the pool
    /// (at a page-aligned bus address, as any `dma-ranges` window of a page-aligned pool;
    /// C's swiotlb assumes the same of its own pool).
    #[test]
    fn max_mapping_size_always_fits(
        min_align in mask(),
        orig in 0u64..1 << 40,
        base_page in 0u64..1 << 20,
        frac in 0.0f64..=1.0,
    ) {
        let max = max_mapping_size(min_align);
        prop_assume!(max > 0);
        let size = ((max as f64 * frac) as u64).clamp(1, max);
        let mut slots = vec![Slot::FREE; 2 * IO_TLB_SEGSIZE];
        let mut pool = Pool::new(p(BASE), PAGE, slots.as_mut_slice()).unwrap();
        let dma_base = base_page * PAGE;
        let place = Placement { min_align_mask: min_align, ..Placement::at(dma_base) };
        let b = pool.alloc(p(orig), size, &place, 0);
        prop_assert!(b.is_ok(), "{:#x} bytes at {:#x}, mask {:#x}: {:?}", size, orig, min_align, b);
        let b = b.unwrap();
        let dma = dma_base + (b.tlb.as_u64() - BASE);
        prop_assert_eq!(dma & min_align, orig & min_align);
    }
}

#[derive(Clone, Debug)]
enum Op {
    Map {
        orig: u64,
        size: u64,
        min_align: u64,
    },
    Unmap(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u64..1 << 36, 1u64..40_000, prop_oneof![Just(0u64), Just(0x7ff), Just(0xfff)])
            .prop_map(|(orig, size, min_align)| Op::Map { orig, size, min_align }),
        2 => any::<usize>().prop_map(Op::Unmap),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_sequences_keep_the_invariants(
        ops in prop::collection::vec(op(), 1..200),
        base_page in 0u64..1 << 20,
        boundary in prop_oneof![Just(u64::MAX), Just(0xffffu64), Just(0x1_ffff), Just(0x3_ffff)],
    ) {
        let dma_base = base_page * PAGE;
        let nslots = 3 * IO_TLB_SEGSIZE;
        let mut slots = vec![Slot::FREE; nslots];
        let mut pool = Pool::new(p(BASE), PAGE, slots.as_mut_slice()).unwrap();
        // The model: live mappings as (bounce, first slot, slot count).
        let mut live: Vec<(xen_swiotlb::pool::Bounce, u64, u64)> = Vec::new();
        for op in ops {
            match op {
                Op::Map { orig, size, min_align } => match pool.alloc(
                    p(orig),
                    size,
                    &Placement {
                        dma_base,
                        min_align_mask: min_align,
                        alloc_align_mask: 0,
                        boundary_mask: boundary,
                    },
                    0,
                ) {
                    Ok(b) => {
                        prop_assert!(pool.contains(b.tlb));
                        let dma = dma_base + (b.tlb.as_u64() - BASE);
                        prop_assert_eq!(dma & min_align, orig & min_align);
                        prop_assert_eq!(dma & !boundary, (dma + size - 1) & !boundary,
                            "crosses the segment boundary");
                        let first = (b.tlb.as_u64() - BASE) / IO_TLB_SIZE;
                        let last = (b.tlb.as_u64() + size - 1 - BASE) / IO_TLB_SIZE;
                        prop_assert!(last < nslots as u64);
                        prop_assert_eq!(first / 128, last / 128, "crosses a segment");
                        for &(_, f, n) in &live {
                            prop_assert!(last < f || first >= f + n, "overlaps a live mapping");
                        }
                        live.push((b, first, last - first + 1));
                    }
                    Err(e) => prop_assert_eq!(e, PoolError::Exhausted),
                },
                Op::Unmap(i) if !live.is_empty() => {
                    let (b, _, _) = live.swap_remove(i % live.len());
                    prop_assert_eq!(pool.free(b.tlb, b.size, 0), Ok(b));
                    prop_assert_eq!(pool.free(b.tlb, b.size, 0), Err(PoolError::NotMapped));
                }
                Op::Unmap(_) => {}
            }
            let used: u64 = live.iter().map(|&(_, _, n)| n).sum();
            prop_assert_eq!(pool.stats().used as u64, used);
            prop_assert!(pool.stats().high_water >= pool.stats().used);
        }
        for (b, _, _) in live {
            prop_assert_eq!(pool.find(b.tlb), Some(b));
            prop_assert_eq!(pool.free(b.tlb, b.size, 0), Ok(b));
        }
        prop_assert_eq!(pool.stats().used, 0);
        // Everything came back: the pool fills completely again.
        for i in 0..3 {
            prop_assert!(pool.alloc(p(i << 20), MAX_MAPPING_SIZE, &pl(0, 0), 0).is_ok());
        }
    }
}
