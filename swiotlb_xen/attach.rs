// SPDX-License-Identifier: GPL-2.0

//! Putting the Rust ops on a device, keeping them there while drivers bind, and taking
//! them off again.
//!
//! Binding a driver re-runs the bus's DMA configuration (`really_probe()` calls
//! `dma_configure()`, which on arm64 ends in `arch_setup_dma_ops()`), and under Xen that
//! puts the C `xen_swiotlb_dma_ops` back on the device. The module therefore listens for
//! `BUS_NOTIFY_BIND_DRIVER`, which 7.3 sends after the DMA configuration and before the
//! driver's probe, and installs its ops again on every attached device, remembering the
//! ops the kernel chose as the ones to restore.
//!
//! C header: [`include/linux/device/bus.h`](srctree/include/linux/device/bus.h).

use core::ffi::CStr;
use core::fmt;
use core::ptr;

use kernel::bindings;
use kernel::device::Device;
use kernel::ffi::{
    c_int,   //
    c_ulong, //
    c_void,  //
};
use kernel::prelude::*;
use kernel::str::CStrExt;
use kernel::sync::aref::ARef;
use kernel::sync::atomic::{
    Acquire, //
    Atomic,  //
    Release, //
};
use kernel::types::Opaque;

use crate::dma::addr::PhysAddr;
use crate::dma::glue::device::DeviceRanges;
use crate::dma::glue::p2m::KernelP2m;
use crate::dma::ranges::DmaRangeMap;
use crate::dma::xen;
use crate::dma_ops::{
    dma_map_ops, //
    DMA_OPS,     //
};
use crate::ops::{
    Swiotlb, //
    Target,  //
};

/// The `dma_ops` field of `dev`, for atomic access: the DMA API reads it on every call
/// (`get_dma_ops()`) while we replace it.
///
/// # Safety
///
/// `dev` is a live device.
unsafe fn ops_field<'a>(dev: *mut bindings::device) -> &'a Atomic<*const dma_map_ops> {
    // SAFETY: `dev` is live (function requirement); the field is an aligned pointer
    // (its C type, `const struct dma_map_ops *`, is the table bindgen generated for this
    // module), which we only access atomically.
    unsafe { Atomic::from_ptr(ptr::addr_of_mut!((*dev).dma_ops).cast()) }
}

/// `get_dma_ops()`: the ops of `dev`; null when the kernel uses dma-direct.
///
/// # Safety
///
/// `dev` is a live device.
pub unsafe fn dma_ops(dev: *mut bindings::device) -> *const dma_map_ops {
    // SAFETY: per this function's requirements.
    unsafe { ops_field(dev) }.load(Acquire)
}

/// `set_dma_ops()`, and `dev_clear_dma_skip_sync()`, so that the sync callbacks of
/// `ops` run even where dma-direct had decided to skip syncs.
///
/// # Safety
///
/// `dev` is a live device; `ops` is null or a table that outlives its use on `dev`; no
/// mapping made through the device's current ops is live (it could not be unmapped).
pub unsafe fn set_dma_ops(dev: *mut bindings::device, ops: *const dma_map_ops) {
    // SAFETY: per this function's requirements.
    unsafe { ops_field(dev) }.store(ops, Release);
    #[cfg(CONFIG_DMA_NEED_SYNC)]
    // SAFETY: `dev` is live; `flags` is its word of flag bits, changed atomically.
    unsafe {
        bindings::clear_bit(
            bindings::struct_device_flags_DEV_FLAG_DMA_SKIP_SYNC as c_ulong,
            ptr::addr_of_mut!((*dev).flags).cast(),
        )
    };
}

/// An attached device, as the registry knows it.
struct Attached {
    dev: ARef<Device>,
    /// The ops to restore: what the device had when attached, or what the kernel gave it
    /// at the last driver bind.
    old_ops: *const dma_map_ops,
    /// Driver binds that displaced our ops, which were then installed again.
    rebinds: u32,
}

// SAFETY: `old_ops` is a pointer to a static ops table, only stored and handed back.
unsafe impl Send for Attached {}

kernel::sync::global_lock! {
    // SAFETY: `init` runs at module load, before any other use.
    unsafe(uninit) static ATTACHED: Mutex<KVec<Attached>> = KVec::new();
}

/// Prepares the registry; called once at module load.
pub fn init() {
    // SAFETY: called once, from module init, before any other use of the lock.
    unsafe { ATTACHED.init() };
}

/// The C `struct device` of `dev` (`Device` is a transparent wrapper of it; its own
/// accessor is private to the kernel crate).
fn raw(dev: &Device) -> *mut bindings::device {
    core::ptr::from_ref(dev).cast_mut().cast()
}

/// Whether `dev` has the Rust ops now.
fn has_our_ops(dev: &Device) -> bool {
    // SAFETY: `dev` is live.
    ptr::eq(unsafe { dma_ops(raw(dev)) }, &DMA_OPS)
}

/// A device whose DMA goes through the Rust ops; dropping it restores the ops the
/// kernel last gave the device.
pub struct Attachment {
    dev: ARef<Device>,
}

impl Attachment {
    /// Attaches the ops to `dev`.
    ///
    /// Refuses with `ERANGE` a device that cannot reach the whole bounce pool through its
    /// `dma-ranges` and DMA mask: its bounced mappings would fail. A device that cannot
    /// reach the atomic pool is attached with a warning: the coherent allocations it
    /// asks for without being allowed to sleep will fail. `EBUSY` if the device is
    /// attached already.
    ///
    /// # Safety
    ///
    /// `dev` has its DMA configured, and no mapping made through its current ops is live
    /// (they could not be unmapped).
    pub unsafe fn new(s: &Swiotlb, dev: ARef<Device>) -> Result<Self> {
        // A device with no driver is checked against its coherent mask, which `struct
        // device` holds itself: its `dma_mask` may still point into the memory of the
        // driver that had it last, freed at unbind (sdhci points it at its host structure
        // when it works by PIO and leaves it there; KASAN found it on the Raspberry Pi 4's
        // SDHCI, tests/rpi4-test.sh).
        // SAFETY: `dev` is live; the driver pointer is only compared with null.
        let bound = !unsafe { (*raw(&dev)).driver }.is_null();
        // SAFETY: per this function's requirements.
        let t = unsafe {
            if bound {
                Target::new(raw(&dev))
            } else {
                Target::with_coherent_mask(raw(&dev))
            }
        };
        let reaches = t.as_ref().is_ok_and(|t| s.reaches_pool(t, t.limit().mask));
        if !reaches {
            let (lo, hi) = s.chunks().fold((u64::MAX, 0), |(lo, hi), (b, n)| {
                (lo.min(b.as_u64()), hi.max(b.as_u64() + n))
            });
            dev.pr_err(format_args!(
                "xen_swiotlb_rs: cannot reach the bounce pool within {:#x}..{:#x} (see pool_below)\n",
                lo, hi
            ));
            return Err(ERANGE);
        }
        if !t.as_ref().is_ok_and(|t| s.reaches_atomic_pool(t)) {
            dev.pr_warn(format_args!(
                "xen_swiotlb_rs: cannot reach the atomic pool: coherent allocations that may not sleep will fail\n"
            ));
        }
        let mut list = ATTACHED.lock();
        if list.iter().any(|a| raw(&a.dev) == raw(&dev)) {
            return Err(EBUSY);
        }
        list.reserve(1, GFP_KERNEL)?;
        // SAFETY: `dev` is live.
        let old_ops = unsafe { dma_ops(raw(&dev)) };
        // SAFETY: `dev` is live; our ops table is static; no mapping of the old ops is
        // live (function requirement).
        unsafe { set_dma_ops(raw(&dev), &DMA_OPS) };
        list.push(
            Attached {
                dev: dev.clone(),
                old_ops,
                rebinds: 0,
            },
            GFP_KERNEL,
        )?;
        Ok(Self { dev })
    }

    /// Attaches to the platform device called `name`.
    pub fn by_name(s: &Swiotlb, name: &CStr) -> Result<Self> {
        // SAFETY: `name` is NUL-terminated and outlives the call; the platform bus type is
        // a static of the kernel; `device_match_name` compares a device's name with it.
        let dev = unsafe {
            bindings::bus_find_device(
                &raw const bindings::platform_bus_type,
                ptr::null_mut(),
                name.as_char_ptr().cast(),
                Some(bindings::device_match_name),
            )
        };
        let Some(dev) = ptr::NonNull::new(dev) else {
            pr_err!("no platform device {}\n", name.to_str().unwrap_or("?"));
            return Err(ENODEV);
        };
        // SAFETY: `bus_find_device()` returned a reference on a live device, which the
        // `ARef` takes over; `Device` is a transparent wrapper of `struct device`.
        let dev: ARef<Device> = unsafe { ARef::from_raw(dev.cast()) };
        // SAFETY: the `devices` parameter names devices handed over with their DMA
        // configured and no driver mapping through them (its documented contract,
        // Documentation/swiotlb.md).
        unsafe { Self::new(s, dev) }
    }

    /// The device.
    pub fn dev(&self) -> *mut bindings::device {
        raw(&self.dev)
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        let mut list = ATTACHED.lock();
        let Some(i) = list.iter().position(|a| raw(&a.dev) == raw(&self.dev)) else {
            return;
        };
        let Ok(a) = list.remove(i) else {
            return;
        };
        // SAFETY: `dev` is live (the registry held a reference); `old_ops` is what the
        // kernel last gave it.
        unsafe { set_dma_ops(raw(&a.dev), a.old_ops) };
    }
}

/// A bus event for `dev`: after `BUS_NOTIFY_BIND_DRIVER`, an attached device that lost
/// our ops to the bind's DMA configuration gets them back.
fn bus_event(action: c_ulong, dev: *mut bindings::device) {
    if action != bindings::bus_notifier_event_BUS_NOTIFY_BIND_DRIVER as c_ulong {
        return;
    }
    let mut list = ATTACHED.lock();
    let Some(a) = list.iter_mut().find(|a| raw(&a.dev) == dev) else {
        return;
    };
    if has_our_ops(&a.dev) {
        return;
    }
    // SAFETY: `dev` is live (the registry holds a reference) and being bound: no
    // mapping can be live through the ops the bind just set.
    a.old_ops = unsafe { dma_ops(dev) };
    // SAFETY: as above; our ops table is static.
    unsafe { set_dma_ops(dev, &DMA_OPS) };
    a.rebinds += 1;
}

/// `notifier_fn_t` of [`BindNotifier`].
///
/// # Safety
///
/// Called by the bus notifier chain of the platform bus, with `data` a live device.
unsafe extern "C" fn bus_notifier_call(
    _nb: *mut bindings::notifier_block,
    action: c_ulong,
    data: *mut c_void,
) -> c_int {
    bus_event(action, data.cast());
    // NOTIFY_DONE: not interested in stopping the chain.
    0
}

/// The registration of [`bus_notifier_call`] on the platform bus.
///
/// # Invariants
///
/// `nb` is registered on `platform_bus_type` until drop.
pub struct BindNotifier {
    nb: Pin<KBox<Opaque<bindings::notifier_block>>>,
}

// SAFETY: after registration the block belongs to the bus's notifier chain, which
// serialises every access to it; the value only unregisters it, from any thread.
unsafe impl Send for BindNotifier {}
// SAFETY: shared access does nothing.
unsafe impl Sync for BindNotifier {}

impl BindNotifier {
    /// Starts listening for driver binds on the platform bus.
    pub fn register() -> Result<Self> {
        let nb = KBox::pin(
            Opaque::new(bindings::notifier_block {
                notifier_call: Some(bus_notifier_call),
                next: core::ptr::null_mut(),
                priority: 0,
            }),
            GFP_KERNEL,
        )?;
        // SAFETY: `nb` is pinned and lives until it is unregistered in `drop`; the
        // platform bus type is a static of the kernel.
        kernel::error::to_result(unsafe {
            bindings::bus_register_notifier(&raw const bindings::platform_bus_type, nb.get())
        })?;
        // INVARIANT: registered just above.
        Ok(Self { nb })
    }
}

impl Drop for BindNotifier {
    fn drop(&mut self) {
        // SAFETY: registered (type invariant); after this returns the callback is not
        // running and will not run again.
        unsafe {
            bindings::bus_unregister_notifier(&raw const bindings::platform_bus_type, self.nb.get())
        };
    }
}

/// Whether `dev` is attached; then whether it has the Rust ops now, and how many driver
/// binds displaced them (each time they were installed again).
pub fn state(dev: *mut bindings::device) -> Option<(bool, u32)> {
    let list = ATTACHED.lock();
    let a = list.iter().find(|a| raw(&a.dev) == dev)?;
    Some((has_our_ops(&a.dev), a.rebinds))
}

/// What `devices` in debugfs shows: one line per attached device.
pub struct DevicesView;

impl fmt::Debug for DevicesView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = ATTACHED.lock();
        for a in list.iter() {
            writeln!(
                f,
                "{}: ops={} rebinds={}",
                a.dev.name().to_str().unwrap_or("?"),
                if has_our_ops(&a.dev) { "rust" } else { "other" },
                a.rebinds
            )?;
        }
        Ok(())
    }
}

/// The physical addresses [`RangesView`] translates for each device: the first byte, the
/// start of a Raspberry Pi 4 Dom0's RAM under Xen (256 MiB), the last page of the first
/// GiB (the end of what a device with the board's 30-bit window reaches) and the GiB
/// after it (the seed's first bug: RAM there is out of reach).
const PROBES: [u64; 4] = [0, 0x1000_0000, 0x3fff_f000, 0x4000_0000];

/// What `ranges` in debugfs shows: for each attached device, the DMA range table the
/// kernel built from the device tree's `dma-ranges` (`dev->dma_range_map`), and what
/// the ops make of a few physical addresses through it: the p2m to a machine address,
/// then the table to a bus address, and back.
pub struct RangesView;

impl fmt::Debug for RangesView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The devices first, then each under its own lock: a bind takes the device's lock
        // and then ours (`bus_event`).
        let mut devs = KVec::new();
        for a in ATTACHED.lock().iter() {
            devs.push(a.dev.clone(), GFP_KERNEL)
                .map_err(|_| fmt::Error)?;
        }
        for dev in &devs {
            let name = dev.name().to_str().unwrap_or("?");
            // SAFETY: `dev` is live (we hold a reference); its lock is what the driver
            // core holds while it configures DMA at bind and frees the table at unbind.
            unsafe { bindings::mutex_lock(&raw mut (*raw(dev)).mutex) };
            // SAFETY: live, and its DMA configuration cannot change under the lock.
            let r = unsafe { DeviceRanges::from_raw(raw(dev)) };
            // SAFETY: as above.
            let bus_limit = unsafe { (*raw(dev)).bus_dma_limit };
            // SAFETY: locked above.
            unsafe { bindings::mutex_unlock(&raw mut (*raw(dev)).mutex) };
            let r = match r {
                Ok(r) => r,
                Err(e) => {
                    writeln!(f, "{name}: unreadable range table: {e:?}")?;
                    continue;
                }
            };
            let map = r.map();
            match &map {
                DmaRangeMap::Direct => writeln!(f, "{name}: no dma-ranges (bus = machine)")?,
                DmaRangeMap::Ranges(ranges) => {
                    for g in ranges.iter() {
                        writeln!(
                            f,
                            "{name}: range cpu {:#x} dma {:#x} size {:#x}",
                            g.cpu_start(),
                            g.dma_start(),
                            g.size()
                        )?;
                    }
                }
            }
            writeln!(f, "{name}: bus_dma_limit {bus_limit:#x}")?;
            for p in PROBES {
                let phys = PhysAddr::new(p);
                write!(f, "{name}: phys {p:#x} -> ")?;
                let Some(m) = xen::phys_to_machine(&KernelP2m, phys) else {
                    writeln!(f, "no machine address")?;
                    continue;
                };
                match map.machine_to_dma(m) {
                    Ok(d) => {
                        write!(
                            f,
                            "machine {:#x} -> dma {:#x} -> phys ",
                            m.as_u64(),
                            d.as_u64()
                        )?;
                        match xen::dma_to_phys(&KernelP2m, &map, d) {
                            Ok(b) => writeln!(f, "{:#x}", b.as_u64())?,
                            Err(_) => writeln!(f, "none")?,
                        }
                    }
                    Err(_) => writeln!(f, "machine {:#x} -> dma none", m.as_u64())?,
                }
            }
        }
        Ok(())
    }
}
