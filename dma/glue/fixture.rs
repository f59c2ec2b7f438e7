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
        let mut stale = LEFT_APPLIED.swap(0, Ordering::Relaxed);
        if stale != 0 {
            // SAFETY: `stale` is a changeset id returned by `of_overlay_fdt_apply`.
            // Failure leaves it applied; the apply below then reports the conflict.
            let _ = unsafe { bindings::of_overlay_remove(&mut stale) };
        }
        let mut id = 0;
        // SAFETY: `DTBO` is a valid, 8-byte aligned FDT blob that lives forever; `id` is a
        // valid out-pointer; a null target base applies the overlay's own target paths.
        kernel::error::to_result(unsafe {
            bindings::of_overlay_fdt_apply(
                DTBO.0.as_ptr().cast(),
                DTBO.0.len() as u32,
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
