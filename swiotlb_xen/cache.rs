// SPDX-License-Identifier: GPL-2.0

//! arm64 cache maintenance by virtual address to the point of coherency, as
//! `arch_sync_dma_for_device()` and `arch_sync_dma_for_cpu()` do for dma-direct (neither is
//! exported): clean before the device reads, clean and invalidate before the CPU reads
//! what the device wrote (clean and invalidate stands in for invalidate: it never drops a
//! dirty neighbour line).
//!
//! C header: [`arch/arm64/include/asm/cacheflush.h`](srctree/arch/arm64/include/asm/cacheflush.h).

use core::arch::asm;

use kernel::dma::DataDirection;

/// The smallest data cache line of the system (`CTR_EL0.DminLine`), read once: the
/// instance keeps it, so that the hot paths read a plain field.
///
/// # Invariants
///
/// A power of two, the line size every CPU agrees on.
#[derive(Clone, Copy, Debug)]
pub struct Line(usize);

impl Line {
    /// Reads the line size from the kernel's sanitised copy of `CTR_EL0`.
    pub fn read() -> Self {
        // SAFETY: reads a value the kernel set up at boot.
        let ctr = unsafe { ::xen::ffi::read_sanitised_ctr_el0() };
        // INVARIANT: DminLine is log2 of the number of 4-byte words in a line.
        Self(4 << ((ctr >> 16) & 0xf))
    }
}

/// Cleans (`clean_only`) or cleans and invalidates the lines of `[va, va + size)`.
#[inline(always)]
fn by_va(line: Line, va: usize, size: usize, clean_only: bool) {
    if size == 0 {
        return;
    }
    let line = line.0;
    let mut p = va & !(line - 1);
    let end = va + size;
    // SAFETY: cache maintenance of lines of the linear map that the caller's live buffer
    // covers; it changes no memory contents and touches no register but `p`.
    unsafe {
        // Four instructions a line, as the kernel's dcache_by_line_op.
        if clean_only {
            asm!(
                "1: dc cvac, {p}",
                "add {p}, {p}, {line}",
                "cmp {p}, {end}",
                "b.lo 1b",
                p = inout(reg) p,
                line = in(reg) line,
                end = in(reg) end,
                options(nostack),
            );
        } else {
            asm!(
                "1: dc civac, {p}",
                "add {p}, {p}, {line}",
                "cmp {p}, {end}",
                "b.lo 1b",
                p = inout(reg) p,
                line = in(reg) line,
                end = in(reg) end,
                options(nostack),
            );
        }
        asm!("dsb sy", options(nostack, preserves_flags));
    }
    let _ = p;
}

/// Before the device accesses `[va, va + size)`, linear-map addresses of Dom0's own RAM.
#[inline(always)]
pub fn for_device(line: Line, va: usize, size: u64, dir: DataDirection) {
    by_va(line, va, size as usize, dir != DataDirection::FromDevice);
}

/// Before the CPU reads what the device wrote to `[va, va + size)`, linear-map addresses
/// of Dom0's own RAM.
#[inline(always)]
pub fn for_cpu(line: Line, va: usize, size: u64, dir: DataDirection) {
    if dir != DataDirection::ToDevice {
        by_va(line, va, size as usize, false);
    }
}

/// Cleans and invalidates `[va, va + size)`: the linear alias of pages about to be
/// mapped uncached.
pub fn clean_invalidate(line: Line, va: usize, size: usize) {
    by_va(line, va, size, false);
}
