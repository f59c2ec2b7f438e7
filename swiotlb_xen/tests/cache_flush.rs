// SPDX-License-Identifier: GPL-2.0

//! Splitting Xen cache maintenance per Xen page.

use proptest::prelude::*;
use xen_swiotlb::cache_flush::{per_xen_page, FlushEntry};
use xen_swiotlb::dma::addr::MachineAddr;

fn m(a: u64) -> MachineAddr {
    MachineAddr::new(a)
}

#[test]
fn three_pages_from_an_offset() {
    let v: Vec<_> = per_xen_page(m(0x8000_0f00), 0x2200).collect();
    assert_eq!(
        v,
        [
            FlushEntry {
                page: m(0x8000_0000),
                offset: 0xf00,
                length: 0x100
            },
            FlushEntry {
                page: m(0x8000_1000),
                offset: 0,
                length: 0x1000
            },
            FlushEntry {
                page: m(0x8000_2000),
                offset: 0,
                length: 0x1000
            },
            FlushEntry {
                page: m(0x8000_3000),
                offset: 0,
                length: 0x100
            },
        ]
    );
}

#[test]
fn one_whole_page_is_one_entry() {
    let v: Vec<_> = per_xen_page(m(0x1000), 0x1000).collect();
    assert_eq!(
        v,
        [FlushEntry {
            page: m(0x1000),
            offset: 0,
            length: 0x1000
        }]
    );
    assert_eq!(per_xen_page(m(0x1234), 0).count(), 0);
}

#[test]
fn the_top_of_the_address_space_ends_the_range() {
    let v: Vec<_> = per_xen_page(m(u64::MAX - 0xff), 0x10_000).collect();
    assert_eq!(
        v,
        [FlushEntry {
            page: m(u64::MAX - 0xfff),
            offset: 0xf00,
            length: 0x100
        }]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// What Xen requires of each entry, and that the entries are exactly the range.
    #[test]
    fn entries_tile_the_range(addr in 0u64..1 << 48, len in 0u64..1 << 20) {
        let mut next = addr;
        let mut total = 0u64;
        for e in per_xen_page(m(addr), len) {
            prop_assert_eq!(e.page.as_u64() % 4096, 0);
            prop_assert!(u64::from(e.offset) + u64::from(e.length) <= 4096);
            prop_assert!(e.length > 0);
            prop_assert_eq!(e.page.as_u64() + u64::from(e.offset), next);
            next += u64::from(e.length);
            total += u64::from(e.length);
        }
        prop_assert_eq!(total, len);
    }
}
