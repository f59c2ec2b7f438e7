// SPDX-License-Identifier: GPL-2.0

//! What the DMA API asks of a coherent buffer after it is allocated, as far as it needs
//! no kernel: which pages of the buffer a user mapping may cover.

/// The page of a `size`-byte coherent buffer (pages of `1 << shift` bytes) where a user
/// mapping of `user_pages` pages starting `pgoff` pages into the buffer begins, or `None`
/// when the mapping would run off the buffer (`dma_common_mmap()` answers `ENXIO` then).
pub fn mmap_window(size: u64, shift: u32, pgoff: u64, user_pages: u64) -> Option<u64> {
    // PAGE_ALIGN(size) >> shift, without overflowing at the top.
    let pages = (size >> shift) + u64::from(size & ((1u64 << shift) - 1) != 0);
    if pgoff >= pages || user_pages > pages - pgoff {
        return None;
    }
    Some(pgoff)
}
