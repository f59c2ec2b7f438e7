// SPDX-License-Identifier: GPL-2.0

//! What the KUnit suites of the Rust xen-swiotlb share: the software DMA engine that plays
//! the device, pages the tests own, and the rigs of test devices with the Rust ops on
//! them.
//!
//! The test devices sit behind the Raspberry Pi 4's 30-bit `soc` window, moved over
//! QEMU's first GiB of RAM (bus 0xC000_0000 is physical 0x4000_0000; see
//! `dma/rpi4_dma.dtso`), so that RAM above 2 GiB (bare: QEMU's second GiB; under Xen:
//! Dom0's second bank) is out of their reach, as RAM above 1 GiB is on a real Raspberry
//! Pi 4. The engine turns bus addresses into physical ones with its own copy of the
//! windows, not with the kernel's `dma_range_map` nor the `dma/` core, and reads or
//! writes RAM there.
//!
//! What the engine cannot show: it is the CPU, so missing cache maintenance for a
//! non-coherent device goes unnoticed here (QEMU's caches are coherent anyway).

use kernel::bindings;
use kernel::bindings::dma_data_direction as Dir;
use kernel::device::Device;
use kernel::ffi::c_void;
use kernel::prelude::*;
use kernel::sync::aref::ARef;
use kernel::sync::atomic::Relaxed;
use xen_swiotlb::dma_ops::DMA_OPS;

use crate::attach::Attachment;
use crate::dma::addr::PhysAddr;
use crate::dma::glue::fixture::{
    Rpi4Buses,  //
    TestDevice, //
};
use crate::ffi;
use crate::ops::Swiotlb;

/// A new reference on the device `raw`.
///
/// # Safety
///
/// `raw` is a live device.
pub(crate) unsafe fn device_ref(raw: *mut bindings::device) -> ARef<Device> {
    // SAFETY: `raw` is live (function requirement); `ARef::from` takes a reference.
    ARef::from(unsafe { Device::<kernel::device::Normal>::from_raw(raw) })
}

/// The Rust ops table, as the C side of the tests sees it.
pub(crate) fn rust_ops() -> *const c_void {
    core::ptr::from_ref(&DMA_OPS).cast()
}

/// `get_dma_ops()` of `raw`, untyped.
///
/// # Safety
///
/// `raw` is a live device.
pub(crate) unsafe fn ops_of(raw: *mut bindings::device) -> *const c_void {
    // SAFETY: per this function's requirements.
    unsafe { crate::attach::dma_ops(raw) }.cast()
}

/// `set_dma_ops()` of `raw`, untyped.
///
/// # Safety
///
/// As [`crate::attach::set_dma_ops`].
pub(crate) unsafe fn set_ops(raw: *mut bindings::device, ops: *const c_void) {
    // SAFETY: per this function's requirements.
    unsafe { crate::attach::set_dma_ops(raw, ops.cast()) }
}

/// A window as the engine knows it: (bus address, physical address, size).
pub(crate) type Window = (u64, u64, u64);

/// The `window_at_1g` device's window.
pub(crate) const AT_1G: Window = (0xc000_0000, 0x4000_0000, 0x4000_0000);

/// The software DMA engine: its own windows, RAM behind them.
pub(crate) struct Engine<'a>(pub(crate) &'a [Window]);

impl Engine<'_> {
    pub(crate) fn phys(&self, dma: u64, len: usize) -> Option<u64> {
        self.0.iter().find_map(|&(bus, cpu, size)| {
            (dma >= bus && dma + len as u64 <= bus + size).then(|| dma - bus + cpu)
        })
    }

    pub(crate) fn read(&self, dma: u64, out: &mut [u8]) -> bool {
        let Some(p) = self.phys(dma, out.len()) else {
            return false;
        };
        // SAFETY: `p` is RAM behind a window that a live mapping gave the device.
        unsafe {
            let src = ffi::phys_to_virt(p).cast::<u8>();
            core::ptr::copy_nonoverlapping(src, out.as_mut_ptr(), out.len());
        }
        true
    }

    pub(crate) fn write(&self, dma: u64, data: &[u8]) -> bool {
        let Some(p) = self.phys(dma, data.len()) else {
            return false;
        };
        // SAFETY: as in `read`; the mapping lets the device write.
        unsafe {
            let dst = ffi::phys_to_virt(p).cast::<u8>();
            core::ptr::copy_nonoverlapping(data.as_ptr(), dst, data.len());
        }
        true
    }

    pub(crate) fn holds(&self, dma: u64, len: usize, seed: u8) -> Result<bool> {
        let mut v = KVec::from_elem(0u8, len, GFP_KERNEL)?;
        Ok(self.read(dma, &mut v) && v.iter().enumerate().all(|(i, &b)| b == pattern(i, seed)))
    }

    pub(crate) fn fill(&self, dma: u64, len: usize, seed: u8) -> Result<bool> {
        let mut v = KVec::with_capacity(len, GFP_KERNEL)?;
        for i in 0..len {
            v.push(pattern(i, seed), GFP_KERNEL)?;
        }
        Ok(self.write(dma, &v))
    }
}

/// Pages the test owns: a block of the core's [`xen::pages::Pages`], with its physical
/// address and test patterns.
pub(crate) struct Pages {
    pages: xen::pages::Pages,
    pub(crate) phys: u64,
}

impl Pages {
    /// `1 << order` pages whose physical range satisfies `ok`.
    pub(crate) fn alloc(order: u32, ok: impl Fn(u64, u64) -> bool) -> Result<Self> {
        let pages = xen::pages::Pages::alloc_where(bindings::GFP_KERNEL, order, 64, |p, n| {
            ok(p.as_u64(), n)
        })?;
        let phys = pages.phys().as_u64();
        Ok(Self { pages, phys })
    }

    pub(crate) fn bytes(&self) -> usize {
        self.pages.bytes() as usize
    }

    fn base(&self) -> *mut u8 {
        self.pages.address().cast::<u8>()
    }

    pub(crate) fn buf(&self) -> &[u8] {
        // SAFETY: our pages, linear-mapped; written only through `fill`, never while
        // this view lives.
        unsafe { core::slice::from_raw_parts(self.base(), self.bytes()) }
    }

    pub(crate) fn fill(&self, seed: u8) {
        self.fill_range(0, self.bytes(), seed);
    }

    /// Writes the pattern of `seed` over `[off, off + len)` (indexed from the first page).
    pub(crate) fn fill_range(&self, off: usize, len: usize, seed: u8) {
        assert!(off + len <= self.bytes());
        let base = self.base();
        for i in off..off + len {
            // SAFETY: `base` maps our `bytes()` bytes; no other view is live.
            unsafe { base.add(i).write(pattern(i, seed)) };
        }
    }

    /// Whether `[off, off + len)` holds the pattern of `seed`.
    pub(crate) fn holds_range(&self, off: usize, len: usize, seed: u8) -> bool {
        self.buf()[off..off + len]
            .iter()
            .enumerate()
            .all(|(i, &b)| b == pattern(off + i, seed))
    }

    pub(crate) fn holds(&self, seed: u8, len: usize) -> bool {
        self.holds_range(0, len, seed)
    }
}

pub(crate) fn pattern(i: usize, seed: u8) -> u8 {
    (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8
}

/// A block of 16 pages for the placed rig's second window.
pub(crate) fn block() -> Result<Pages> {
    Pages::alloc(4, |p, n| p + n <= 1 << 32)
}

/// The pool as one range; the placed-window tests need it (load the module with
/// `pool_kib=4096` or less).
pub(crate) fn pool_range(s: &Swiotlb) -> Result<(PhysAddr, u64)> {
    s.single_chunk().ok_or(EOPNOTSUPP)
}

/// Applies the overlay with the placed windows over the pool and `block`.
pub(crate) fn placed_buses(block: &Pages) -> Result<Rpi4Buses> {
    let s = Swiotlb::get().ok_or(ENODEV)?;
    let (base, bytes) = pool_range(s)?;
    Rpi4Buses::apply_placed((base.as_u64(), bytes), (block.phys, block.bytes() as u64))
}

/// A test device with the Rust ops on it, and the engine's view of its windows. The
/// instance's forced-bounce mode is off while the rig lives and restored afterwards
/// (the module may have been loaded with `force_bounce=1`).
pub(crate) struct Rig<'a> {
    force_was: bool,
    _att: Attachment,
    pub(crate) dev: TestDevice<'a>,
    pub(crate) s: &'static Swiotlb,
    windows: [Window; 2],
    nwindows: usize,
}

impl<'a> Rig<'a> {
    pub(crate) fn attach(
        dev: TestDevice<'a>,
        windows: [Window; 2],
        nwindows: usize,
    ) -> Result<Self> {
        let s = Swiotlb::get().ok_or(ENODEV)?;
        // SAFETY: `dev` is live; the reference taken here goes to the attachment.
        let raw = unsafe { crate::testing::device_ref(dev.raw()) };
        // SAFETY: a fresh test device: configured, no mapping yet.
        let att = unsafe { Attachment::new(s, raw) }?;
        let force_was = s.forced();
        s.set_force(false);
        Ok(Self {
            force_was,
            _att: att,
            dev,
            s,
            windows,
            nwindows,
        })
    }

    /// The device behind QEMU's first GiB of RAM.
    pub(crate) fn at_1g(buses: &'a Rpi4Buses) -> Result<Self> {
        Self::attach(buses.window_at_1g()?, [AT_1G, AT_1G], 1)
    }

    /// The device that reaches only the pool (bus 0xC000_0000) and `block` (bus
    /// 0x8000_0000): any other page is out of its reach.
    pub(crate) fn placed(buses: &'a Rpi4Buses, block: &Pages) -> Result<Self> {
        let s = Swiotlb::get().ok_or(ENODEV)?;
        let (base, bytes) = pool_range(s)?;
        let pool = (0xc000_0000, base.as_u64(), bytes);
        let blk = (0x8000_0000, block.phys, block.bytes() as u64);
        Self::attach(buses.window_placed()?, [pool, blk], 2)
    }

    /// A device on the differential bus, which sees everything below 4 GiB but `hole`
    /// (see `Rpi4Buses::apply_diff`).
    pub(crate) fn diff(buses: &'a Rpi4Buses, hole: &Pages) -> Result<Self> {
        let (_, dev) = buses.diff_pair()?;
        Self::attach(
            dev,
            diff_windows(hole.phys, hole.phys + hole.bytes() as u64),
            2,
        )
    }

    pub(crate) fn engine(&self) -> Engine<'_> {
        Engine(&self.windows[..self.nwindows])
    }

    /// Pages this device cannot reach.
    pub(crate) fn unreachable_pages(&self, order: u32) -> Result<Pages> {
        let w = self.windows;
        let n = self.nwindows;
        Pages::alloc(order, move |p, len| {
            w[..n]
                .iter()
                .all(|&(_, cpu, size)| p + len <= cpu || p >= cpu + size)
        })
    }

    pub(crate) fn raw(&self) -> *mut bindings::device {
        self.dev.raw()
    }

    pub(crate) fn map(&self, phys: u64, len: usize, dir: Dir) -> u64 {
        // SAFETY: the device is live and attached; `phys` is RAM the test owns.
        unsafe { ffi::xrs_test_map(self.raw(), phys, len, dir) }
    }

    pub(crate) fn unmap(&self, dma: u64, len: usize, dir: Dir) {
        // SAFETY: `dma` is a live mapping of this device.
        unsafe { ffi::xrs_test_unmap(self.raw(), dma, len, dir) }
    }

    pub(crate) fn bounced(&self) -> u64 {
        self.s.stats.bounced.iter().map(|c| c.load(Relaxed)).sum()
    }

    pub(crate) fn in_pool(&self, dma: u64) -> bool {
        let bytes = pool_range(self.s).map_or(0, |(_, n)| n);
        (0xc000_0000..0xc000_0000 + bytes).contains(&dma)
    }
}

impl Drop for Rig<'_> {
    fn drop(&mut self) {
        self.s.set_force(self.force_was);
    }
}

/// Sets a p2m entry of a frame the test owns, and erases it on drop.
pub(crate) struct P2mEntry(u64);

impl P2mEntry {
    pub(crate) fn set(pfn: u64, mfn: u64) -> Self {
        // SAFETY: the frame is the test's own page.
        unsafe { crate::ffi::__set_phys_to_machine(pfn as usize, mfn as usize) };
        Self(pfn)
    }
}

impl Drop for P2mEntry {
    fn drop(&mut self) {
        // SAFETY: as in `set`; ~0 erases.
        unsafe { crate::ffi::__set_phys_to_machine(self.0 as usize, !0) };
    }
}

/// The windows of the differential bus around a hole `[start, end)`, as the engine knows
/// them: (bus, physical, size).
pub(crate) fn diff_windows(start: u64, end: u64) -> [Window; 2] {
    use crate::dma::glue::fixture::{
        DIFF_OFFSET, //
        DIFF_RAM,    //
    };
    [
        (DIFF_RAM - DIFF_OFFSET, DIFF_RAM, start - DIFF_RAM),
        (end - DIFF_OFFSET, end, (1 << 32) - end),
    ]
}

/// A physical address the differential bus covers where QEMU virt has neither RAM nor
/// a device (between the end of its RAM at 3 GiB and 4 GiB): stands for MMIO. Below the
/// bus's limit (0xdfff_ffff) also untranslated, so that the C xen-swiotlb, which checks
/// the physical address against it, accepts it too.
pub(crate) const DIFF_MMIO: u64 = 0xd000_0100;

/// Marks the running case skipped, saying why.
pub(crate) fn skip(reason: &core::ffi::CStr) {
    // SAFETY: `reason` is NUL-terminated; KUnit copies it.
    unsafe { ffi::xrs_test_skip(kernel::str::CStrExt::as_char_ptr(reason)) };
}

/// Whether xen-swiotlb is built into the kernel: then it has no module to pin.
pub(crate) fn built_in() -> bool {
    xen_swiotlb::this_module().is_null()
}

/// The module's reference count (0 when built in).
pub(crate) fn module_refs() -> i32 {
    // SAFETY: a read of our module's reference count; the helper takes no module.
    unsafe { ffi::xrs_module_refcount(xen_swiotlb::this_module()) }
}

/// The module's reference count with one more reference taken (`refs` when built in,
/// where nothing is counted).
pub(crate) fn one_more(refs: i32) -> i32 {
    if built_in() {
        refs
    } else {
        refs + 1
    }
}
