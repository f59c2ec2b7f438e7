// SPDX-License-Identifier: GPL-2.0

//! Test fixture: Raspberry Pi 4 buses in the live device tree.
//!
//! Applies `rpi4_dma.dtso` as a device-tree overlay and creates platform devices on its
//! buses, whose DMA the kernel configures from the overlay's `dma-ranges` through its own
//! OF code (`of_dma_configure`). Dropping the fixture removes devices and overlay.

use core::ffi::CStr;
use core::marker::PhantomData;
use core::ptr;
use kernel::bindings;
use kernel::error::to_result;
use kernel::prelude::*;
use kernel::str::CStrExt;
use kernel::sync::atomic::{
    Atomic,  //
    Relaxed, //
};

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
static LEFT_APPLIED: Atomic<i32> = Atomic::new(0);

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
        let mut stale = LEFT_APPLIED.xchg(0, Relaxed);
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
        LEFT_APPLIED.store(id, Relaxed);
        Ok(Self { ovcs_id: id })
    }

    /// A platform device for the node at `path`, with its DMA configured by the kernel's
    /// OF code (`of_dma_configure`), as a driver's probe would see it.
    fn device(&self, path: &CStr) -> Result<TestDevice<'_>> {
        // SAFETY: `path` is a NUL-terminated string; the reference taken is dropped below.
        let np =
            unsafe { bindings::of_find_node_opts_by_path(path.as_char_ptr(), ptr::null_mut()) };
        if np.is_null() {
            return Err(ENOENT);
        }
        let r = Self::device_of(np);
        // SAFETY: the reference taken above.
        unsafe { bindings::of_node_put(np) };
        r.map(|pdev| TestDevice {
            pdev,
            _buses: PhantomData,
        })
    }

    fn device_of(np: *mut bindings::device_node) -> Result<*mut bindings::platform_device> {
        // SAFETY: plain allocation of a platform device, freed below on failure or when its
        // owner unregisters it.
        let pdev = unsafe {
            bindings::platform_device_alloc(
                c"xrs-dma-test".as_char_ptr(),
                bindings::PLATFORM_DEVID_AUTO,
            )
        };
        if pdev.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `pdev` is ours and not added yet; the node gets a reference of its own,
        // which the device's release drops.
        unsafe {
            bindings::device_set_node(
                &raw mut (*pdev).dev,
                &raw mut (*bindings::of_node_get(np)).fwnode,
            )
        };
        // SAFETY: `pdev` is ours; on failure it is put, which releases it.
        if let Err(e) = to_result(unsafe { bindings::platform_device_add(pdev) }) {
            // SAFETY: as above.
            unsafe { bindings::platform_device_put(pdev) };
            return Err(e);
        }
        // SAFETY: `pdev` is registered and ours; `np` is live.
        let r = to_result(unsafe {
            bindings::of_dma_configure_id(&raw mut (*pdev).dev, np, true, ptr::null())
        });
        if let Err(e) = r {
            // SAFETY: registered just above, ours.
            unsafe {
                bindings::platform_device_del(pdev);
                bindings::platform_device_put(pdev);
            }
            return Err(e);
        }
        Ok(pdev)
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
        LEFT_APPLIED.store(0, Relaxed);
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
        unsafe { &raw mut (*self.pdev).dev }
    }
}

impl Drop for TestDevice<'_> {
    fn drop(&mut self) {
        // SAFETY: `pdev` is registered and owned by us (type invariant); this drops our
        // reference and frees its DMA range table.
        unsafe { bindings::platform_device_unregister(self.pdev) };
    }
}
