// SPDX-License-Identifier: GPL-2.0

//! The DMA operations of the Rust xen-swiotlb.
//!
//! Every handle given to a device is a [`DmaAddr`] produced from a [`PhysAddr`] by the p2m
//! and the device's `dma-ranges` ([`xen::phys_to_dma`]); every handle received goes back
//! through [`xen::dma_to_phys`] before any pool lookup or cache maintenance. Mappings the
//! device cannot take in place are copied through the module's own bounce pool.
//!
//! Deliberate differences from drivers/xen/swiotlb-xen.c are listed in
//! Documentation/swiotlb.md; the differential KUnit suite (`differential.rs`) checks
//! every other observable result against the kernel's own ops.

use core::ptr;
use core::sync::atomic::{
    AtomicBool, //
    AtomicPtr,  //
    AtomicU64,  //
    Ordering,   //
};

use kernel::bindings;
use kernel::ffi::{
    c_int,   //
    c_uint,  //
    c_ulong, //
    c_void,  //
};
use kernel::prelude::*;
use kernel::sync::{
    new_spinlock_irq, //
    SpinLockIrq,      //
};

use crate::dma::addr::{
    DmaAddr,     //
    MachineAddr, //
    PhysAddr,    //
};
use crate::dma::glue::device::DeviceRanges;
use crate::dma::glue::p2m::KernelP2m;
use crate::dma::ranges::{
    DmaLimit,    //
    DmaRangeMap, //
};
use crate::dma::xen::{
    self, //
    P2m,  //
};
use crate::ffi;
use crate::memory::{
    AtomicArea,         //
    Pages,              //
    PoolMemory,         //
    GFP_DIRECT_RECLAIM, //
    GFP_DMA,            //
};
use crate::swiotlb::atomic_pool::AtomicPool;
use crate::swiotlb::cache_flush;
use crate::swiotlb::coherent;
use crate::swiotlb::decide::{
    self,         //
    BounceReason, //
    InPlace,      //
    MapPlan,      //
    Policy,       //
};
use crate::swiotlb::pool::{
    self,      //
    Bounce,    //
    Placement, //
    Pool,      //
    PoolError, //
    Slot,      //
};

/// A Linux page frame number.
pub type PagePfn = crate::dma::addr::Pfn<{ kernel::page::PAGE_SHIFT as u32 }>;

/// A DMA direction the operations accept.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Direction {
    /// `DMA_BIDIRECTIONAL`.
    Bidirectional = 0,
    /// `DMA_TO_DEVICE`.
    ToDevice = 1,
    /// `DMA_FROM_DEVICE`.
    FromDevice = 2,
}

impl Direction {
    fn from_raw(dir: bindings::dma_data_direction) -> Option<Self> {
        match dir {
            bindings::dma_data_direction::DMA_BIDIRECTIONAL => Some(Self::Bidirectional),
            bindings::dma_data_direction::DMA_TO_DEVICE => Some(Self::ToDevice),
            bindings::dma_data_direction::DMA_FROM_DEVICE => Some(Self::FromDevice),
            _ => None,
        }
    }

    fn raw(self) -> c_uint {
        self as c_uint
    }

    /// Whether the device writes: data must come back to the CPU.
    fn device_writes(self) -> bool {
        self != Self::ToDevice
    }

    /// Whether the device reads: data must go to the device.
    fn device_reads(self) -> bool {
        self != Self::FromDevice
    }
}

/// Counters shown in debugfs.
#[derive(Default)]
pub struct Stats {
    /// Mappings given to a device in place.
    pub direct: AtomicU64,
    /// Mappings bounced, by [`BounceReason`] (forced, unreachable, straddles, foreign,
    /// small kmalloc).
    pub bounced: [AtomicU64; 5],
    /// Bytes copied into or out of the pool.
    pub bounced_bytes: AtomicU64,
    /// Calls refused: bad direction, untranslatable handle, exhausted pool, unknown or
    /// mismatched unmap, failed cache maintenance.
    pub failures: AtomicU64,
    /// Coherent and non-coherent allocations handed out and not yet freed.
    pub coherent: AtomicU64,
    /// Pages those allocations hold.
    pub coherent_pages: AtomicU64,
    /// `GNTTABOP_cache_flush` entries Xen refused.
    pub cache_flush_failed: AtomicU64,
    /// Partial syncs that ran past their mapping, clamped to it.
    pub sync_clamped: AtomicU64,
}

fn reason_index(r: BounceReason) -> usize {
    match r {
        BounceReason::Forced => 0,
        BounceReason::Unreachable => 1,
        BounceReason::Straddles => 2,
        BounceReason::Foreign => 3,
        BounceReason::SmallKmalloc => 4,
    }
}

/// `DMA_ATTR_*` as the `unsigned long` the ops receive.
const fn attr(a: u32) -> c_ulong {
    a as c_ulong
}

const SKIP_CPU_SYNC: c_ulong = attr(bindings::DMA_ATTR_SKIP_CPU_SYNC);
const MMIO: c_ulong = attr(bindings::DMA_ATTR_MMIO);
const REQUIRE_COHERENT: c_ulong = attr(bindings::DMA_ATTR_REQUIRE_COHERENT);
const NO_WARN: c_ulong = attr(bindings::DMA_ATTR_NO_WARN);

/// What the operations need to know about the device of a call.
pub struct Target<'a> {
    dev: *mut bindings::device,
    map: DmaRangeMap<'a>,
    limit: DmaLimit,
    coherent: bool,
}

impl Target<'_> {
    /// Reads the DMA configuration of `dev`, its range table in place.
    ///
    /// The fields are read here rather than through a C helper because this runs on every
    /// call: `*dev->dma_mask`, `dev->bus_dma_limit` and the `DEV_FLAG_DMA_COHERENT` bit
    /// that `dev_is_dma_coherent()` tests on arm64 (include/linux/device.h).
    ///
    /// # Safety
    ///
    /// `dev` is a live device whose DMA configuration is settled and stays so while the
    /// value lives (it is being given DMA calls, so a driver is bound, or a test
    /// configured it).
    #[inline(always)]
    pub unsafe fn new(dev: *mut bindings::device) -> Result<Self> {
        // SAFETY: per this function's requirements.
        let map = unsafe { DeviceRanges::borrow(dev) }?;
        // SAFETY: `dev` is live; `dma_mask` is NULL or points at the device's mask.
        let mask = unsafe { (*dev).dma_mask.as_ref() }.copied().unwrap_or(0);
        // SAFETY: `dev` is live.
        let bus_limit = unsafe { (*dev).bus_dma_limit };
        // The flags word is changed with atomic bit operations: read it once, as
        // test_bit() does.
        // SAFETY: `dev` is live; an aligned word of it.
        let flags = unsafe { ptr::read_volatile(ptr::addr_of!((*dev).flags[0])) };
        const BIT: u32 = bindings::struct_device_flags_DEV_FLAG_DMA_COHERENT;
        const _: () = assert!(BIT < c_ulong::BITS, "the flag is in the first word");
        let coherent = flags & (1 << BIT) != 0;
        Ok(Self {
            dev,
            map,
            limit: DmaLimit { mask, bus_limit },
            coherent,
        })
    }

    /// The mask and bus limit read from the device.
    pub fn limit(&self) -> DmaLimit {
        self.limit
    }

    /// Whether the device is DMA coherent.
    pub fn coherent(&self) -> bool {
        self.coherent
    }

    /// `dma_get_min_align_mask()` and `dma_get_seg_boundary()`: from `dev->dma_parms`,
    /// 0 and all ones without.
    pub fn dma_parms(&self) -> (u64, u64) {
        // SAFETY: `dev` is live (type invariant of `new`); `dma_parms` is NULL or points
        // at the device's parameters, which live as long as the device.
        match unsafe { (*self.dev).dma_parms.as_ref() } {
            // A boundary of 0 is unset: none, as in C.
            Some(p) => (
                u64::from(p.min_align_mask),
                match p.segment_boundary_mask {
                    0 => u64::MAX,
                    m => m as u64,
                },
            ),
            None => (0, u64::MAX),
        }
    }

    fn with_mask(&self, mask: u64) -> DmaLimit {
        DmaLimit { mask, ..self.limit }
    }

    fn coherent_limit(&self) -> DmaLimit {
        // SAFETY: `dev` is live.
        self.with_mask(unsafe { (*self.dev).coherent_dma_mask })
    }

    /// The bus address at which this device sees `bytes` of Dom0's own RAM at `phys`,
    /// if it sees all of them.
    fn own_ram_to_dma(&self, phys: PhysAddr, bytes: u64) -> Option<DmaAddr> {
        let m = xen::phys_to_machine(&KernelP2m, phys)?;
        self.map.machine_range_to_dma(m, bytes).ok()
    }

    /// Warns once per module load about a driver bug on this device.
    fn warn_once(&self, flag: &AtomicBool, args: core::fmt::Arguments<'_>) {
        if !flag.swap(true, Ordering::Relaxed) {
            // SAFETY: `dev` is live.
            unsafe { <kernel::device::Device>::from_raw(self.dev) }.pr_warn(args);
        }
    }
}

/// The bounce pool: one slot allocator per chunk of memory, and totals.
pub struct Pools {
    pools: KVec<Pool<KVec<Slot>>>,
    used: usize,
    high_water: usize,
    exhausted: u64,
}

impl Pools {
    /// A bounce for `size` bytes at `phys` in the first chunk that has room, placed for
    /// the device as `place` says for each chunk (`None`: the device does not see it).
    fn alloc(
        &mut self,
        phys: PhysAddr,
        size: u64,
        tag: u8,
        place: impl Fn(PhysAddr, u64) -> Option<Placement>,
    ) -> Result<Bounce> {
        // First fit over the chunks; the slot allocator packs small mappings.
        for pool in self.pools.iter_mut() {
            let Some(p) = place(pool.base(), pool.bytes()) else {
                continue;
            };
            let before = pool.stats().used;
            match pool.alloc(phys, size, &p, tag) {
                Ok(b) => {
                    self.used += pool.stats().used - before;
                    self.high_water = self.high_water.max(self.used);
                    return Ok(b);
                }
                Err(PoolError::Exhausted) => continue,
                Err(_) => return Err(EINVAL),
            }
        }
        self.exhausted += 1;
        Err(ENOMEM)
    }

    fn chunk_of(&mut self, phys: PhysAddr) -> Option<&mut Pool<KVec<Slot>>> {
        self.pools.iter_mut().find(|p| p.contains(phys))
    }

    fn find(&mut self, phys: PhysAddr) -> Option<Bounce> {
        self.chunk_of(phys)?.find(phys)
    }

    fn get(&mut self, tlb: PhysAddr, size: u64, tag: u8) -> Result<Bounce> {
        self.chunk_of(tlb)
            .ok_or(EINVAL)?
            .get(tlb, size, tag)
            .map_err(|_| EINVAL)
    }

    fn free(&mut self, tlb: PhysAddr, size: u64, tag: u8) -> Result<Bounce> {
        let pool = self.chunk_of(tlb).ok_or(EINVAL)?;
        let before = pool.stats().used;
        let b = pool.free(tlb, size, tag).map_err(|_| EINVAL)?;
        self.used -= before - pool.stats().used;
        Ok(b)
    }
}

/// Totals of the pool, for debugfs.
#[derive(Clone, Copy, Debug, Default)]
pub struct PoolTotals {
    /// Chunks of memory.
    pub chunks: usize,
    /// Slots in all chunks.
    pub slots: usize,
    /// Slots in use now.
    pub used: usize,
    /// Most slots in use at once.
    pub high_water: usize,
    /// Mappings refused for lack of space.
    pub exhausted: u64,
    /// Pages of the atomic pool, and how many are in use.
    pub atomic: (usize, usize),
}

/// Warnings given once per module load.
#[derive(Default)]
struct Warned {
    sync_overflow: AtomicBool,
    cache_flush: AtomicBool,
    pool_full: AtomicBool,
}

/// The module's instance: the bounce pool, the atomic pool and their counters.
#[pin_data]
pub struct Swiotlb {
    #[pin]
    pool: SpinLockIrq<Pools>,
    memory: KVec<PoolMemory>,
    #[pin]
    atomic: SpinLockIrq<AtomicPool<KVec<u8>>>,
    atomic_area: AtomicArea,
    cflush: bool,
    force: AtomicBool,
    warned: Warned,
    /// The counters.
    pub stats: Stats,
}

/// The instance the C entry points use; null when the module is not serving.
static INSTANCE: AtomicPtr<Swiotlb> = AtomicPtr::new(ptr::null_mut());

impl Swiotlb {
    /// A pool over the chunks of `memory`, an atomic pool over `atomic_area`; `force`
    /// bounces every mapping.
    pub fn new(
        memory: KVec<PoolMemory>,
        atomic_area: AtomicArea,
        force: bool,
    ) -> Result<impl PinInit<Self, Error>> {
        let mut pools = KVec::with_capacity(memory.len(), GFP_KERNEL)?;
        for chunk in memory.iter() {
            let nslots = chunk.slots();
            let mut slots = KVec::with_capacity(nslots, GFP_KERNEL)?;
            for _ in 0..nslots {
                slots.push(Slot::FREE, GFP_KERNEL)?;
            }
            let pool = Pool::new(chunk.base(), kernel::page::PAGE_SIZE as u64, slots)
                .map_err(|_| EINVAL)?;
            pools.push(pool, GFP_KERNEL)?;
        }
        let pool = Pools {
            pools,
            used: 0,
            high_water: 0,
            exhausted: 0,
        };
        let atomic = AtomicPool::new(KVec::from_elem(
            AtomicPool::<KVec<u8>>::FREE,
            atomic_area.pages(),
            GFP_KERNEL,
        )?)
        .map_err(|_| EINVAL)?;
        // SAFETY: a probing hypercall with a zeroed argument.
        let cflush = unsafe { ffi::xrs_xen_has_cache_flush() };
        Ok(try_pin_init!(Self {
            pool <- new_spinlock_irq!(pool, "xen_swiotlb_rs_pool"),
            memory,
            atomic <- new_spinlock_irq!(atomic, "xen_swiotlb_rs_atomic"),
            atomic_area,
            cflush,
            force: AtomicBool::new(force),
            warned: Warned::default(),
            stats: Stats::default(),
        }))
    }

    /// Makes `this` the instance behind the ops table.
    ///
    /// # Safety
    ///
    /// `this` stays valid until [`Self::unpublish`] has returned.
    pub unsafe fn publish(this: &Self) {
        INSTANCE.store(ptr::from_ref(this).cast_mut(), Ordering::Release);
    }

    /// Stops serving: after this returns no entry point uses the instance. The caller
    /// must have restored every attached device's ops first.
    pub fn unpublish() {
        INSTANCE.store(ptr::null_mut(), Ordering::Release);
        // SAFETY: waits for entry points that loaded the pointer (they run under RCU).
        unsafe { ffi::xrs_synchronize_rcu() };
    }

    /// Bounces every mapping from now on, or stops doing so.
    pub fn set_force(&self, force: bool) {
        self.force.store(force, Ordering::Relaxed);
    }

    /// Whether every mapping bounces.
    pub fn forced(&self) -> bool {
        self.force.load(Ordering::Relaxed)
    }

    /// Whether Xen's cache-flush hypercall is there (foreign pages need no bounce then).
    pub fn has_cache_flush(&self) -> bool {
        self.cflush
    }

    /// The published instance.
    pub fn get<'a>() -> Option<&'a Self> {
        let p = INSTANCE.load(Ordering::Acquire);
        // SAFETY: a published instance is valid until `unpublish` returns, which waits for
        // every caller (they run under RCU, or hold a module reference).
        unsafe { p.as_ref() }
    }

    /// The chunks of the bounce pool: (first byte, size).
    pub fn chunks(&self) -> impl Iterator<Item = (PhysAddr, u64)> + '_ {
        self.memory.iter().map(|c| (c.base(), c.bytes()))
    }

    /// Every range of memory a device must reach: the bounce pool's chunks and the atomic
    /// pool.
    pub fn areas(&self) -> impl Iterator<Item = (PhysAddr, u64)> + '_ {
        Iterator::chain(
            self.chunks(),
            core::iter::once((self.atomic_area.base(), self.atomic_area.bytes())),
        )
    }

    /// The pool as one range when it is one chunk (the KUnit suite needs that).
    pub fn single_chunk(&self) -> Option<(PhysAddr, u64)> {
        let mut it = self.chunks();
        let first = it.next()?;
        it.next().is_none().then_some(first)
    }

    fn in_pool(&self, phys: PhysAddr) -> bool {
        self.memory.iter().any(|c| c.contains(phys))
    }

    /// The pool's counters.
    pub fn pool_stats(&self) -> PoolTotals {
        let atomic = {
            let a = self.atomic.lock();
            (a.len(), a.used())
        };
        let p = self.pool.lock();
        PoolTotals {
            chunks: p.pools.len(),
            slots: p.pools.iter().map(|x| x.stats().slots).sum(),
            used: p.used,
            high_water: p.high_water,
            exhausted: p.exhausted,
            atomic,
        }
    }

    fn fail<T>(&self, e: Error) -> Result<T> {
        self.stats.failures.fetch_add(1, Ordering::Relaxed);
        Err(e)
    }

    /// `GNTTABOP_cache_flush` over `[maddr, maddr + size)`, one Xen page an entry; every
    /// entry is tried, the first refusal is the result.
    pub(crate) fn xen_cache_flush(&self, maddr: MachineAddr, size: u64, op: u32) -> Result {
        let mut result = Ok(());
        for e in cache_flush::per_xen_page(maddr, size) {
            // SAFETY: a cache-maintenance hypercall on a machine address; Xen checks that
            // this domain may touch the page.
            let r = unsafe { ffi::xrs_xen_cache_flush(e.page.as_u64(), e.offset, e.length, op) };
            if r != 0 {
                self.stats
                    .cache_flush_failed
                    .fetch_add(1, Ordering::Relaxed);
                if result.is_ok() {
                    result = Err(Error::from_errno(r));
                }
            }
        }
        result
    }

    /// Cache maintenance of a range that may belong to another domain, by C's rule: by
    /// VA when the machine frame is local RAM (`pfn_valid`), through Xen otherwise.
    fn foreign_cache(
        &self,
        phys: PhysAddr,
        maddr: MachineAddr,
        size: u64,
        for_device: bool,
        dir: Direction,
    ) -> Result {
        // SAFETY: a query on a frame number.
        let local = unsafe { ffi::xrs_pfn_valid(maddr.as_u64() >> kernel::page::PAGE_SHIFT) };
        if local {
            // SAFETY: `phys` is local RAM of a live mapping (linear-mapped on arm64).
            unsafe {
                if for_device {
                    ffi::xrs_dcache_for_device(phys.as_u64(), size as usize, dir.raw())
                } else {
                    ffi::xrs_dcache_for_cpu(phys.as_u64(), size as usize, dir.raw())
                }
            };
            return Ok(());
        }
        // Clean before the device reads; invalidate before the CPU reads what it wrote
        // (and before it writes, so that no dirty line is evicted over its data).
        let op = match (for_device, dir) {
            (true, Direction::FromDevice) => ffi::GNTTAB_CACHE_CLEAN | ffi::GNTTAB_CACHE_INVAL,
            (true, _) => ffi::GNTTAB_CACHE_CLEAN,
            (false, _) => ffi::GNTTAB_CACHE_INVAL,
        };
        self.xen_cache_flush(maddr, size, op)
    }

    /// Cache maintenance before the device touches `[phys, phys + size)`, held in machine
    /// memory at `maddr`. With `foreign`, the page may belong to another domain (see
    /// [`Self::foreign_cache`]). Otherwise the page is Dom0's own RAM: by VA.
    #[inline]
    fn sync_for_device_cache(
        &self,
        t: &Target<'_>,
        phys: PhysAddr,
        maddr: MachineAddr,
        size: u64,
        dir: Direction,
        foreign: bool,
    ) -> Result {
        if t.coherent {
            return Ok(());
        }
        if foreign {
            return self.foreign_cache(phys, maddr, size, true, dir);
        }
        // SAFETY: `phys` is local RAM of a live mapping (linear-mapped on arm64).
        unsafe { ffi::xrs_dcache_for_device(phys.as_u64(), size as usize, dir.raw()) };
        Ok(())
    }

    /// Cache maintenance before the CPU reads what the device wrote; `foreign` as in
    /// [`Self::sync_for_device_cache`]. A failure cannot fail the call (it returns
    /// nothing): it is counted and reported once.
    #[inline]
    fn sync_for_cpu_cache(
        &self,
        t: &Target<'_>,
        phys: PhysAddr,
        maddr: MachineAddr,
        size: u64,
        dir: Direction,
        foreign: bool,
    ) {
        if t.coherent || !dir.device_writes() {
            return;
        }
        if foreign {
            if let Err(e) = self.foreign_cache(phys, maddr, size, false, dir) {
                t.warn_once(
                    &self.warned.cache_flush,
                    format_args!(
                        "xen_swiotlb_rs: Xen refused cache maintenance of {:#x}+{:#x} ({:?}): the CPU may read stale data\n",
                        maddr.as_u64(),
                        size,
                        e
                    ),
                );
            }
        } else {
            // SAFETY: `phys` is local RAM of a live mapping (linear-mapped on arm64).
            unsafe { ffi::xrs_dcache_for_cpu(phys.as_u64(), size as usize, dir.raw()) };
        }
    }

    fn copy(&self, dst: PhysAddr, src: PhysAddr, size: u64) {
        // SAFETY: both ranges are local RAM of a live mapping: the original buffer, which
        // the caller owns for the mapping's lifetime, and our pool slots.
        unsafe { ffi::xrs_copy_phys(dst.as_u64(), src.as_u64(), size as usize) };
        self.stats.bounced_bytes.fetch_add(size, Ordering::Relaxed);
    }

    /// `map_phys`: the bus address for `[phys, phys + size)`.
    #[inline(always)]
    pub fn map(
        &self,
        t: &Target<'_>,
        phys: PhysAddr,
        size: u64,
        dir: Direction,
        attrs: c_ulong,
    ) -> Result<DmaAddr> {
        if attrs & MMIO != 0 {
            // Not RAM: no p2m (an Arm Dom0's MMIO is mapped 1:1), no bounce, no cache
            // maintenance; the bus address goes through dma-ranges as dma-direct's does.
            let dma = t.map.phys_range_to_dma(phys, size).map_err(|_| EIO)?;
            return if t.limit.reachable(dma, size) {
                Ok(dma)
            } else {
                Err(EIO)
            };
        }
        // The kernel's dma_kmalloc_safe() is true for coherent devices and for
        // DMA_TO_DEVICE: only ask for the other cases.
        // SAFETY: `t.dev` is live.
        let small_kmalloc = !t.coherent
            && dir != Direction::ToDevice
            && unsafe { ffi::xrs_dma_kmalloc_needs_bounce(t.dev, size as usize, dir.raw()) };
        let policy = Policy {
            force: self.force.load(Ordering::Relaxed),
            foreign_needs_bounce: !self.cflush && !t.coherent,
            small_kmalloc,
        };
        let map = t.map;
        let skip_sync = attrs & SKIP_CPU_SYNC != 0;
        match decide::plan(&KernelP2m, &map, &t.limit, phys, size, &policy) {
            MapPlan::Direct(InPlace {
                dma,
                machine,
                foreign,
            }) => {
                if !skip_sync {
                    // A refused cache flush leaves the device reading stale data: the
                    // mapping fails instead.
                    self.sync_for_device_cache(t, phys, machine, size, dir, foreign)?;
                }
                self.stats.direct.fetch_add(1, Ordering::Relaxed);
                Ok(dma)
            }
            MapPlan::Bounce(reason) => {
                if attrs & REQUIRE_COHERENT != 0 {
                    return Err(EIO);
                }
                let (min_align_mask, boundary_mask) = t.dma_parms();
                let b = self
                    .pool
                    .lock()
                    .alloc(phys, size, dir as u8, |base, bytes| {
                        Some(Placement {
                            dma_base: t.own_ram_to_dma(base, bytes)?.as_u64(),
                            min_align_mask,
                            alloc_align_mask: 0,
                            boundary_mask,
                        })
                    });
                let b = match b {
                    Ok(b) => b,
                    Err(e) => {
                        if attrs & NO_WARN == 0 && e == ENOMEM {
                            t.warn_once(
                                &self.warned.pool_full,
                                format_args!(
                                    "xen_swiotlb_rs: bounce pool full ({} bytes asked)\n",
                                    size
                                ),
                            );
                        }
                        return Err(e);
                    }
                };
                let tlb_machine = xen::phys_to_machine(&KernelP2m, b.tlb);
                let dma = tlb_machine
                    .and_then(|m| map.machine_range_to_dma(m, size).ok())
                    .filter(|&d| t.limit.reachable(d, size));
                let (Some(dma), Some(tlb_machine)) = (dma, tlb_machine) else {
                    // The pool is out of this device's reach: attaching should have
                    // refused it.
                    let _ = self.pool.lock().free(b.tlb, size, dir as u8);
                    return Err(EIO);
                };
                // Always fill the bounce buffer: a device that writes only part of it
                // must not expose stale pool data to the CPU.
                self.copy(b.tlb, phys, size);
                if !skip_sync {
                    // The pool is Dom0's own RAM: cleaned by VA, which cannot fail.
                    let _ = self.sync_for_device_cache(t, b.tlb, tlb_machine, size, dir, false);
                }
                self.stats.bounced[reason_index(reason)].fetch_add(1, Ordering::Relaxed);
                Ok(dma)
            }
        }
    }

    /// The physical and machine addresses behind a handle of `t`, with the whole range
    /// translated.
    #[inline]
    fn handle_to_phys(
        &self,
        t: &Target<'_>,
        dma: DmaAddr,
        size: u64,
    ) -> Result<(PhysAddr, MachineAddr)> {
        let maddr = t
            .map
            .dma_range_to_machine(dma, size.max(1))
            .map_err(|_| EINVAL)?;
        let phys = xen::machine_to_phys(&KernelP2m, maddr).ok_or(EINVAL)?;
        Ok((phys, maddr))
    }

    /// `unmap_phys`.
    #[inline(always)]
    pub fn unmap(
        &self,
        t: &Target<'_>,
        dma: DmaAddr,
        size: u64,
        dir: Direction,
        attrs: c_ulong,
    ) -> Result {
        if attrs & MMIO != 0 {
            // Nothing was set up for it (see `map`), as in dma-direct.
            return Ok(());
        }
        let (phys, maddr) = self.handle_to_phys(t, dma, size)?;
        let skip_sync = attrs & SKIP_CPU_SYNC != 0;
        if !self.in_pool(phys) {
            if !skip_sync {
                // A handle alone does not tell whose page it is (Arm keeps no reverse
                // p2m): while any foreign page is mapped, C's `pfn_valid` rule decides.
                let foreign = KernelP2m.may_have_foreign();
                self.sync_for_cpu_cache(t, phys, maddr, size, dir, foreign);
            }
            return Ok(());
        }
        // Refused, and nothing freed, unless `phys`, `size` and `dir` are those mapped.
        // With DMA_ATTR_SKIP_CPU_SYNC the caller has synced what it needs and may have
        // written the rest of its buffer since: copying the slot back would undo that.
        if !skip_sync && dir.device_writes() {
            // The data comes back while the slots are still ours: freed first, they could
            // go to a mapping made meanwhile, whose map copies over them.
            let b = self.pool.lock().get(phys, size, dir as u8)?;
            self.sync_for_cpu_cache(t, b.tlb, maddr, size, dir, false);
            self.copy(b.orig, b.tlb, size);
        }
        self.pool.lock().free(phys, size, dir as u8)?;
        Ok(())
    }

    /// The bounce mapping holding `[phys, phys + size)`, if `phys` is in the pool: the
    /// mapping, the offset of `phys` in it, and `size` clamped to the mapping's end, with
    /// a warning, as swiotlb_bounce() does.
    fn bounce_of(
        &self,
        t: &Target<'_>,
        phys: PhysAddr,
        size: u64,
    ) -> Result<Option<(Bounce, u64, u64)>> {
        if !self.in_pool(phys) {
            return Ok(None);
        }
        let b = self.pool.lock().find(phys).ok_or(EINVAL)?;
        let off = phys.as_u64() - b.tlb.as_u64();
        let left = b.size - off;
        if size > left {
            self.stats.sync_clamped.fetch_add(1, Ordering::Relaxed);
            t.warn_once(
                &self.warned.sync_overflow,
                format_args!(
                    "xen_swiotlb_rs: sync of {} bytes runs past its mapping ({} left): clamped\n",
                    size, left
                ),
            );
        }
        Ok(Some((b, off, size.min(left))))
    }

    /// `sync_single_for_cpu`.
    pub fn sync_for_cpu(&self, t: &Target<'_>, dma: DmaAddr, size: u64, dir: Direction) -> Result {
        let (phys, maddr) = self.handle_to_phys(t, dma, size)?;
        let bounce = self.bounce_of(t, phys, size)?;
        let size = bounce.map_or(size, |(_, _, n)| n);
        let foreign = bounce.is_none() && KernelP2m.may_have_foreign();
        self.sync_for_cpu_cache(t, phys, maddr, size, dir, foreign);
        if let Some((b, off, size)) = bounce {
            if dir.device_writes() {
                self.copy(PhysAddr::new(b.orig.as_u64() + off), phys, size);
            }
        }
        Ok(())
    }

    /// `sync_single_for_device`.
    pub fn sync_for_device(
        &self,
        t: &Target<'_>,
        dma: DmaAddr,
        size: u64,
        dir: Direction,
    ) -> Result {
        let (phys, maddr) = self.handle_to_phys(t, dma, size)?;
        let bounce = self.bounce_of(t, phys, size)?;
        let size = bounce.map_or(size, |(_, _, n)| n);
        if let Some((b, off, size)) = bounce {
            if dir.device_reads() {
                self.copy(phys, PhysAddr::new(b.orig.as_u64() + off), size);
            }
        }
        let foreign = bounce.is_none() && KernelP2m.may_have_foreign();
        self.sync_for_device_cache(t, phys, maddr, size, dir, foreign)
    }

    /// Whether a device on `t`'s bus with DMA mask `mask` reaches every chunk of the
    /// bounce pool.
    pub fn reaches_pool(&self, t: &Target<'_>, mask: u64) -> bool {
        let limit = t.with_mask(mask);
        self.chunks().all(|(base, bytes)| {
            t.own_ram_to_dma(base, bytes)
                .is_some_and(|d| limit.reachable(d, bytes))
        })
    }

    /// Whether the device reaches the atomic pool through its coherent mask.
    pub fn reaches_atomic_pool(&self, t: &Target<'_>) -> bool {
        let (base, bytes) = (self.atomic_area.base(), self.atomic_area.bytes());
        t.own_ram_to_dma(base, bytes)
            .is_some_and(|d| t.coherent_limit().reachable(d, bytes))
    }

    /// `max_mapping_size`: what one bounce can hold for this device.
    pub fn max_mapping_size(&self, t: &Target<'_>) -> u64 {
        pool::max_mapping_size(t.dma_parms().0)
    }

    /// `1 << order` pages of Dom0's own RAM the device reaches in place through its
    /// coherent mask, allocated with `gfp`: first from the zones `gfp` allows, then from
    /// ZONE_DMA, which the kernel sizes for the most limited device of the platform.
    fn alloc_reachable(
        &self,
        t: &Target<'_>,
        order: u32,
        gfp: bindings::gfp_t,
    ) -> Result<(Pages, DmaAddr)> {
        let limit = t.coherent_limit();
        for gfp in [gfp, gfp | GFP_DMA] {
            let Ok(pages) = Pages::alloc(gfp, order) else {
                continue;
            };
            let (phys, bytes) = (pages.phys(), pages.bytes());
            let dma =
                match decide::plan(&KernelP2m, &t.map, &limit, phys, bytes, &Policy::default()) {
                    MapPlan::Direct(d) => Some(d.dma),
                    MapPlan::Bounce(_) => None,
                }
                .filter(|_| {
                    !xen::range_requires_alignment::<{ kernel::page::PAGE_SHIFT as u32 }>(
                        &KernelP2m, phys, bytes,
                    )
                });
            if let Some(dma) = dma {
                return Ok((pages, dma));
            }
        }
        Err(ENOMEM)
    }

    fn account(&self, order: u32, live: bool) {
        let pages = 1u64 << order;
        if live {
            self.stats.coherent.fetch_add(1, Ordering::Relaxed);
            self.stats
                .coherent_pages
                .fetch_add(pages, Ordering::Relaxed);
        } else {
            self.stats.coherent.fetch_sub(1, Ordering::Relaxed);
            self.stats
                .coherent_pages
                .fetch_sub(pages, Ordering::Relaxed);
        }
    }

    /// `alloc`: a coherent buffer the device reaches, zeroed.
    ///
    /// A caller that may not sleep (no `__GFP_DIRECT_RECLAIM`) asking for a buffer of a
    /// device that is not coherent is served from the atomic pool, whose pages were
    /// mapped uncached at load, as dma-direct serves it from its atomic pools; every
    /// other request gets fresh pages, with the caller's flags.
    pub fn alloc(
        &self,
        t: &Target<'_>,
        size: u64,
        gfp: bindings::gfp_t,
        attrs: c_ulong,
    ) -> Result<(*mut c_void, DmaAddr)> {
        let order = crate::dma::addr::get_order::<{ kernel::page::PAGE_SHIFT as u32 }>(size);
        let gfp = if attrs & NO_WARN != 0 {
            gfp | bindings::__GFP_NOWARN
        } else {
            gfp
        };
        if !t.coherent && gfp & GFP_DIRECT_RECLAIM == 0 {
            return self.alloc_atomic(t, order);
        }
        let (pages, dma) = self.alloc_reachable(t, order, gfp | bindings::__GFP_ZERO)?;
        let vaddr = if t.coherent {
            pages.address()
        } else {
            // SAFETY: `pages` is ours; the caller may sleep (checked above).
            unsafe { ffi::xrs_remap_uncached(pages.as_ptr(), order) }
        };
        if vaddr.is_null() {
            return Err(ENOMEM);
        }
        // The buffer's pages now belong to the caller, until `free`.
        let _ = pages.into_raw();
        self.account(order, true);
        Ok((vaddr, dma))
    }

    /// A zeroed, uncached buffer of `1 << order` pages from the atomic pool.
    fn alloc_atomic(&self, t: &Target<'_>, order: u32) -> Result<(*mut c_void, DmaAddr)> {
        let area = &self.atomic_area;
        let first = self.atomic.lock().alloc(order).map_err(|_| ENOMEM)?;
        let bytes = (kernel::page::PAGE_SIZE as u64) << order;
        let dma = t
            .own_ram_to_dma(area.phys(first), bytes)
            .filter(|&d| t.coherent_limit().reachable(d, bytes));
        let Some(dma) = dma else {
            let _ = self.atomic.lock().free(first, order);
            return Err(ENOMEM);
        };
        let vaddr = area.vaddr(first);
        // SAFETY: `vaddr` maps the `bytes` bytes just allocated to us.
        unsafe { ptr::write_bytes(vaddr.cast::<u8>(), 0, bytes as usize) };
        self.account(order, true);
        Ok((vaddr, dma))
    }

    /// The first page frame of a coherent buffer of [`Self::alloc`], found from its CPU
    /// address, linear or remapped, and checked against the handle given with it. The
    /// Raspberry Pi 4 bug: `virt_to_page()` of a remapped buffer names the wrong page.
    fn coherent_pfn(&self, t: &Target<'_>, vaddr: *mut c_void, dma: DmaAddr) -> Result<PagePfn> {
        let pfn = crate::dma::glue::virt::virt_to_pfn(vaddr).map_err(|_| ENXIO)?;
        let phys = pfn.phys().ok_or(ENXIO)?;
        if xen::phys_to_dma(&KernelP2m, &t.map, phys) != Ok(dma) {
            return Err(ENXIO);
        }
        Ok(pfn)
    }

    /// `get_sgtable`: the first page frame of the coherent buffer (`vaddr`, `dma`).
    pub fn sgtable_pfn(&self, t: &Target<'_>, vaddr: *mut c_void, dma: DmaAddr) -> Result<PagePfn> {
        self.coherent_pfn(t, vaddr, dma)
    }

    /// `mmap`: the first page frame of a user mapping of `user_pages` pages, `pgoff` pages
    /// into the `size`-byte coherent buffer (`vaddr`, `dma`); `ENXIO` for a mapping that
    /// runs off the buffer, as `dma_common_mmap()`.
    pub fn mmap_pfn(
        &self,
        t: &Target<'_>,
        vaddr: *mut c_void,
        dma: DmaAddr,
        size: u64,
        pgoff: u64,
        user_pages: u64,
    ) -> Result<PagePfn> {
        let first = self.coherent_pfn(t, vaddr, dma)?;
        let shift = kernel::page::PAGE_SHIFT as u32;
        let skip = coherent::mmap_window(size, shift, pgoff, user_pages).ok_or(ENXIO)?;
        // The buffer's pages are one allocation: consecutive frames.
        Ok(PagePfn::new(first.as_u64() + skip))
    }

    /// `free`: finds the pages of `vaddr`, linear, remapped or in the atomic pool, and
    /// releases them.
    ///
    /// # Safety
    ///
    /// `vaddr` and `dma` were returned together by [`Self::alloc`] for `size` bytes and
    /// are not used after this call.
    pub unsafe fn free(
        &self,
        t: &Target<'_>,
        size: u64,
        vaddr: *mut c_void,
        dma: DmaAddr,
    ) -> Result {
        let order = crate::dma::addr::get_order::<{ kernel::page::PAGE_SHIFT as u32 }>(size);
        let pfn = self.coherent_pfn(t, vaddr, dma).map_err(|_| EINVAL)?;
        let layout = crate::dma::glue::virt::layout();
        // A KASAN or MTE tag in the pointer's top byte is not part of the address.
        let untagged = layout.untag(vaddr as usize);
        if let Some(first) = self.atomic_area.page_of(untagged) {
            self.atomic.lock().free(first, order).map_err(|_| EINVAL)?;
            self.account(order, false);
            return Ok(());
        }
        if layout.classify(untagged) == Some(crate::dma::virt::VirtKind::Vmalloc) {
            // SAFETY: the address came from our uncached vmap of these pages.
            unsafe { crate::dma::glue::ffi::xrs_vunmap(untagged as *const c_void) };
        }
        // SAFETY: the page frame found above (and checked against the handle) is the first
        // of the pages `alloc` gave away with this order.
        let pages = unsafe {
            Pages::from_raw(
                ptr::NonNull::new(crate::dma::glue::ffi::xrs_pfn_to_page(
                    pfn.as_u64() as c_ulong
                ))
                .ok_or(EINVAL)?,
                order,
            )
        };
        drop(pages);
        self.account(order, false);
        Ok(())
    }

    /// `alloc_pages_op` (`dma_alloc_pages`, `dma_alloc_noncoherent`): zeroed pages the
    /// device reaches in place, in the kernel's linear map, for the caller to sync.
    pub fn alloc_pages(
        &self,
        t: &Target<'_>,
        size: u64,
        gfp: bindings::gfp_t,
    ) -> Result<(*mut bindings::page, DmaAddr)> {
        let order = crate::dma::addr::get_order::<{ kernel::page::PAGE_SHIFT as u32 }>(size);
        let (pages, dma) = self.alloc_reachable(t, order, gfp | bindings::__GFP_ZERO)?;
        self.account(order, true);
        Ok((pages.into_raw().as_ptr(), dma))
    }

    /// `free_pages`: releases pages of [`Self::alloc_pages`].
    ///
    /// # Safety
    ///
    /// `page` and `dma` were returned together by [`Self::alloc_pages`] for `size` bytes
    /// and are not used after this call.
    pub unsafe fn free_pages(
        &self,
        t: &Target<'_>,
        size: u64,
        page: *mut bindings::page,
        dma: DmaAddr,
    ) -> Result {
        let order = crate::dma::addr::get_order::<{ kernel::page::PAGE_SHIFT as u32 }>(size);
        let page = ptr::NonNull::new(page).ok_or(EINVAL)?;
        // SAFETY: `page` is live (function requirement).
        let phys = PhysAddr::new(unsafe { crate::dma::glue::ffi::xrs_page_to_phys(page.as_ptr()) });
        if xen::phys_to_dma(&KernelP2m, &t.map, phys) != Ok(dma) {
            return Err(EINVAL);
        }
        // SAFETY: the pages `alloc_pages` gave away with this order (function requirement,
        // and the handle matches).
        drop(unsafe { Pages::from_raw(page, order) });
        self.account(order, false);
        Ok(())
    }
}

/// Runs `f` with the instance and the device of a C call; counts a failure on error.
#[inline(always)]
fn with<R>(
    dev: *mut bindings::device,
    f: impl FnOnce(&Swiotlb, &Target<'_>) -> Result<R>,
) -> Result<R> {
    let s = Swiotlb::get().ok_or(ENODEV)?;
    // SAFETY: the kernel calls DMA ops only for a device whose DMA is configured.
    match unsafe { Target::new(dev) }.and_then(|t| f(s, &t)) {
        Ok(r) => Ok(r),
        Err(e) => s.fail(e),
    }
}

/// C entry: `map_phys`. The C caller holds a module reference for the mapping, which
/// stays with it on success.
#[no_mangle]
pub extern "C" fn xrs_swiotlb_map_phys(
    dev: *mut bindings::device,
    phys: u64,
    size: usize,
    dir: bindings::dma_data_direction,
    attrs: c_ulong,
) -> u64 {
    let r = with(dev, |s, t| {
        let dir = Direction::from_raw(dir).ok_or(EINVAL)?;
        s.map(t, PhysAddr::new(phys), size as u64, dir, attrs)
    });
    r.unwrap_or(DmaAddr::MAPPING_ERROR).as_u64()
}

/// C entry: `unmap_phys`. True when a live mapping was released: the C caller then
/// drops its module reference.
#[no_mangle]
pub extern "C" fn xrs_swiotlb_unmap_phys(
    dev: *mut bindings::device,
    dma: u64,
    size: usize,
    dir: bindings::dma_data_direction,
    attrs: c_ulong,
) -> bool {
    with(dev, |s, t| {
        let dir = Direction::from_raw(dir).ok_or(EINVAL)?;
        s.unmap(t, DmaAddr::new(dma), size as u64, dir, attrs)
    })
    .is_ok()
}

/// C entry: `sync_single_for_cpu`.
#[no_mangle]
pub extern "C" fn xrs_swiotlb_sync_for_cpu(
    dev: *mut bindings::device,
    dma: u64,
    size: usize,
    dir: bindings::dma_data_direction,
) {
    let _ = with(dev, |s, t| {
        let dir = Direction::from_raw(dir).ok_or(EINVAL)?;
        s.sync_for_cpu(t, DmaAddr::new(dma), size as u64, dir)
    });
}

/// C entry: `sync_single_for_device`.
#[no_mangle]
pub extern "C" fn xrs_swiotlb_sync_for_device(
    dev: *mut bindings::device,
    dma: u64,
    size: usize,
    dir: bindings::dma_data_direction,
) {
    let _ = with(dev, |s, t| {
        let dir = Direction::from_raw(dir).ok_or(EINVAL)?;
        s.sync_for_device(t, DmaAddr::new(dma), size as u64, dir)
    });
}

/// C entry: `dma_supported`: whether a device with `mask` reaches the bounce pool.
#[no_mangle]
pub extern "C" fn xrs_swiotlb_dma_supported(dev: *mut bindings::device, mask: u64) -> i32 {
    i32::from(with(dev, |s, t| Ok(s.reaches_pool(t, mask))).unwrap_or(false))
}

/// C entry: `max_mapping_size`: what one bounce can hold for the device.
#[no_mangle]
pub extern "C" fn xrs_swiotlb_max_mapping_size(dev: *mut bindings::device) -> usize {
    with(dev, |s, t| Ok(s.max_mapping_size(t))).unwrap_or(0) as usize
}

/// C entry: `alloc`. The C caller's module reference stays with a successful
/// allocation.
///
/// # Safety
///
/// Called by the DMA API: `dma` is a valid out-pointer.
#[no_mangle]
pub unsafe extern "C" fn xrs_swiotlb_alloc(
    dev: *mut bindings::device,
    size: usize,
    dma: *mut u64,
    gfp: bindings::gfp_t,
    attrs: c_ulong,
) -> *mut c_void {
    match with(dev, |s, t| s.alloc(t, size as u64, gfp, attrs)) {
        Ok((vaddr, handle)) => {
            // SAFETY: `dma` is the caller's out-parameter.
            unsafe { *dma = handle.as_u64() };
            vaddr
        }
        Err(_) => ptr::null_mut(),
    }
}

/// C entry: `free`. True when the buffer was ours and is released: the C caller then
/// drops the allocation's module reference.
///
/// # Safety
///
/// Called by the DMA API with a buffer our `alloc` returned for `dev`.
#[no_mangle]
pub unsafe extern "C" fn xrs_swiotlb_free(
    dev: *mut bindings::device,
    size: usize,
    vaddr: *mut c_void,
    dma: u64,
    _attrs: c_ulong,
) -> bool {
    // SAFETY: the DMA API passes back what our `alloc` returned (function requirement).
    with(dev, |s, t| unsafe {
        s.free(t, size as u64, vaddr, DmaAddr::new(dma))
    })
    .is_ok()
}

/// C entry: `alloc_pages_op`. The C caller's module reference stays with a successful
/// allocation.
///
/// # Safety
///
/// Called by the DMA API: `dma` is a valid out-pointer.
#[no_mangle]
pub unsafe extern "C" fn xrs_swiotlb_alloc_pages(
    dev: *mut bindings::device,
    size: usize,
    dma: *mut u64,
    dir: bindings::dma_data_direction,
    gfp: bindings::gfp_t,
) -> *mut bindings::page {
    let r = with(dev, |s, t| {
        Direction::from_raw(dir).ok_or(EINVAL)?;
        s.alloc_pages(t, size as u64, gfp)
    });
    match r {
        Ok((page, handle)) => {
            // SAFETY: `dma` is the caller's out-parameter.
            unsafe { *dma = handle.as_u64() };
            page
        }
        Err(_) => ptr::null_mut(),
    }
}

/// C entry: `free_pages`. True when the pages were ours and are released: the C caller
/// then drops the allocation's module reference.
///
/// # Safety
///
/// Called by the DMA API with pages our `alloc_pages_op` returned for `dev`.
#[no_mangle]
pub unsafe extern "C" fn xrs_swiotlb_free_pages(
    dev: *mut bindings::device,
    size: usize,
    page: *mut bindings::page,
    dma: u64,
    _dir: bindings::dma_data_direction,
) -> bool {
    // SAFETY: the DMA API passes back what our `alloc_pages_op` returned (function
    // requirement).
    with(dev, |s, t| unsafe {
        s.free_pages(t, size as u64, page, DmaAddr::new(dma))
    })
    .is_ok()
}

/// C entry for `get_sgtable`: the first page frame of a coherent buffer of ours, into
/// `pfn`; 0 or a negative errno (`ENXIO` for a buffer that is not ours).
///
/// # Safety
///
/// `pfn` is a valid out-pointer.
#[no_mangle]
pub unsafe extern "C" fn xrs_swiotlb_sgtable_pfn(
    dev: *mut bindings::device,
    vaddr: *mut c_void,
    dma: u64,
    pfn: *mut c_ulong,
) -> c_int {
    let r = with(dev, |s, t| s.sgtable_pfn(t, vaddr, DmaAddr::new(dma)));
    // SAFETY: the caller's out-parameter (function requirement).
    unsafe { pfn_out(r, pfn) }
}

/// C entry for `mmap`: the first page frame to map for a user mapping of `user_pages`
/// pages at `pgoff` pages into a `size`-byte coherent buffer of ours; 0 or a negative
/// errno.
///
/// # Safety
///
/// `pfn` is a valid out-pointer.
#[no_mangle]
pub unsafe extern "C" fn xrs_swiotlb_mmap_pfn(
    dev: *mut bindings::device,
    vaddr: *mut c_void,
    dma: u64,
    size: usize,
    pgoff: c_ulong,
    user_pages: c_ulong,
    pfn: *mut c_ulong,
) -> c_int {
    let r = with(dev, |s, t| {
        s.mmap_pfn(
            t,
            vaddr,
            DmaAddr::new(dma),
            size as u64,
            pgoff as u64,
            user_pages as u64,
        )
    });
    // SAFETY: the caller's out-parameter (function requirement).
    unsafe { pfn_out(r, pfn) }
}

/// A page frame into the C caller's `pfn`, or the error as a negative errno.
///
/// # Safety
///
/// `pfn` is a valid out-pointer.
unsafe fn pfn_out(r: Result<PagePfn>, pfn: *mut c_ulong) -> c_int {
    match r {
        Ok(p) => {
            // SAFETY: per this function's requirements.
            unsafe { *pfn = p.as_u64() as c_ulong };
            0
        }
        Err(e) => e.to_errno(),
    }
}
