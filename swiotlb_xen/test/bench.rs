// SPDX-License-Identifier: GPL-2.0

//! The benchmark behind `make bench`: what a map+unmap costs through the Rust ops, the C
//! `xen_swiotlb_dma_ops` and dma-direct, on one device in one boot.
//!
//! In place, the device is the test overlay's DMA engine behind the Raspberry Pi 4
//! window over QEMU's first GiB (see `dma/rpi4_dma.dtso`), so every implementation
//! translates through `dma-ranges`. Bounced, it is the overlay's `scb` device (no
//! `dma-ranges`), which reaches the kernel's own swiotlb pool wherever Xen put it. Under
//! Xen the kernel's OF code gives the device the C xen-swiotlb ops, which the benchmark
//! saves and swaps with ours and with none (dma-direct). Each row is the median of
//! [`ROUNDS`] rounds of [`ITERS`] pairs. Lines: `XRS-BENCH: <case> <ops> <ns per
//! map+unmap>` (`-` when the ops failed to map).

use kernel::bindings;
use kernel::ffi::c_void;
use kernel::prelude::*;
use kernel::sync::atomic::Relaxed;
use xen::pages::Pages;

use crate::dma::glue::fixture::Rpi4Buses;
use crate::ffi;
use crate::ops::Swiotlb;

/// Rounds per row; the median is reported.
pub(crate) const ROUNDS: usize = 7;
/// Map+unmap pairs per round.
pub(crate) const ITERS: u32 = 2000;

const WINDOW: (u64, u64) = (0x4000_0000, 0x4000_0000);

/// A page of ours with a p2m entry naming another machine frame, erased on drop. Nothing
/// touches the page meanwhile.
struct ForeignEntry {
    _page: kernel::page::Page,
    pfn: u64,
}

impl ForeignEntry {
    fn new() -> Result<Self> {
        let page = kernel::page::Page::alloc_page(GFP_KERNEL)?;
        // SAFETY: `page` is live.
        let phys = unsafe { crate::ffi::page_to_phys(page.as_ptr()) };
        let pfn = crate::dma::addr::PhysAddr::new(phys).xen_pfn().as_u64();
        // SAFETY: the frame is our own page; its entry is ours to set. Frame 0x10 is
        // below QEMU's RAM: certainly not ours.
        if !unsafe { crate::ffi::__set_phys_to_machine(pfn as usize, 0x10) } {
            return Err(ENOMEM);
        }
        Ok(Self { _page: page, pfn })
    }
}

impl Drop for ForeignEntry {
    fn drop(&mut self) {
        // SAFETY: as in `new`; ~0 (INVALID_P2M_ENTRY) erases the entry.
        unsafe { crate::ffi::__set_phys_to_machine(self.pfn as usize, !0) };
    }
}

/// Runs every row; with `bounce`, every implementation must bounce (the Rust ops are
/// forced here, the C ones by the boot's `swiotlb=force`).
pub(crate) fn run(s: &Swiotlb, bounce: bool) -> Result {
    let buses = Rpi4Buses::apply()?;
    let dev = if bounce {
        buses.scb_genet()?
    } else {
        buses.window_at_1g()?
    };
    let raw = dev.raw();
    // 16 pages in the window, one 64 KiB block.
    let pages = Pages::alloc_where(bindings::GFP_KERNEL, 4, 64, |p, bytes| {
        p.as_u64() >= WINDOW.0 && p.as_u64() + bytes <= WINDOW.0 + WINDOW.1
    })?;
    let phys = pages.phys().as_u64();

    // SAFETY: `raw` is live.
    let c_ops = unsafe { crate::testing::ops_of(raw) };
    let rust_ops = crate::testing::rust_ops();
    let mut impls: KVec<(&str, *const c_void)> = KVec::new();
    impls.push(("rust", rust_ops), GFP_KERNEL)?;
    if !c_ops.is_null() {
        impls.push(("c-xen-swiotlb", c_ops), GFP_KERNEL)?;
    }
    impls.push(("dma-direct", core::ptr::null()), GFP_KERNEL)?;

    let page_size = kernel::page::PAGE_SIZE as u64;
    let mut sg = [0u64; 16];
    for (i, p) in sg.iter_mut().enumerate() {
        *p = phys + i as u64 * page_size;
    }
    // (label, bytes, direction); 0 bytes: the 16-entry scatterlist (to the device). The
    // order is the one `tests/bench_trace.py` counts rows by.
    let (to, from) = (
        bindings::dma_data_direction::DMA_TO_DEVICE,
        bindings::dma_data_direction::DMA_FROM_DEVICE,
    );
    let cases = [
        ("4k", 4096, to),
        ("64k", 65536, to),
        ("sg16x4k", 0, to),
        ("4k-from-device", 4096, from),
    ];
    let force_was = s.forced();
    s.set_force(bounce);
    let rounds = |label: &str, p2m: &str| {
        for (case, size, dir) in cases {
            for &(name, ops) in impls.iter() {
                // SAFETY: `raw` is live and no mapping is outstanding on it.
                unsafe { crate::testing::set_ops(raw, ops) };
                let mut ns = [0u64; ROUNDS];
                let mut failed = false;
                for r in ns.iter_mut() {
                    // SAFETY: the pages are ours and in the device's window.
                    let t = unsafe {
                        if size == 0 {
                            ffi::xrs_bench_sg(raw, sg.as_ptr(), 16, 4096, ITERS)
                        } else {
                            ffi::xrs_bench_single(raw, phys, size, dir, ITERS)
                        }
                    };
                    failed |= t == u64::MAX;
                    *r = t / u64::from(ITERS);
                }
                ns.sort_unstable();
                if failed {
                    pr_info!("XRS-BENCH: {}{}{} {} -\n", label, case, p2m, name);
                } else {
                    let median = ns[ROUNDS / 2];
                    pr_info!("XRS-BENCH: {}{}{} {} {}\n", label, case, p2m, name, median);
                }
            }
        }
    };
    let label = if bounce { "bounce-" } else { "" };
    rounds(label, "");
    if !bounce {
        // Again with one entry in the p2m tree, as in a Dom0 whose backends map guests'
        // pages: every implementation then looks frames up in the tree instead of taking
        // the empty-tree shortcut.
        let _entry = ForeignEntry::new()?;
        rounds(label, "-p2m-busy");
    }
    s.set_force(force_was);
    // SAFETY: `raw` is live; back to what the kernel gave it.
    unsafe { crate::testing::set_ops(raw, c_ops) };
    drop(pages);
    let bounced: u64 = s.stats.bounced.iter().map(|c| c.load(Relaxed)).sum();
    pr_info!(
        "XRS-BENCH: done (rust bounced {} mappings in all)\n",
        bounced
    );
    Ok(())
}
