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

// Built into xen_dma_test.ko only, not into every module that carries the core.
#[cfg(xrs_dma_tests)]
#[kunit_tests(xen_dma_ranges)]
mod tests {
    use super::super::super::addr::{
        DmaAddr,  //
        PhysAddr, //
    };
    use super::super::super::ranges::{
        DmaLimit,    //
        DmaRangeMap, //
        RangeError,  //
    };
    use super::super::ffi;
    use super::super::fixture::{
        Rpi4Buses,  //
        TestDevice, //
    };
    use super::DeviceRanges;
    use kernel::prelude::*;

    fn ranges(dev: &TestDevice<'_>) -> Result<DeviceRanges> {
        // SAFETY: the fixture device is live and configured by the fixture only.
        unsafe { DeviceRanges::from_raw(dev.raw()) }
    }

    fn kernel_phys_to_dma(dev: &TestDevice<'_>, phys: u64) -> u64 {
        // SAFETY: the fixture device is live.
        unsafe { ffi::xrs_kernel_phys_to_dma(dev.raw(), phys) }
    }

    fn kernel_dma_to_phys(dev: &TestDevice<'_>, dma: u64) -> u64 {
        // SAFETY: the fixture device is live.
        unsafe { ffi::xrs_kernel_dma_to_phys(dev.raw(), dma) }
    }

    /// The kernel's answer as ours: `DMA_MAPPING_ERROR` means no translation.
    fn as_result_dma(v: u64) -> core::result::Result<DmaAddr, RangeError> {
        if v == DmaAddr::MAPPING_ERROR.as_u64() {
            Err(RangeError::NoTranslation)
        } else {
            Ok(DmaAddr::new(v))
        }
    }

    fn as_result_phys(v: u64) -> core::result::Result<PhysAddr, RangeError> {
        if v == PhysAddr::INVALID.as_u64() {
            Err(RangeError::NoTranslation)
        } else {
            Ok(PhysAddr::new(v))
        }
    }

    /// Addresses around every edge of the RPi4 windows and of the two-window bus.
    const PROBES: [u64; 22] = [
        0,
        1,
        0x1000,
        0x0fff_ffff,
        0x1000_0000,
        0x3fff_f000,
        0x3fff_ffff,
        0x4000_0000,
        0x4000_1000,
        0x4fff_ffff,
        0x5000_0000,
        0x7fff_ffff,
        0x8000_0000,
        0x8fff_ffff,
        0x9000_0000,
        0xbfff_ffff,
        0xc000_0000,
        0xc000_1000,
        0xffff_ffff,
        0x1_0000_0000,
        0x1_0fff_ffff,
        0x1_1000_0000,
    ];

    #[test]
    fn emmc2bus_phys_0x1000_is_bus_0xc0001000() -> Result {
        let buses = Rpi4Buses::apply()?;
        let dev = buses.emmc2()?;
        let r = ranges(&dev)?;
        assert_eq!(
            r.map().phys_to_dma(PhysAddr::new(0x1000)),
            Ok(DmaAddr::new(0xc000_1000))
        );
        assert_eq!(kernel_phys_to_dma(&dev, 0x1000), 0xc000_1000);
        Ok(())
    }

    #[test]
    fn emmc2bus_above_one_gib_is_unmappable() -> Result {
        let buses = Rpi4Buses::apply()?;
        let dev = buses.emmc2()?;
        let r = ranges(&dev)?;
        assert_eq!(
            r.map().phys_to_dma(PhysAddr::new(0x4000_0000)),
            Err(RangeError::NoTranslation)
        );
        assert_eq!(
            kernel_phys_to_dma(&dev, 0x4000_0000),
            DmaAddr::MAPPING_ERROR.as_u64()
        );
        assert_eq!(
            r.map().phys_to_dma(PhysAddr::new(0x3fff_ffff)),
            Ok(DmaAddr::new(0xffff_ffff))
        );
        Ok(())
    }

    #[test]
    fn emmc2bus_dma_to_phys() -> Result {
        let buses = Rpi4Buses::apply()?;
        let dev = buses.emmc2()?;
        let r = ranges(&dev)?;
        assert_eq!(
            r.map().dma_to_phys(DmaAddr::new(0xc000_1000)),
            Ok(PhysAddr::new(0x1000))
        );
        // Bus address 0x1000 is below the window: no memory behind it.
        assert_eq!(
            r.map().dma_to_phys(DmaAddr::new(0x1000)),
            Err(RangeError::NoTranslation)
        );
        assert_eq!(kernel_dma_to_phys(&dev, 0x1000), PhysAddr::INVALID.as_u64());
        Ok(())
    }

    #[test]
    fn emmc2bus_table_is_one_window() -> Result {
        let buses = Rpi4Buses::apply()?;
        let dev = buses.emmc2()?;
        let r = ranges(&dev)?;
        let DmaRangeMap::Ranges(t) = r.map() else {
            // The emmc2bus device has no range table.
            assert!(false);
            return Ok(());
        };
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].cpu_start(), 0);
        assert_eq!(t[0].dma_start(), 0xc000_0000);
        assert_eq!(t[0].size(), 0x4000_0000);
        Ok(())
    }

    #[test]
    fn soc_dma_engine_has_the_same_window() -> Result {
        let buses = Rpi4Buses::apply()?;
        let dev = buses.soc_dma()?;
        let r = ranges(&dev)?;
        assert_eq!(
            r.map().phys_to_dma(PhysAddr::new(0x0020_0000)),
            Ok(DmaAddr::new(0xc020_0000))
        );
        assert_eq!(
            r.map().phys_to_dma(PhysAddr::new(0x4000_0000)),
            Err(RangeError::NoTranslation)
        );
        Ok(())
    }

    #[test]
    fn scb_device_is_direct() -> Result {
        let buses = Rpi4Buses::apply()?;
        let dev = buses.scb_genet()?;
        let r = ranges(&dev)?;
        assert!(matches!(r.map(), DmaRangeMap::Direct));
        assert_eq!(
            r.map().phys_to_dma(PhysAddr::new(0x1_2345_6000)),
            Ok(DmaAddr::new(0x1_2345_6000))
        );
        assert_eq!(kernel_phys_to_dma(&dev, 0x1_2345_6000), 0x1_2345_6000);
        Ok(())
    }

    #[test]
    fn bus_dma_limit_is_the_table_maximum() -> Result {
        let buses = Rpi4Buses::apply()?;
        let dev = buses.emmc2()?;
        let r = ranges(&dev)?;
        // SAFETY: the fixture device is live.
        let limit = unsafe { ffi::xrs_kernel_bus_dma_limit(dev.raw()) };
        assert_eq!(limit, 0xffff_ffff);
        assert_eq!(r.map().dma_limit(), Some(DmaAddr::new(limit)));
        let dev = buses.two_windows()?;
        let r = ranges(&dev)?;
        // SAFETY: the fixture device is live.
        let limit = unsafe { ffi::xrs_kernel_bus_dma_limit(dev.raw()) };
        assert_eq!(limit, 0x8fff_ffff);
        assert_eq!(r.map().dma_limit(), Some(DmaAddr::new(limit)));
        Ok(())
    }

    #[test]
    fn two_windows_translate_separately() -> Result {
        let buses = Rpi4Buses::apply()?;
        let dev = buses.two_windows()?;
        let r = ranges(&dev)?;
        let m = r.map();
        assert_eq!(
            m.phys_to_dma(PhysAddr::new(0x4000_0010)),
            Ok(DmaAddr::new(0x8000_0010))
        );
        assert_eq!(
            m.phys_to_dma(PhysAddr::new(0x1_0000_0010)),
            Ok(DmaAddr::new(0x1000_0010))
        );
        assert_eq!(
            m.phys_to_dma(PhysAddr::new(0x5000_0000)),
            Err(RangeError::NoTranslation)
        );
        // A buffer may not run from one window into the hole after it.
        assert_eq!(
            m.phys_range_to_dma(PhysAddr::new(0x4fff_f000), 0x2000),
            Err(RangeError::NoTranslation)
        );
        Ok(())
    }

    #[test]
    fn agrees_with_kernel_phys_to_dma_on_every_device() -> Result {
        let buses = Rpi4Buses::apply()?;
        for dev in [
            buses.emmc2()?,
            buses.soc_dma()?,
            buses.scb_genet()?,
            buses.two_windows()?,
        ] {
            let r = ranges(&dev)?;
            for &a in PROBES.iter() {
                let ours = r.map().phys_to_dma(PhysAddr::new(a));
                assert_eq!(ours, as_result_dma(kernel_phys_to_dma(&dev, a)));
            }
        }
        Ok(())
    }

    #[test]
    fn agrees_with_kernel_dma_to_phys_on_every_device() -> Result {
        let buses = Rpi4Buses::apply()?;
        for dev in [
            buses.emmc2()?,
            buses.soc_dma()?,
            buses.scb_genet()?,
            buses.two_windows()?,
        ] {
            let r = ranges(&dev)?;
            for &a in PROBES.iter() {
                let ours = r.map().dma_to_phys(DmaAddr::new(a));
                assert_eq!(ours, as_result_phys(kernel_dma_to_phys(&dev, a)));
            }
        }
        Ok(())
    }

    #[test]
    fn reachability_agrees_with_dma_capable() -> Result {
        let buses = Rpi4Buses::apply()?;
        let dev = buses.emmc2()?;
        // SAFETY: the fixture device is live.
        let bus_limit = unsafe { ffi::xrs_kernel_bus_dma_limit(dev.raw()) };
        let limit = DmaLimit {
            mask: 0xffff_ffff,
            bus_limit,
        };
        for (dma, len) in [
            (0xc000_0000u64, 0x1000u64),
            (0xffff_f000, 0x1000),
            (0xffff_f000, 0x1001),
            (0x1_0000_0000, 1),
            (DmaAddr::MAPPING_ERROR.as_u64(), 1),
        ] {
            // SAFETY: the fixture device is live.
            let kernel = unsafe { ffi::xrs_kernel_dma_capable(dev.raw(), dma, len) };
            assert_eq!(limit.reachable(DmaAddr::new(dma), len), kernel);
        }
        Ok(())
    }

    #[test]
    fn dma_min_agrees_with_dma_range_map_min() -> Result {
        let buses = Rpi4Buses::apply()?;
        for dev in [buses.emmc2()?, buses.soc_dma()?, buses.two_windows()?] {
            let r = ranges(&dev)?;
            // SAFETY: the fixture device is live.
            let kernel = unsafe { ffi::xrs_kernel_dma_range_map_min(dev.raw()) };
            assert_eq!(r.map().dma_min(), Some(DmaAddr::new(kernel)));
        }
        // The two-window bus: its lowest bus address is the second window's.
        let dev = buses.two_windows()?;
        assert_eq!(
            ranges(&dev)?.map().dma_min(),
            Some(DmaAddr::new(0x1000_0000))
        );
        Ok(())
    }

    #[test]
    fn zero_mask_defers_to_the_bus_limit_as_dma_capable() -> Result {
        // min_not_zero(mask, bus limit): a device whose mask is 0 is bounded by its bus.
        let buses = Rpi4Buses::apply()?;
        let dev = buses.emmc2()?;
        // SAFETY: the fixture device is live.
        let bus_limit = unsafe { ffi::xrs_kernel_bus_dma_limit(dev.raw()) };
        for mask in [0u64, 0x3fff_ffff, u64::MAX] {
            let limit = DmaLimit { mask, bus_limit };
            for (dma, len) in [
                (0xc000_0000u64, 0x1000u64),
                (0xffff_f000, 0x1000),
                (0xffff_f000, 0x1001),
            ] {
                // SAFETY: the fixture device is live; its mask is restored by the helper.
                let kernel = unsafe { ffi::xrs_kernel_dma_capable_mask(dev.raw(), mask, dma, len) };
                assert_eq!(limit.reachable(DmaAddr::new(dma), len), kernel);
            }
        }
        Ok(())
    }

    #[test]
    fn this_machines_ram_is_beyond_the_rpi4_window() -> Result {
        // QEMU virt puts RAM at 1 GiB and up (and Xen gives Dom0 RAM there too), so an
        // emmc2bus device reaches none of it: exactly the RPi4 "only the first GiB" case.
        let buf = KBox::new([0u8; 64], GFP_KERNEL)?;
        // SAFETY: `buf` is a live linear-map allocation.
        let phys = unsafe { ffi::xrs_kernel_virt_to_phys(buf.as_ptr().cast()) };
        let buses = Rpi4Buses::apply()?;
        let dev = buses.emmc2()?;
        let r = ranges(&dev)?;
        assert!(phys >= 0x4000_0000);
        assert_eq!(
            r.map().phys_to_dma(PhysAddr::new(phys)),
            Err(RangeError::NoTranslation)
        );
        assert_eq!(
            kernel_phys_to_dma(&dev, phys),
            DmaAddr::MAPPING_ERROR.as_u64()
        );
        Ok(())
    }
}
