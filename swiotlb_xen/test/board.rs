// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `xen_swiotlb_board`: the Rust ops on the real devices of a Raspberry Pi 4
//! (QEMU's raspi4b in `make test`), named by the test module's `board_devices`
//! parameter and attached to `xen_swiotlb_rs` beforehand (tests/rpi4-test.sh). Without
//! devices named (QEMU virt) every case is skipped.
//!
//! The software DMA engine of [`crate::testing`] plays each device, with its own copy of
//! the board's window from bcm2711.dtsi (bus 0xC000_0000 is physical 0, for 1 GiB: the
//! `dma-ranges` of `/soc` and of `emmc2-bus`), not the kernel's table: a map that put a
//! wrong bus address on the device shows as a wrong address or wrong data. It stands in
//! for the board's DMA engine, which QEMU's model cannot run (Documentation/rpi4.md).

use kernel::prelude::*;

#[kunit_tests(xen_swiotlb_board)]
mod tests {
    use kernel::bindings;
    use kernel::bindings::dma_data_direction as Dir;
    use kernel::page::PAGE_SIZE;
    use kernel::prelude::*;
    use kernel::sync::atomic::Relaxed;

    use crate::ffi;
    use crate::ops::Swiotlb;
    use crate::testing::{
        ops_of,     //
        pattern,    //
        pool_range, //
        rust_ops,   //
        skip,       //
        Engine,     //
        Pages,      //
        Window,     //
    };

    /// The board's window: bus 0xC000_0000 is physical 0, for 1 GiB.
    const SOC: Window = (0xc000_0000, 0, 0x4000_0000);

    /// A device of `board_devices`, referenced.
    struct BoardDevice(*mut bindings::device);

    impl Drop for BoardDevice {
        fn drop(&mut self) {
            // SAFETY: a reference `xrs_test_board_device()` took.
            unsafe { ffi::xrs_test_put_device(self.0) };
        }
    }

    /// The devices `board_devices` names; `ENODEV` if one does not exist.
    fn board() -> Result<KVec<BoardDevice>> {
        let mut v = KVec::new();
        for i in 0.. {
            // SAFETY: looks a device up by name; the result is referenced or null.
            let d = unsafe { ffi::xrs_test_board_device(i) };
            if d.is_null() {
                break;
            }
            v.push(BoardDevice(kernel::error::from_err_ptr(d)?), GFP_KERNEL)?;
        }
        Ok(v)
    }

    /// The named devices, each checked to have the Rust ops; `None` (the case is
    /// skipped) when none are named.
    fn devices() -> Result<Option<KVec<BoardDevice>>> {
        let v = board()?;
        if v.is_empty() {
            skip(c"no board devices named (board_devices=): not on a Raspberry Pi 4");
            return Ok(None);
        }
        for d in &v {
            // SAFETY: a live device (referenced).
            assert_eq!(unsafe { ops_of(d.0) }, rust_ops());
        }
        Ok(Some(v))
    }

    /// A page of this domain inside the board's window.
    fn page() -> Result<Pages> {
        Pages::alloc(0, |p, n| p + n <= SOC.1 + SOC.2)
    }

    #[test]
    fn maps_in_place_through_the_board_window() -> Result {
        let Some(devs) = devices()? else {
            return Ok(());
        };
        let engine = Engine(&[SOC]);
        for d in &devs {
            let p = page()?;
            p.fill(31);
            // SAFETY: a live device with the Rust ops; the page is ours.
            let dma = unsafe { ffi::xrs_test_map(d.0, p.phys + 8, 1000, Dir::DMA_TO_DEVICE) };
            assert_eq!(dma, p.phys + 8 - SOC.1 + SOC.0);
            let mut v = [0u8; 1000];
            assert!(engine.read(dma, &mut v));
            assert!(v.iter().enumerate().all(|(i, &b)| b == pattern(i + 8, 31)));
            // SAFETY: the mapping just made.
            unsafe { ffi::xrs_test_unmap(d.0, dma, 1000, Dir::DMA_TO_DEVICE) };
            // SAFETY: as above.
            let dma = unsafe { ffi::xrs_test_map(d.0, p.phys, PAGE_SIZE, Dir::DMA_FROM_DEVICE) };
            assert_eq!(dma, p.phys - SOC.1 + SOC.0);
            assert!(engine.fill(dma, PAGE_SIZE, 32)?);
            // SAFETY: the mapping just made.
            unsafe { ffi::xrs_test_unmap(d.0, dma, PAGE_SIZE, Dir::DMA_FROM_DEVICE) };
            assert!(p.holds(32, PAGE_SIZE));
        }
        Ok(())
    }

    #[test]
    fn bounces_through_the_board_window() -> Result {
        let Some(devs) = devices()? else {
            return Ok(());
        };
        let s = Swiotlb::get().ok_or(ENODEV)?;
        let (pool, bytes) = pool_range(s)?;
        let pool = pool.as_u64();
        // The pool must be in the window for the device to reach it at all.
        assert!(pool + bytes <= SOC.1 + SOC.2);
        let in_pool =
            |dma: u64| (pool - SOC.1 + SOC.0..pool - SOC.1 + SOC.0 + bytes).contains(&dma);
        let engine = Engine(&[SOC]);
        for d in &devs {
            let p = page()?;
            p.fill(33);
            let forced = s.stats.bounced[0].load(Relaxed);
            s.set_force(true);
            // SAFETY: a live device with the Rust ops; the page is ours.
            let to = unsafe { ffi::xrs_test_map(d.0, p.phys, 700, Dir::DMA_TO_DEVICE) };
            // SAFETY: as above.
            let from = unsafe { ffi::xrs_test_map(d.0, p.phys + 2048, 700, Dir::DMA_FROM_DEVICE) };
            s.set_force(false);
            assert!(in_pool(to) && in_pool(from));
            assert_eq!(s.stats.bounced[0].load(Relaxed), forced + 2);
            assert!(engine.holds(to, 700, 33)?);
            assert!(engine.fill(from, 700, 34)?);
            // SAFETY: the mappings just made.
            unsafe {
                ffi::xrs_test_unmap(d.0, to, 700, Dir::DMA_TO_DEVICE);
                ffi::xrs_test_unmap(d.0, from, 700, Dir::DMA_FROM_DEVICE);
            }
            // The device's bytes landed at unmap, and only there.
            let buf = p.buf();
            assert!((0..700).all(|i| buf[2048 + i] == pattern(i, 34)));
            assert_eq!(buf[2048 + 700], pattern(2048 + 700, 33));
        }
        Ok(())
    }

    #[test]
    fn coherent_buffer_through_the_board_window() -> Result {
        let Some(devs) = devices()? else {
            return Ok(());
        };
        let engine = Engine(&[SOC]);
        let size = 2 * PAGE_SIZE;
        for d in &devs {
            let mut dma = 0u64;
            // SAFETY: a live device with the Rust ops; `dma` is an out-parameter.
            let vaddr = unsafe { ffi::xrs_test_alloc_coherent(d.0, size, &mut dma) };
            assert!(!vaddr.is_null());
            assert!((SOC.0..SOC.0 + SOC.2).contains(&dma));
            assert!(engine.fill(dma, size, 35)?);
            // SAFETY: `vaddr` maps `size` bytes of the live allocation.
            let seen = unsafe { core::slice::from_raw_parts(vaddr.cast::<u8>(), size) };
            assert!(seen.iter().enumerate().all(|(i, &b)| b == pattern(i, 35)));
            // SAFETY: frees what was allocated above.
            unsafe { ffi::xrs_test_free_coherent(d.0, size, vaddr, dma) };
        }
        Ok(())
    }
}
