// SPDX-License-Identifier: GPL-2.0

//! A device's DMA range table, read from `dev->dma_range_map`.
//!
//! C header: [`include/linux/dma-direct.h`](srctree/include/linux/dma-direct.h).

use kernel::bindings;
use kernel::prelude::*;

use super::super::ranges::{
    DmaRange,    //
    DmaRangeMap, //
};

/// The most range entries a device may have: the kernel allows any number, and a
/// Raspberry Pi 4 device has one. A longer table is refused rather than truncated.
pub const MAX_RANGES: usize = 8;

/// A copy of a device's DMA range table, taken when the device's DMA configuration is
/// settled (after `of_dma_configure`, for as long as a driver is bound).
///
/// # Invariants
///
/// `ranges[..len]` hold valid [`DmaRange`]s; `direct` is true exactly when the device had
/// no table.
pub struct DeviceRanges {
    ranges: [DmaRange; MAX_RANGES],
    len: usize,
    direct: bool,
}

impl DeviceRanges {
    /// Reads the range table of `dev`.
    ///
    /// Fails with `E2BIG` for more than [`MAX_RANGES`] entries and `EINVAL` for an entry
    /// that overflows the address space (which the kernel would translate by wrapping).
    ///
    /// # Safety
    ///
    /// `dev` points to a live `struct device` whose DMA configuration is not being changed
    /// or freed concurrently (a bound device, or one the caller configured itself).
    pub unsafe fn from_raw(dev: *mut bindings::device) -> Result<Self> {
        let placeholder = DmaRange::new(0, 0, 1).map_err(|_| EINVAL)?;
        let mut out = Self {
            ranges: [placeholder; MAX_RANGES],
            len: 0,
            direct: false,
        };
        // SAFETY: `dev` is live (function safety requirement).
        let mut entry = unsafe { (*dev).dma_range_map }.cast::<DmaRange>();
        if entry.is_null() {
            out.direct = true;
            return Ok(out);
        }
        loop {
            // SAFETY: the table is an array of `struct bus_dma_region` terminated by an
            // entry of size 0, stable for the duration of the call (safety requirement);
            // `DmaRange` has the same layout (asserted in dma_helpers.c) and every bit
            // pattern is a valid `u64`. The table comes from kcalloc, so it is aligned;
            // read_unaligned does not rely on that.
            let raw = unsafe { entry.read_unaligned() };
            if raw.size() == 0 {
                break;
            }
            if out.len == MAX_RANGES {
                return Err(E2BIG);
            }
            if !raw.is_valid() {
                return Err(EINVAL);
            }
            // INVARIANT: `raw` was just validated.
            out.ranges[out.len] = raw;
            out.len += 1;
            // SAFETY: the terminator has not been reached, so the next entry exists.
            entry = unsafe { entry.add(1) };
        }
        Ok(out)
    }

    /// Borrows the range table of `dev` where the kernel keeps it, without copying: for
    /// the DMA hot paths. Same refusals as [`Self::from_raw`].
    ///
    /// # Safety
    ///
    /// As for [`Self::from_raw`], and the table stays allocated and unchanged for `'a`.
    #[inline(always)]
    pub unsafe fn borrow<'a>(dev: *mut bindings::device) -> Result<DmaRangeMap<'a>> {
        // SAFETY: `dev` is live (function safety requirement).
        let first = unsafe { (*dev).dma_range_map }.cast::<DmaRange>();
        if first.is_null() {
            return Ok(DmaRangeMap::Direct);
        }
        let mut n = 0;
        loop {
            // SAFETY: as in `from_raw`: a terminated array of `struct bus_dma_region`.
            let raw = unsafe { first.add(n).read() };
            if raw.size() == 0 {
                break;
            }
            if n == MAX_RANGES {
                return Err(E2BIG);
            }
            if !raw.is_valid() {
                return Err(EINVAL);
            }
            n += 1;
        }
        // SAFETY: `n` valid entries (just checked), from a kcalloc'ed, hence aligned,
        // array that lives for `'a` (function safety requirement).
        Ok(DmaRangeMap::Ranges(unsafe {
            core::slice::from_raw_parts(first, n)
        }))
    }

    /// The table as a [`DmaRangeMap`].
    pub fn map(&self) -> DmaRangeMap<'_> {
        if self.direct {
            DmaRangeMap::Direct
        } else {
            DmaRangeMap::Ranges(&self.ranges[..self.len])
        }
    }
}
