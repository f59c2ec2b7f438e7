// SPDX-License-Identifier: GPL-2.0

//! Which pages of a coherent buffer a user mapping may cover.

use proptest::prelude::*;
use xen_swiotlb::coherent::mmap_window;

#[test]
fn windows_of_a_three_page_buffer() {
    let size = 3 * 4096;
    assert_eq!(mmap_window(size, 12, 0, 3), Some(0));
    assert_eq!(mmap_window(size, 12, 1, 2), Some(1));
    assert_eq!(mmap_window(size, 12, 2, 1), Some(2));
    // One page too many, or starting past the end.
    assert_eq!(mmap_window(size, 12, 0, 4), None);
    assert_eq!(mmap_window(size, 12, 2, 2), None);
    assert_eq!(mmap_window(size, 12, 3, 1), None);
    // A partial last page still counts as a page, as PAGE_ALIGN() makes it.
    assert_eq!(mmap_window(size + 1, 12, 3, 1), Some(3));
    // 64 KiB pages.
    assert_eq!(mmap_window(65536, 16, 0, 1), Some(0));
    assert_eq!(mmap_window(65536, 16, 0, 2), None);
}

#[test]
fn no_overflow_at_the_top() {
    assert_eq!(mmap_window(u64::MAX, 12, u64::MAX, 1), None);
    assert_eq!(mmap_window(u64::MAX, 12, 0, u64::MAX), None);
    assert_eq!(
        mmap_window(u64::MAX, 12, (1 << 52) - 1, 1),
        Some((1 << 52) - 1)
    );
}

proptest! {
    #[test]
    fn window_is_inside_the_buffer(
        size in 1u64..1 << 24,
        pgoff in 0u64..1 << 13,
        user in 0u64..1 << 13,
    ) {
        let pages = size.div_ceil(4096);
        let inside = pgoff < pages && pgoff + user <= pages;
        prop_assert_eq!(mmap_window(size, 12, pgoff, user), inside.then_some(pgoff));
    }
}
