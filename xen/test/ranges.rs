// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `xen_dma_ranges`: Raspberry Pi 4 `dma-ranges` from a device-tree overlay,
//! configured by the kernel's own OF code, compared with the kernel's `phys_to_dma`,
//! `dma_to_phys`, `dma_capable`, bus limit and `dma_range_map_min`.

use kernel::prelude::*;

#[kunit_tests(xen_dma_ranges)]
mod tests {
    use crate::ffi;
    use ::xen::dma::addr::{
        DmaAddr,  //
        PhysAddr, //
    };
    use ::xen::dma::glue::device::DeviceRanges;
    use ::xen::dma::glue::fixture::{
        Rpi4Buses,  //
        TestDevice, //
    };
    use ::xen::dma::ranges::{
        DmaLimit,    //
        DmaRangeMap, //
        RangeError,  //
    };
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
    fn this_machines_ram_through_the_rpi4_window() -> Result {
        // QEMU virt puts RAM at 1 GiB and up (and Xen gives Dom0 RAM there too), so an
        // emmc2bus device reaches none of it: exactly the RPi4 "only the first GiB" case.
        // On a Raspberry Pi 4 (QEMU raspi4b), Dom0's RAM is below 1 GiB: the device
        // reaches it at 0xC000_0000 up. Either way the kernel must agree.
        let buf = KBox::new([0u8; 64], GFP_KERNEL)?;
        // SAFETY: `buf` is a live linear-map allocation.
        let phys = unsafe { ffi::xrs_kernel_virt_to_phys(buf.as_ptr().cast()) };
        let buses = Rpi4Buses::apply()?;
        let dev = buses.emmc2()?;
        let r = ranges(&dev)?;
        if phys >= 0x4000_0000 {
            assert_eq!(
                r.map().phys_to_dma(PhysAddr::new(phys)),
                Err(RangeError::NoTranslation)
            );
            assert_eq!(
                kernel_phys_to_dma(&dev, phys),
                DmaAddr::MAPPING_ERROR.as_u64()
            );
        } else {
            assert_eq!(
                r.map().phys_to_dma(PhysAddr::new(phys)),
                Ok(DmaAddr::new(phys + 0xc000_0000))
            );
            assert_eq!(kernel_phys_to_dma(&dev, phys), phys + 0xc000_0000);
        }
        Ok(())
    }
}
