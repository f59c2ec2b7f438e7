// SPDX-License-Identifier: GPL-2.0

//! xen-swiotlb in Rust: DMA operations for a Xen Dom0 on arm64, with every address
//! translation explicit (p2m, then the device's `dma-ranges`) and a bounce pool of its own.
//!
//! Parameters: `devices` (platform device names to attach to), `pool_kib` (bounce pool
//! size), `atomic_kib` (atomic pool size), `pool_below` (physical address both pools must
//! end under, for devices the kernel did not size ZONE_DMA for), `force_bounce`.
//! Statistics: `/sys/kernel/debug/xen_swiotlb_rs/stats`; attached devices and whether
//! they have the Rust ops now: `/sys/kernel/debug/xen_swiotlb_rs/devices`; their DMA
//! range tables and the translations the ops apply through them:
//! `/sys/kernel/debug/xen_swiotlb_rs/ranges`.
//!
//! Built on the shared Xen core (crate `xen`). Its KUnit suites and benchmark are the
//! module `xen_swiotlb_test.ko` (`test/`), compiled against this crate.

use core::fmt;

use kernel::debugfs::{
    Dir,  //
    File, //
};
use kernel::ffi::c_char;
use kernel::prelude::*;
use kernel::str::CStrExt;
use kernel::sync::atomic::{
    Atomic,  //
    Relaxed, //
};
use kernel::sync::Arc;

pub use xen::dma;
#[path = "swiotlb.rs"]
pub mod swiotlb;

pub mod attach;
pub mod cache;
pub mod dma_ops;
pub mod memory;
pub mod ops;

use attach::{
    Attachment,   //
    BindNotifier, //
    DevicesView,  //
    RangesView,   //
};
use memory::{
    AtomicArea, //
    PoolMemory, //
};
use ops::Swiotlb;

module! {
    type: XenSwiotlb,
    name: "xen_swiotlb_rs",
    authors: ["The Rust Xen stack developers"],
    description: "xen-swiotlb DMA operations in Rust, with explicit address translation",
    license: "GPL",
    params: {
        pool_kib: u32 {
            default: 65536,
            description: "Bounce pool size in KiB (a power of two; chunks of up to 4 MiB)",
        },
        atomic_kib: u32 {
            default: 256,
            description: "Atomic pool size in KiB (a power of two, at most 4096)",
        },
        pool_below: u64 {
            default: 0,
            description: "Physical address the pools must end below (0: ZONE_DMA decides)",
        },
        force_bounce: bool {
            default: false,
            description: "Bounce every mapping",
        },
    },
}

/// What `stats` in debugfs shows.
struct StatsView(Arc<Swiotlb>);

impl fmt::Debug for StatsView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.0.stats;
        let p = self.0.pool_stats();
        let get = |a: &Atomic<u64>| a.load(Relaxed);
        writeln!(f, "direct: {}", get(&s.direct))?;
        writeln!(f, "bounced_forced: {}", get(&s.bounced[0]))?;
        writeln!(f, "bounced_unreachable: {}", get(&s.bounced[1]))?;
        writeln!(f, "bounced_straddles: {}", get(&s.bounced[2]))?;
        writeln!(f, "bounced_foreign: {}", get(&s.bounced[3]))?;
        writeln!(f, "bounced_small_kmalloc: {}", get(&s.bounced[4]))?;
        writeln!(f, "bounced_bytes: {}", get(&s.bounced_bytes))?;
        writeln!(f, "failures: {}", get(&s.failures))?;
        writeln!(f, "cache_flush_failed: {}", get(&s.cache_flush_failed))?;
        writeln!(f, "sync_clamped: {}", get(&s.sync_clamped))?;
        writeln!(f, "coherent_live: {}", get(&s.coherent))?;
        writeln!(f, "coherent_pages: {}", get(&s.coherent_pages))?;
        for (base, bytes) in self.0.chunks() {
            writeln!(f, "pool_chunk: {:#x} + {:#x}", base.as_u64(), bytes)?;
        }
        writeln!(f, "pool_chunks: {}", p.chunks)?;
        writeln!(f, "pool_slots: {}", p.slots)?;
        writeln!(f, "pool_used: {}", p.used)?;
        writeln!(f, "pool_high_water: {}", p.high_water)?;
        writeln!(f, "pool_exhausted: {}", p.exhausted)?;
        writeln!(f, "atomic_pages: {}", p.atomic.0)?;
        writeln!(f, "atomic_used: {}", p.atomic.1)?;
        // Every page the module holds: both pools and the live buffers.
        let page = kernel::page::PAGE_SIZE as u64;
        let pools: u64 = self.0.areas().map(|(_, n)| n / page).sum();
        write!(f, "pages_held: {}", pools + get(&s.coherent_pages))
    }
}

extern "C" {
    /// The `devices` parameter (params.c): the module! macro declares integer and bool
    /// parameters only.
    #[link_name = "xen_swiotlb_rs_devices"]
    static DEVICES: [c_char; 256];
}

/// The module.
pub struct XenSwiotlb {
    attached: KVec<Attachment>,
    _notifier: BindNotifier,
    _devices: Pin<KBox<File<DevicesView>>>,
    _ranges: Pin<KBox<File<RangesView>>>,
    _stats: Pin<KBox<File<StatsView>>>,
    _dir: Dir,
    instance: Arc<Swiotlb>,
}

impl kernel::Module for XenSwiotlb {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        attach::init();
        let line = cache::Line::read();
        let bytes = u64::from(module_parameters::pool_kib.value()) * 1024;
        let below = module_parameters::pool_below.value();
        let memory = PoolMemory::alloc_chunks(bytes, below).inspect_err(|_| {
            pr_err!(
                "cannot allocate a {} KiB bounce pool below {:#x}\n",
                bytes / 1024,
                below
            )
        })?;
        let atomic_bytes = u64::from(module_parameters::atomic_kib.value()) * 1024;
        let atomic = AtomicArea::alloc(atomic_bytes, below, line).inspect_err(|_| {
            pr_err!(
                "cannot allocate a {} KiB atomic pool below {:#x}\n",
                atomic_bytes / 1024,
                below
            )
        })?;
        let instance = Arc::pin_init(
            Swiotlb::new(
                memory,
                atomic,
                line,
                module_parameters::force_bounce.value(),
            )?,
            GFP_KERNEL,
        )?;
        // SAFETY: the instance lives in `instance` until `Drop` has unpublished it.
        unsafe { Swiotlb::publish(&instance) };
        for (base, bytes) in instance.chunks() {
            pr_info!(
                "bounce pool chunk {:#x} + {} KiB\n",
                base.as_u64(),
                bytes / 1024
            );
        }

        let dir = Dir::new(c"xen_swiotlb_rs");
        let stats = KBox::pin_init(
            dir.read_only_file(c"stats", StatsView(instance.clone())),
            GFP_KERNEL,
        )?;
        let devices = KBox::pin_init(dir.read_only_file(c"devices", DevicesView), GFP_KERNEL)?;
        let ranges = KBox::pin_init(dir.read_only_file(c"ranges", RangesView), GFP_KERNEL)?;
        let mut this = Self {
            attached: KVec::new(),
            _notifier: BindNotifier::register()?,
            _devices: devices,
            _ranges: ranges,
            _stats: stats,
            _dir: dir,
            instance,
        };
        this.attach_named()?;
        Ok(this)
    }
}

impl XenSwiotlb {
    /// Attaches to the devices of the `devices` parameter.
    fn attach_named(&mut self) -> Result {
        // SAFETY: the parameter (params.c) is a NUL-terminated string that lives as long as
        // the module and is read-only once the module is loaded.
        let list = unsafe { core::ffi::CStr::from_char_ptr((&raw const DEVICES).cast()) };
        for name in list
            .to_bytes()
            .split(|&c| c == b',')
            .filter(|n| !n.is_empty())
        {
            let mut buf = [0u8; 64];
            if name.len() >= buf.len() {
                return Err(EINVAL);
            }
            buf[..name.len()].copy_from_slice(name);
            let name = core::ffi::CStr::from_bytes_until_nul(&buf).map_err(|_| EINVAL)?;
            let a = Attachment::by_name(&self.instance, name)?;
            pr_info!("attached to {}\n", name.to_str().unwrap_or("?"));
            self.attached.push(a, GFP_KERNEL)?;
        }
        Ok(())
    }
}

impl Drop for XenSwiotlb {
    fn drop(&mut self) {
        // Restore every device's ops, then wait for calls still inside ours. Live
        // mappings hold module references, so there are none left. The bind notifier
        // goes with the fields, after this.
        self.attached.clear();
        Swiotlb::unpublish();
    }
}

/// This module, for whoever checks what holds it (the test module counts references).
///
/// Not inlined: `THIS_MODULE` names `__this_module`, which in another module's object
/// would be that module's own.
#[inline(never)]
pub fn this_module() -> *mut kernel::bindings::module {
    <XenSwiotlb as kernel::ModuleMetadata>::THIS_MODULE.as_ptr()
}
