// SPDX-License-Identifier: GPL-2.0

//! Reference models for the host tests: the simplest code that states the meaning, with
//! 128-bit arithmetic so that it cannot overflow where the real code must be careful.

#![allow(dead_code)]

use std::collections::BTreeMap;

use xen_dma::addr::{Bfn, XenPfn};
use xen_dma::xen::P2m;

/// A range entry as (cpu_start, dma_start, size).
pub type Entry = (u64, u64, u64);

/// Whether `[addr, addr + len)` lies in `[start, start + size)`; a zero-length buffer
/// when `addr` does.
fn holds(start: u64, size: u64, addr: u64, len: u64) -> bool {
    let (a, l, s, n) = (addr as u128, len as u128, start as u128, size as u128);
    a >= s && a < s + n && a + l <= s + n
}

/// The entries are scanned in table order and the first one holding the whole buffer on
/// the CPU side wins, as the kernel's loop does; its bus address. Later entries that would
/// also hold it (overlapping windows) are never looked at.
pub fn range_to_dma(table: &[Entry], addr: u64, len: u64) -> Option<u64> {
    for &(cpu, dma, size) in table.iter() {
        if holds(cpu, size, addr, len) {
            return Some((dma as u128 + (addr as u128 - cpu as u128)) as u64);
        }
    }
    None
}

/// [`range_to_dma`] from the bus side: the first entry holding the whole buffer there;
/// its CPU address.
pub fn range_to_phys(table: &[Entry], addr: u64, len: u64) -> Option<u64> {
    for &(cpu, dma, size) in table.iter() {
        if holds(dma, size, addr, len) {
            return Some((cpu as u128 + (addr as u128 - dma as u128)) as u64);
        }
    }
    None
}

/// First entry containing `addr` on the CPU side; the bus address.
pub fn phys_to_dma(table: &[Entry], addr: u64) -> Option<u64> {
    range_to_dma(table, addr, 0)
}

/// First entry containing `addr` on the bus side; the CPU address.
pub fn dma_to_phys(table: &[Entry], addr: u64) -> Option<u64> {
    range_to_phys(table, addr, 0)
}

/// `dma_range_map_min`: the lowest `dma_start` of the table, `None` when it is empty.
pub fn dma_min(table: &[Entry]) -> Option<u64> {
    let mut best: Option<u64> = None;
    for &(_, dma, _) in table {
        if best.is_none_or(|b| dma < b) {
            best = Some(dma);
        }
    }
    best
}

/// An Arm Dom0's p2m: identity except for the frames listed (foreign mappings).
#[derive(Default, Clone, Debug)]
pub struct TableP2m(pub BTreeMap<u64, u64>);

impl P2m for TableP2m {
    fn pfn_to_bfn(&self, pfn: XenPfn) -> Bfn {
        Bfn::new(*self.0.get(&pfn.as_u64()).unwrap_or(&pfn.as_u64()))
    }
    fn bfn_to_pfn(&self, bfn: Bfn) -> XenPfn {
        XenPfn::new(bfn.as_u64())
    }
    // As the kernel's tree: an empty table takes the no-foreign shortcuts.
    fn may_have_foreign(&self) -> bool {
        !self.0.is_empty()
    }
}

/// Straddle by walking every byte's frame: do the machine frames of the bytes in
/// `[addr, addr + len)` form one consecutive run?
pub fn straddles(p2m: &TableP2m, addr: u64, len: u64) -> bool {
    let bfn = |pfn: u128| -> u128 { *p2m.0.get(&(pfn as u64)).unwrap_or(&(pfn as u64)) as u128 };
    if len == 0 {
        return false;
    }
    let end = addr as u128 + len as u128 - 1;
    if end > u64::MAX as u128 {
        return true;
    }
    let first = addr as u128 >> 12;
    let last = end >> 12;
    let b0 = bfn(first);
    (first..=last).any(|p| bfn(p) != b0 + (p - first))
}
