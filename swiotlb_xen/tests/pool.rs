// SPDX-License-Identifier: GPL-2.0

//! The bounce pool: exact cases, and random alloc/free sequences against a model.

use proptest::prelude::*;
use xen_swiotlb::dma::addr::PhysAddr;
use xen_swiotlb::pool::{Pool, PoolError, Slot, IO_TLB_SEGSIZE, IO_TLB_SIZE, MAX_MAPPING_SIZE};

/// Below 1 GiB: where a Raspberry Pi 4's 30-bit devices can reach.
const BASE: u64 = 0x3000_0000;
const PAGE: u64 = 4096;

fn p(a: u64) -> PhysAddr {
    PhysAddr::new(a)
}

#[test]
fn small_mapping_takes_one_slot() {
    let mut slots = vec![Slot::FREE; 256];
    let mut pool = Pool::new(p(BASE), PAGE, slots.as_mut_slice()).unwrap();
    let b = pool.alloc(p(0x4000_1234), 100, 0, 0, 0).unwrap();
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
    let b = pool.alloc(orig, 3000, 0xfff, 0, 7).unwrap();
    assert_eq!(b.tag, 7);
    assert_eq!(b.tlb.as_u64() & 0xfff, 0xa34);
    // 0xa34 + 3000 bytes span two slots.
    assert_eq!(pool.stats().used, 2);
}

#[test]
fn page_sized_mappings_are_page_aligned() {
    let mut slots = vec![Slot::FREE; 256];
    let mut pool = Pool::new(p(BASE), PAGE, slots.as_mut_slice()).unwrap();
    let a = pool.alloc(p(0x4000_0800), 100, 0, 0, 0).unwrap();
    let b = pool.alloc(p(0x4000_0800), PAGE, 0, 0, 0).unwrap();
    assert!(b.tlb.is_aligned(PAGE));
    assert_ne!(a.tlb, b.tlb);
    // An explicit alignment mask wins.
    let c = pool.alloc(p(0x4000_0000), 100, 0, 0x3fff, 0).unwrap();
    assert!(c.tlb.is_aligned(0x4000));
}

#[test]
fn segments_bound_a_mapping() {
    let mut slots = vec![Slot::FREE; 2 * IO_TLB_SEGSIZE];
    let mut pool = Pool::new(p(BASE), PAGE, slots.as_mut_slice()).unwrap();
    assert_eq!(MAX_MAPPING_SIZE, 256 * 1024);
    let a = pool
        .alloc(p(0x4000_0000), MAX_MAPPING_SIZE, 0, 0, 0)
        .unwrap();
    assert_eq!(
        pool.alloc(p(0x4000_0000), MAX_MAPPING_SIZE + 1, 0, 0, 0),
        Err(PoolError::BadSize)
    );
    assert_eq!(
        pool.alloc(p(0x4000_0000), 0, 0, 0, 0),
        Err(PoolError::BadSize)
    );
    // With an in-slot offset, a full segment's worth no longer fits in one segment.
    assert_eq!(
        pool.alloc(p(0x4000_0010), MAX_MAPPING_SIZE, 0xfff, 0, 0),
        Err(PoolError::BadSize)
    );
    // A mapping one slot into a segment cannot take the rest plus one slot.
    pool.free(a.tlb, MAX_MAPPING_SIZE, 0).unwrap();
    let one = pool.alloc(p(0x4000_0000), 1, 0, 0, 0).unwrap();
    let big = pool
        .alloc(p(0x4000_0000), MAX_MAPPING_SIZE, 0, 0, 0)
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
        .alloc(p(0x4000_0000), 2 * IO_TLB_SIZE, 0, 0, 0)
        .unwrap();
    let b = pool
        .alloc(p(0x5000_0000), 2 * IO_TLB_SIZE, 0, 0, 0)
        .unwrap();
    assert_eq!(
        pool.alloc(p(0x6000_0000), 1, 0, 0, 0),
        Err(PoolError::Exhausted)
    );
    assert_eq!(pool.stats().exhausted, 1);
    // The live mappings are untouched.
    assert_eq!(pool.find(a.tlb), Some(a));
    assert_eq!(pool.find(b.tlb), Some(b));
    pool.free(a.tlb, a.size, 0).unwrap();
    assert!(pool.alloc(p(0x6000_0000), 1, 0, 0, 0).is_ok());
}

#[test]
fn bad_unmaps_are_refused() {
    let mut slots = vec![Slot::FREE; 16];
    let mut pool = Pool::new(p(BASE), PAGE, slots.as_mut_slice()).unwrap();
    let b = pool.alloc(p(0x4000_0000), 3000, 0, 0, 0).unwrap();
    assert_eq!(pool.free(b.tlb, 2999, 0), Err(PoolError::NotMapped));
    assert_eq!(
        pool.free(p(b.tlb.as_u64() + 8), 3000, 0),
        Err(PoolError::NotMapped)
    );
    assert_eq!(pool.free(p(0x1000), 3000, 0), Err(PoolError::NotMapped));
    // Another tag (the DMA direction, to the module) than the mapping's.
    assert_eq!(pool.free(b.tlb, 3000, 1), Err(PoolError::NotMapped));
    assert_eq!(pool.free(b.tlb, 3000, 0), Ok(b));
    assert_eq!(pool.free(b.tlb, 3000, 0), Err(PoolError::NotMapped));
    assert_eq!(pool.stats().used, 0);
}

#[test]
fn partial_addresses_find_their_mapping() {
    let mut slots = vec![Slot::FREE; 16];
    let mut pool = Pool::new(p(BASE), PAGE, slots.as_mut_slice()).unwrap();
    let b = pool.alloc(p(0x4000_0000), 5000, 0, 0, 0).unwrap();
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
    fn random_sequences_keep_the_invariants(ops in prop::collection::vec(op(), 1..200)) {
        let nslots = 3 * IO_TLB_SEGSIZE;
        let mut slots = vec![Slot::FREE; nslots];
        let mut pool = Pool::new(p(BASE), PAGE, slots.as_mut_slice()).unwrap();
        // The model: live mappings as (bounce, first slot, slot count).
        let mut live: Vec<(xen_swiotlb::pool::Bounce, u64, u64)> = Vec::new();
        for op in ops {
            match op {
                Op::Map { orig, size, min_align } => match pool.alloc(
                    p(orig), size, min_align, 0, 0,
                ) {
                    Ok(b) => {
                        prop_assert!(pool.contains(b.tlb));
                        prop_assert_eq!(b.tlb.as_u64() & min_align, orig & min_align);
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
            prop_assert!(pool.alloc(p(i << 20), MAX_MAPPING_SIZE, 0, 0, 0).is_ok());
        }
    }
}
