// SPDX-License-Identifier: GPL-2.0

//! Xen's cache maintenance for pages that are not the domain's own RAM.
//!
//! A foreign page (granted by another domain) mapped in place for a device that is not
//! cache coherent cannot be cleaned by virtual address from Dom0 on every platform; Xen
//! offers `GNTTABOP_cache_flush` on its machine address instead. One entry of that
//! hypercall covers at most one Xen page: Xen refuses `offset + length > XEN_PAGE_SIZE`
//! with `-EINVAL` (xen/common/grant_table.c), so a buffer is split per Xen page, as
//! arch/arm/xen/mm.c does.

use crate::dma::addr::{
    MachineAddr,   //
    XEN_PAGE_SIZE, //
};

/// One `struct gnttab_cache_flush` entry: `length` bytes at `offset` into the Xen page at
/// machine address `page`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FlushEntry {
    /// Machine address of the Xen page (`a.dev_bus_addr`), page aligned.
    pub page: MachineAddr,
    /// Offset into the page.
    pub offset: u16,
    /// Bytes to flush; `offset + length` never exceeds [`XEN_PAGE_SIZE`].
    pub length: u16,
}

/// The entries that cover `[maddr, maddr + len)`, one per Xen page, in order. A range
/// running past the top of the address space stops there.
pub fn per_xen_page(maddr: MachineAddr, len: u64) -> impl Iterator<Item = FlushEntry> {
    let mut addr = maddr.as_u64();
    let mut left = len;
    core::iter::from_fn(move || {
        if left == 0 {
            return None;
        }
        let offset = addr & (XEN_PAGE_SIZE - 1);
        let length = left.min(XEN_PAGE_SIZE - offset);
        let entry = FlushEntry {
            page: MachineAddr::new(addr - offset),
            // Both are below XEN_PAGE_SIZE (4096), or equal to it for a whole page.
            offset: offset as u16,
            length: length as u16,
        };
        left -= length;
        match addr.checked_add(length) {
            Some(next) => addr = next,
            None => left = 0,
        }
        Some(entry)
    })
}
