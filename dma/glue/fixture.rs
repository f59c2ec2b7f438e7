// SPDX-License-Identifier: GPL-2.0

//! Test fixture: Raspberry Pi 4 buses in the live device tree.
//!
//! Applies `rpi4_dma.dtso` as a device-tree overlay and creates platform devices on its
//! buses, whose DMA the kernel configures from the overlay's `dma-ranges` through its own
//! OF code (`of_dma_configure`). Dropping the fixture removes devices and overlay.

use core::ffi::CStr;
use core::marker::PhantomData;
use core::sync::atomic::{
    AtomicI32, //
    Ordering,  //
};

use kernel::bindings;
use kernel::error::from_err_ptr;
use kernel::prelude::*;
use kernel::str::CStrExt;

use super::ffi;

#[repr(C, align(8))]
struct Aligned<T: ?Sized>(T);

/// The compiled overlay (built from `rpi4_dma.dtso` by Kbuild).
static DTBO: &Aligned<[u8]> = &Aligned(*include_bytes!("../rpi4_dma.dtbo"));

/// First physical address the differential bus covers (QEMU virt's RAM starts there).
pub const DIFF_RAM: u64 = 0x4000_0000;
/// Physical minus bus address on the differential bus.
pub const DIFF_OFFSET: u64 = 0x2000_0000;

/// The overlay changeset left applied by a test that failed an assertion (KUnit stops a
/// failing test's thread without running destructors); 0 when none.
static LEFT_APPLIED: AtomicI32 = AtomicI32::new(0);

/// The overlay, applied.
pub struct Rpi4Buses {
    ovcs_id: i32,
}

impl Rpi4Buses {
    /// Applies the overlay, first removing one a failed test left behind.
    pub fn apply() -> Result<Self> {
        Self::apply_blob(&DTBO.0)
    }

    /// Applies the overlay with the placed windows of `window_placed`: bus 0xC000_0000
    /// over physical `a` and bus 0x8000_0000 over physical `b`, each (start, size) below
    /// 4 GiB.
    pub fn apply_placed(a: (u64, u64), b: (u64, u64)) -> Result<Self> {
        Self::apply_replacing(&[
            (0xa5a5_0001, a.0),
            (0xa5a5_0002, a.1),
            (0xa5a5_0003, b.0),
            (0xa5a5_0004, b.1),
        ])
    }

    /// Applies the overlay with the windows of the differential bus ([`Self::diff_pair`]):
    /// everything below 4 GiB from physical 0x4000_0000 but the hole `[start, start +
    /// len)`, at bus address `physical - DIFF_OFFSET`.
    pub fn apply_diff(hole: (u64, u64)) -> Result<Self> {
        let (start, end) = (hole.0, hole.0 + hole.1);
        if start <= DIFF_RAM || end >= 1 << 32 {
            return Err(ERANGE);
        }
        Self::apply_replacing(&[
            (0xa5a5_0011, start - DIFF_RAM),
            (0xa5a5_0012, end - DIFF_OFFSET),
            (0xa5a5_0013, end),
            (0xa5a5_0014, (1 << 32) - end),
        ])
    }

    /// Applies the overlay with each placeholder cell `magic` replaced by `value` (below
    /// 4 GiB); every placeholder must be found.
    fn apply_replacing(values: &[(u32, u64)]) -> Result<Self> {
        let mut cells = KVec::with_capacity(values.len(), GFP_KERNEL)?;
        for &(magic, v) in values {
            cells.push(
                (magic, u32::try_from(v).map_err(|_| ERANGE)?, false),
                GFP_KERNEL,
            )?;
        }
        let mut blob = KVec::with_capacity(DTBO.0.len(), GFP_KERNEL)?;
        blob.extend_from_slice(&DTBO.0, GFP_KERNEL)?;
        for word in blob.chunks_exact_mut(4) {
            let v = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
            if let Some(c) = cells.iter_mut().find(|c| c.0 == v) {
                word.copy_from_slice(&c.1.to_be_bytes());
                c.2 = true;
            }
        }
        if cells.iter().any(|c| !c.2) {
            return Err(EINVAL);
        }
        Self::apply_blob(&blob)
    }

    fn apply_blob(blob: &[u8]) -> Result<Self> {
        let mut stale = LEFT_APPLIED.swap(0, Ordering::Relaxed);
        if stale != 0 {
            // SAFETY: `stale` is a changeset id returned by `of_overlay_fdt_apply`.
            // Failure leaves it applied; the apply below then reports the conflict.
            let _ = unsafe { bindings::of_overlay_remove(&mut stale) };
        }
        let mut id = 0;
        // SAFETY: `blob` is a valid FDT blob (the built overlay, maybe with two cell
        // values replaced), which the kernel copies; `id` is a valid out-pointer; a null
        // target base applies the overlay's own target paths.
        kernel::error::to_result(unsafe {
            bindings::of_overlay_fdt_apply(
                blob.as_ptr().cast(),
                blob.len() as u32,
                &mut id,
                core::ptr::null(),
            )
        })?;
        LEFT_APPLIED.store(id, Ordering::Relaxed);
        Ok(Self { ovcs_id: id })
    }

    fn device(&self, path: &CStr) -> Result<TestDevice<'_>> {
        // SAFETY: `path` is a NUL-terminated string.
        let pdev = from_err_ptr(unsafe { ffi::xrs_of_dma_device(path.as_char_ptr()) })?;
        Ok(TestDevice {
            pdev,
            _buses: PhantomData,
        })
    }

    /// The eMMC2 controller on `emmc2bus`: RAM's first GiB at bus 0xC000_0000.
    pub fn emmc2(&self) -> Result<TestDevice<'_>> {
        self.device(c"/xrs-rpi4-emmc2bus/mmc@7e340000")
    }

    /// The DMA engine on `soc`: the same window as emmc2bus.
    pub fn soc_dma(&self) -> Result<TestDevice<'_>> {
        self.device(c"/xrs-rpi4-soc/dma@7e007000")
    }

    /// GENET on `scb`, which has no `dma-ranges`: bus address equals physical.
    pub fn scb_genet(&self) -> Result<TestDevice<'_>> {
        self.device(c"/xrs-rpi4-scb/ethernet@7d580000")
    }

    /// A DMA engine behind the `soc` window moved to QEMU's RAM: bus 0xC000_0000 is
    /// physical 0x4000_0000, for 1 GiB.
    pub fn window_at_1g(&self) -> Result<TestDevice<'_>> {
        self.device(c"/xrs-rpi4-window-at-1g/dma@7e007000")
    }

    /// A DMA engine behind the windows placed by [`Self::apply_placed`].
    pub fn window_placed(&self) -> Result<TestDevice<'_>> {
        self.device(c"/xrs-rpi4-window-placed/dma@7e007000")
    }

    /// Two devices configured alike on the differential bus of [`Self::apply_diff`]
    /// (non-coherent, the same `dma-ranges`), for one to keep the kernel's DMA ops and
    /// the other to get the Rust ones.
    pub fn diff_pair(&self) -> Result<(TestDevice<'_>, TestDevice<'_>)> {
        Ok((
            self.device(c"/xrs-diff/dev@0")?,
            self.device(c"/xrs-diff/dev@1")?,
        ))
    }

    /// A device behind two windows: bus 0x8000_0000 is physical 0x4000_0000 and bus
    /// 0x1000_0000 is physical 0x1_0000_0000, 256 MiB each.
    pub fn two_windows(&self) -> Result<TestDevice<'_>> {
        self.device(c"/xrs-two-windows/dev@0")
    }
}

impl Drop for Rpi4Buses {
    fn drop(&mut self) {
        LEFT_APPLIED.store(0, Ordering::Relaxed);
        // SAFETY: `ovcs_id` came from `of_overlay_fdt_apply` and was not removed yet.
        let ret = unsafe { bindings::of_overlay_remove(&mut self.ovcs_id) };
        if ret != 0 {
            pr_err!("xen_dma: removing the test overlay failed: {}\n", ret);
        }
    }
}

/// A platform device on one of the overlay's buses, with the DMA configuration the
/// kernel derived for it.
///
/// # Invariants
///
/// `pdev` is a registered platform device owned by this value.
pub struct TestDevice<'a> {
    pdev: *mut bindings::platform_device,
    _buses: PhantomData<&'a Rpi4Buses>,
}

impl TestDevice<'_> {
    /// The device's `struct device`.
    pub fn raw(&self) -> *mut bindings::device {
        // SAFETY: `pdev` is live (type invariant).
        unsafe { ffi::xrs_platform_dev(self.pdev) }
    }
}

impl Drop for TestDevice<'_> {
    fn drop(&mut self) {
        // SAFETY: `pdev` is registered and owned by us (type invariant); this drops our
        // reference and frees its DMA range table.
        unsafe { bindings::platform_device_unregister(self.pdev) };
    }
}
