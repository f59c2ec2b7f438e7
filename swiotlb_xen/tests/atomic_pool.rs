// SPDX-License-Identifier: GPL-2.0

//! The atomic pool's block allocator: exact cases, and random sequences against a model.

use proptest::prelude::*;
use xen_swiotlb::atomic_pool::{AtomicPool, AtomicPoolError, PageState};

fn pool(pages: usize) -> Vec<PageState> {
    vec![AtomicPool::<&mut [PageState]>::FREE; pages]
}

#[test]
fn blocks_are_naturally_aligned() {
    let mut s = pool(64);
    let mut p = AtomicPool::new(s.as_mut_slice()).unwrap();
    assert_eq!(p.alloc(0), Ok(0));
    // Order 2 cannot start at page 1: the first aligned free block is at 4.
    assert_eq!(p.alloc(2), Ok(4));
    assert_eq!(p.alloc(0), Ok(1));
    assert_eq!(p.alloc(3), Ok(8));
    assert_eq!(p.used(), 2 + 4 + 8);
    assert_eq!(p.alloc(6), Err(AtomicPoolError::Exhausted));
    assert_eq!(p.alloc(7), Err(AtomicPoolError::Exhausted));
    assert_eq!(p.alloc(200), Err(AtomicPoolError::Exhausted));
}

#[test]
fn bad_frees_are_refused() {
    let mut s = pool(16);
    let mut p = AtomicPool::new(s.as_mut_slice()).unwrap();
    let a = p.alloc(2).unwrap();
    // Wrong order, inside the block, never allocated, out of range: nothing changes.
    assert_eq!(p.free(a, 1), Err(AtomicPoolError::NotAllocated));
    assert_eq!(p.free(a + 1, 0), Err(AtomicPoolError::NotAllocated));
    assert_eq!(p.free(8, 0), Err(AtomicPoolError::NotAllocated));
    assert_eq!(p.free(99, 0), Err(AtomicPoolError::NotAllocated));
    assert_eq!(p.used(), 4);
    assert_eq!(p.free(a, 2), Ok(()));
    assert_eq!(p.free(a, 2), Err(AtomicPoolError::NotAllocated));
    assert_eq!(p.used(), 0);
    // The whole pool is one block again.
    assert_eq!(p.alloc(4), Ok(0));
}

#[test]
fn storage_must_start_free() {
    let mut s = pool(4);
    s[2] = 1;
    assert!(AtomicPool::new(s.as_mut_slice()).is_err());
}

#[derive(Clone, Debug)]
enum Op {
    Alloc(u32),
    Free(usize),
    BadFree(usize, u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u32..5).prop_map(Op::Alloc),
        2 => any::<usize>().prop_map(Op::Free),
        1 => (0usize..80, 0u32..5).prop_map(|(i, o)| Op::BadFree(i, o)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn random_sequences_match_the_model(ops in prop::collection::vec(op(), 1..120)) {
        let n = 64;
        let mut s = pool(n);
        let mut p = AtomicPool::new(s.as_mut_slice()).unwrap();
        // The model: live blocks as (first page, order), and which pages they cover.
        let mut live: Vec<(usize, u32)> = Vec::new();
        let taken = |live: &Vec<(usize, u32)>, i: usize| {
            live.iter().any(|&(f, o)| i >= f && i < f + (1 << o))
        };
        for op in ops {
            match op {
                Op::Alloc(order) => {
                    let count = 1usize << order;
                    // First naturally aligned run of free pages, computed by the model.
                    let want = (0..n)
                        .step_by(count)
                        .find(|&f| f + count <= n && (f..f + count).all(|i| !taken(&live, i)));
                    match p.alloc(order) {
                        Ok(f) => {
                            prop_assert_eq!(Some(f), want);
                            live.push((f, order));
                        }
                        Err(e) => {
                            prop_assert_eq!(e, AtomicPoolError::Exhausted);
                            prop_assert_eq!(want, None);
                        }
                    }
                }
                Op::Free(i) if !live.is_empty() => {
                    let (f, o) = live.swap_remove(i % live.len());
                    prop_assert_eq!(p.free(f, o), Ok(()));
                }
                Op::Free(_) => {}
                Op::BadFree(i, o) => {
                    if !live.contains(&(i, o)) {
                        prop_assert_eq!(p.free(i, o), Err(AtomicPoolError::NotAllocated));
                    }
                }
            }
            let used: usize = live.iter().map(|&(_, o)| 1usize << o).sum();
            prop_assert_eq!(p.used(), used);
        }
    }
}
