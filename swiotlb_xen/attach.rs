// SPDX-License-Identifier: GPL-2.0

//! Putting the Rust ops on a device, and taking them off again.

use core::ffi::CStr;

use kernel::bindings;
use kernel::ffi::c_void;
use kernel::prelude::*;
use kernel::str::CStrExt;

use crate::ffi;
use crate::ops::{
    Swiotlb, //
    Target,  //
};

/// A device whose DMA goes through the Rust ops; dropping it restores the previous ops.
///
/// # Invariants
///
/// `dev` is a device we hold a reference on, whose `dma_ops` we set to ours; `old_ops`
/// is what it had before.
pub struct Attachment {
    dev: *mut bindings::device,
    old_ops: *const c_void,
}

// SAFETY: the raw pointers are only used to restore the ops and drop the reference, which
// may happen from any thread.
unsafe impl Send for Attachment {}
// SAFETY: shared access does nothing.
unsafe impl Sync for Attachment {}

impl Attachment {
    /// Attaches the ops to `dev`, taking over its reference.
    ///
    /// Refuses with `ERANGE` a device that cannot reach the whole bounce pool through
    /// its `dma-ranges` and DMA mask: its bounced mappings would fail.
    ///
    /// # Safety
    ///
    /// `dev` is a live device we own a reference on, with its DMA configured, and no
    /// mapping made through its current ops is live (they could not be unmapped).
    pub unsafe fn new(s: &Swiotlb, dev: *mut bindings::device) -> Result<Self> {
        // SAFETY: per this function's requirements.
        let t = unsafe { Target::new(dev) };
        let reaches = t.as_ref().is_ok_and(|t| {
            // SAFETY: `dev` is live.
            s.reaches_pool(t, unsafe { ffi::xrs_dev_dma_mask(dev) })
        });
        if !reaches {
            // SAFETY: `dev` is live; `dev_name` is a NUL-terminated string.
            let name = unsafe { CStr::from_char_ptr(ffi::xrs_dev_name(dev)) };
            let (lo, hi) = s.chunks().fold((u64::MAX, 0), |(lo, hi), (b, n)| {
                (lo.min(b.as_u64()), hi.max(b.as_u64() + n))
            });
            pr_err!(
                "{}: cannot reach the bounce pool within {:#x}..{:#x} (see pool_below)\n",
                name.to_str().unwrap_or("?"),
                lo,
                hi
            );
            // SAFETY: we own the reference.
            unsafe { ffi::xrs_put_device(dev) };
            return Err(ERANGE);
        }
        // SAFETY: `dev` is live.
        let old_ops = unsafe { ffi::xrs_get_dma_ops(dev) };
        // SAFETY: `dev` is live; our ops table is static.
        unsafe { ffi::xrs_set_dma_ops(dev, ffi::xrs_swiotlb_ops()) };
        // INVARIANT: set just above.
        Ok(Self { dev, old_ops })
    }

    /// Attaches to the platform device called `name`.
    pub fn by_name(s: &Swiotlb, name: &CStr) -> Result<Self> {
        // SAFETY: `name` is NUL-terminated.
        let dev = unsafe { ffi::xrs_find_platform_device(name.as_char_ptr()) };
        if dev.is_null() {
            pr_err!("no platform device {}\n", name.to_str().unwrap_or("?"));
            return Err(ENODEV);
        }
        // SAFETY: `bus_find_device_by_name` returned a referenced, live device; a device
        // named at load time has no mapping through our ops yet.
        unsafe { Self::new(s, dev) }
    }

    /// The device.
    pub fn dev(&self) -> *mut bindings::device {
        self.dev
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        // SAFETY: `dev` is live (we hold a reference) and its ops are ours (invariant).
        unsafe {
            ffi::xrs_set_dma_ops(self.dev, self.old_ops);
            ffi::xrs_put_device(self.dev);
        }
    }
}
