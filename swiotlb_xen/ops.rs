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

use kernel::bindings;
use kernel::dma::DataDirection;
use kernel::ffi::{
    c_ulong, //
    c_void,  //
};
use kernel::prelude::*;
use kernel::sync::atomic::{
    Acquire, //
    Atomic,  //
    Relaxed, //
    Release, //
};
use kernel::sync::{
    new_spinlock_irq, //
    rcu,              //
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
use crate::dma::virt::VirtLayout;
use crate::dma::xen::{
    self, //
    P2m,  //
};
use ::xen::hypercall::grant_table;

use crate::cache;
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

/// Whether the device writes: data must come back to the CPU.
#[inline(always)]
fn device_writes(dir: DataDirection) -> bool {
    dir != DataDirection::ToDevice
}

/// Whether the device reads: data must go to the device.
#[inline(always)]
fn device_reads(dir: DataDirection) -> bool {
    dir != DataDirection::FromDevice
}

/// The tag a bounce keeps of the direction it was mapped with: an unmap or sync must
/// name the same.
#[inline(always)]
fn tag(dir: DataDirection) -> u8 {
    dir as u32 as u8
}

/// Counters shown in debugfs.
pub struct Stats {
    /// Mappings given to a device in place.
    pub direct: Atomic<u64>,
    /// Mappings bounced, by [`BounceReason`] (forced, unreachable, straddles, foreign,
    /// small kmalloc).
    pub bounced: [Atomic<u64>; 5],
    /// Bytes copied into or out of the pool.
    pub bounced_bytes: Atomic<u64>,
    /// Calls refused: bad direction, untranslatable handle, exhausted pool, unknown or
    /// mismatched unmap, failed cache maintenance.
    pub failures: Atomic<u64>,
    /// Coherent and non-coherent allocations handed out and not yet freed.
    pub coherent: Atomic<u64>,
    /// Pages those allocations hold.
    pub coherent_pages: Atomic<u64>,
    /// `GNTTABOP_cache_flush` entries Xen refused.
    pub cache_flush_failed: Atomic<u64>,
    /// Partial syncs that ran past their mapping, clamped to it.
    pub sync_clamped: Atomic<u64>,
}

impl Stats {
    const fn new() -> Self {
        Self {
            direct: Atomic::new(0),
            bounced: [const { Atomic::new(0) }; 5],
            bounced_bytes: Atomic::new(0),
            failures: Atomic::new(0),
            coherent: Atomic::new(0),
            coherent_pages: Atomic::new(0),
            cache_flush_failed: Atomic::new(0),
            sync_clamped: Atomic::new(0),
        }
    }
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

/// `dma_kmalloc_size_aligned()` answers true from `2 * ARCH_DMA_MINALIGN` bytes up: no
/// larger buffer is a small kmalloc one that needs a bounce, and the map path does not
/// ask.
const KMALLOC_BOUNCE_BELOW: u64 = 2 * bindings::ARCH_DMA_MINALIGN as u64;

/// The `DMA_ATTR_*` bits a DMA operation receives.
///
/// The kernel crate's [`kernel::dma::Attrs`] is built by drivers, not decoded from what
/// the DMA API passes an implementation, and lacks `DMA_ATTR_REQUIRE_COHERENT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct MapAttrs(pub c_ulong);

impl MapAttrs {
    #[inline(always)]
    fn has(self, bit: u32) -> bool {
        self.0 & bit as c_ulong != 0
    }

    /// `DMA_ATTR_SKIP_CPU_SYNC`: the caller syncs; no cache maintenance, no copy.
    #[inline(always)]
    pub fn skip_cpu_sync(self) -> bool {
        self.has(bindings::DMA_ATTR_SKIP_CPU_SYNC)
    }

    /// `DMA_ATTR_MMIO`: the address is MMIO, not RAM.
    #[inline(always)]
    pub fn mmio(self) -> bool {
        self.has(bindings::DMA_ATTR_MMIO)
    }

    /// `DMA_ATTR_REQUIRE_COHERENT`: fail rather than bounce.
    #[inline(always)]
    pub fn require_coherent(self) -> bool {
        self.has(bindings::DMA_ATTR_REQUIRE_COHERENT)
    }

    /// `DMA_ATTR_NO_WARN`: no warning when the mapping fails.
    #[inline(always)]
    pub fn no_warn(self) -> bool {
        self.has(bindings::DMA_ATTR_NO_WARN)
    }
}

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
        unsafe { Self::new_inner(dev, true) }
    }

    /// [`Target::new`]; `*dev->dma_mask` is read only if `read_mask` (else the mask is 0).
    ///
    /// # Safety
    ///
    /// As for [`Target::new`].
    #[inline(always)]
    unsafe fn new_inner(dev: *mut bindings::device, read_mask: bool) -> Result<Self> {
        // SAFETY: per this function's requirements.
        let map = unsafe { DeviceRanges::borrow(dev) }?;
        let mask = if read_mask {
            // SAFETY: `dev` is live; `dma_mask` is NULL or points at the device's mask.
            unsafe { (*dev).dma_mask.as_ref() }.copied().unwrap_or(0)
        } else {
            0
        };
        // SAFETY: `dev` is live.
        let bus_limit = unsafe { (*dev).bus_dma_limit };
        // The flags word is changed with atomic bit operations: read it atomically, as
        // test_bit() does.
        // SAFETY: `dev` is live; the word is aligned, and every writer changes it with
        // atomic bit operations.
        let flags = unsafe { Atomic::<c_ulong>::from_ptr(ptr::addr_of_mut!((*dev).flags[0])) }
            .load(Relaxed);
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

    /// As [`Target::new`], with the device's coherent mask (`dev->coherent_dma_mask`) in
    /// place of `*dev->dma_mask`: for a device no driver is bound to, whose `dma_mask`
    /// pointer the last driver may have left dangling.
    ///
    /// # Safety
    ///
    /// As for [`Target::new`].
    pub unsafe fn with_coherent_mask(dev: *mut bindings::device) -> Result<Self> {
        // SAFETY: per this function's requirements.
        let mut t = unsafe { Self::new_inner(dev, false) }?;
        // SAFETY: `dev` is live.
        t.limit.mask = unsafe { (*dev).coherent_dma_mask };
        Ok(t)
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
    fn warn_once(&self, flag: &Atomic<bool>, args: core::fmt::Arguments<'_>) {
        if !flag.xchg(true, Relaxed) {
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
struct Warned {
    sync_overflow: Atomic<bool>,
    cache_flush: Atomic<bool>,
    pool_full: Atomic<bool>,
}

impl Warned {
    const fn new() -> Self {
        Self {
            sync_overflow: Atomic::new(false),
            cache_flush: Atomic::new(false),
            pool_full: Atomic::new(false),
        }
    }
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
    line: cache::Line,
    /// The kernel's linear map; every chunk of `memory` lies in it.
    layout: VirtLayout,
    cflush: bool,
    force: Atomic<bool>,
    warned: Warned,
    /// The counters.
    pub stats: Stats,
}

/// The instance the C entry points use; null when the module is not serving.
static INSTANCE: Atomic<*mut Swiotlb> = Atomic::new(ptr::null_mut());

impl Swiotlb {
    /// A pool over the chunks of `memory`, an atomic pool over `atomic_area`, cache
    /// maintenance by lines of `line`; `force` bounces every mapping.
    pub fn new(
        memory: KVec<PoolMemory>,
        atomic_area: AtomicArea,
        line: cache::Line,
        force: bool,
    ) -> Result<impl PinInit<Self, Error>> {
        let mut pools = KVec::with_capacity(memory.len(), GFP_KERNEL)?;
        let layout = crate::dma::glue::virt::layout();
        for chunk in memory.iter() {
            // INVARIANT: the pool is in the linear map, where the CPU copies through it.
            let (first, last) = (
                chunk.base(),
                PhysAddr::new(chunk.base().as_u64() + chunk.bytes() - 1),
            );
            if layout.phys_to_linear(first).is_none() || layout.phys_to_linear(last).is_none() {
                return Err(EINVAL);
            }
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
        let cflush = grant_table::has_cache_flush();
        Ok(try_pin_init!(Self {
            pool <- new_spinlock_irq!(pool, "xen_swiotlb_rs_pool"),
            memory,
            atomic <- new_spinlock_irq!(atomic, "xen_swiotlb_rs_atomic"),
            atomic_area,
            line,
            layout,
            cflush,
            force: Atomic::new(force),
            warned: Warned::new(),
            stats: Stats::new(),
        }))
    }

    /// Makes `this` the instance behind the ops table.
    ///
    /// # Safety
    ///
    /// `this` stays valid until [`Self::unpublish`] has returned.
    pub unsafe fn publish(this: &Self) {
        INSTANCE.store(ptr::from_ref(this).cast_mut(), Release);
    }

    /// Stops serving: after this returns no entry point uses the instance. The caller
    /// must have restored every attached device's ops first.
    pub fn unpublish() {
        INSTANCE.store(ptr::null_mut(), Release);
        // Waits for entry points that loaded the pointer (they run under RCU).
        rcu::synchronize_rcu();
    }

    /// Bounces every mapping from now on, or stops doing so.
    pub fn set_force(&self, force: bool) {
        self.force.store(force, Relaxed);
    }

    /// Whether every mapping bounces.
    pub fn forced(&self) -> bool {
        self.force.load(Relaxed)
    }

    /// Whether Xen's cache-flush hypercall is there (foreign pages need no bounce then).
    pub fn has_cache_flush(&self) -> bool {
        self.cflush
    }

    /// The published instance.
    #[inline(always)]
    pub fn get<'a>() -> Option<&'a Self> {
        let p = INSTANCE.load(Acquire);
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

    pub(crate) fn fail<T>(&self, e: Error) -> Result<T> {
        self.stats.failures.add(1, Relaxed);
        Err(e)
    }

    /// `GNTTABOP_cache_flush` over `[maddr, maddr + size)`, one Xen page an entry; every
    /// entry is tried, the first refusal is the result.
    pub fn xen_cache_flush(&self, maddr: MachineAddr, size: u64, op: u32) -> Result {
        let mut result = Ok(());
        for e in cache_flush::per_xen_page(maddr, size) {
            let r = grant_table::cache_flush(&grant_table::CacheFlush {
                dev_bus_addr: e.page.as_u64(),
                offset: e.offset,
                length: e.length,
                op,
            });
            if let Err(e) = r {
                self.stats.cache_flush_failed.add(1, Relaxed);
                if result.is_ok() {
                    result = Err(e);
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
        dir: DataDirection,
    ) -> Result {
        // SAFETY: a query on a frame number.
        let local = unsafe {
            ::xen::ffi::pfn_valid((maddr.as_u64() >> kernel::page::PAGE_SHIFT) as c_ulong)
        };
        if local {
            let va = self.va(phys)?;
            if for_device {
                cache::for_device(self.line, va, size, dir);
            } else {
                cache::for_cpu(self.line, va, size, dir);
            }
            return Ok(());
        }
        // Clean before the device reads; invalidate before the CPU reads what it wrote
        // (and before it writes, so that no dirty line is evicted over its data).
        let op = match (for_device, dir) {
            (true, DataDirection::FromDevice) => {
                grant_table::CACHE_CLEAN | grant_table::CACHE_INVAL
            }
            (true, _) => grant_table::CACHE_CLEAN,
            (false, _) => grant_table::CACHE_INVAL,
        };
        self.xen_cache_flush(maddr, size, op)
    }

    /// Cache maintenance before the device touches `[phys, phys + size)`, held in machine
    /// memory at `maddr`. With `foreign`, the page may belong to another domain (see
    /// [`Self::foreign_cache`]). Otherwise the page is Dom0's own RAM: by VA.
    #[inline(always)]
    fn sync_for_device_cache(
        &self,
        t: &Target<'_>,
        phys: PhysAddr,
        maddr: MachineAddr,
        size: u64,
        dir: DataDirection,
        foreign: bool,
    ) -> Result {
        if t.coherent {
            return Ok(());
        }
        if foreign {
            return self.foreign_cache(phys, maddr, size, true, dir);
        }
        cache::for_device(self.line, self.va(phys)?, size, dir);
        Ok(())
    }

    /// Cache maintenance before the CPU reads what the device wrote; `foreign` as in
    /// [`Self::sync_for_device_cache`]. A failure cannot fail the call (it returns
    /// nothing): it is counted and reported once.
    #[inline(always)]
    fn sync_for_cpu_cache(
        &self,
        t: &Target<'_>,
        phys: PhysAddr,
        maddr: MachineAddr,
        size: u64,
        dir: DataDirection,
        foreign: bool,
    ) {
        if t.coherent || !device_writes(dir) {
            return;
        }
        let r = if foreign {
            self.foreign_cache(phys, maddr, size, false, dir)
        } else {
            self.va(phys)
                .map(|va| cache::for_cpu(self.line, va, size, dir))
        };
        if let Err(e) = r {
            let _ = self.fail::<()>(e);
            t.warn_once(
                &self.warned.cache_flush,
                format_args!(
                    "xen_swiotlb_rs: no cache maintenance of {:#x}+{:#x} ({:?}): the CPU may read stale data\n",
                    maddr.as_u64(),
                    size,
                    e
                ),
            );
        }
    }

    /// The linear-map address of `phys`, which must be Dom0's own RAM there; `EINVAL`
    /// for memory outside the linear map (reserved `no-map` memory, say), which the CPU
    /// cannot copy or clean by address.
    #[inline(always)]
    fn va(&self, phys: PhysAddr) -> Result<usize> {
        self.layout.phys_to_linear(phys).ok_or(EINVAL)
    }

    /// Copies between a bounce's slots and its original buffer, both known to be in the
    /// linear map: the pool was checked when it was allocated (a type invariant), the
    /// original when it was mapped.
    #[inline(always)]
    fn copy(&self, dst: PhysAddr, src: PhysAddr, size: u64) {
        let (dst, src) = (
            self.layout.phys_to_linear_unchecked(dst),
            self.layout.phys_to_linear_unchecked(src),
        );
        // SAFETY: both ranges are local RAM of a live mapping in the linear map (see
        // above): the original buffer, which the caller owns for the mapping's lifetime,
        // and our pool slots, which the bounce holds; a bounce never overlaps its original.
        unsafe { ptr::copy_nonoverlapping(src as *const u8, dst as *mut u8, size as usize) };
        self.stats.bounced_bytes.add(size, Relaxed);
    }

    /// `map_phys`: the bus address for `[phys, phys + size)`.
    #[inline(always)]
    pub fn map(
        &self,
        t: &Target<'_>,
        phys: PhysAddr,
        size: u64,
        dir: DataDirection,
        attrs: MapAttrs,
    ) -> Result<DmaAddr> {
        if attrs.mmio() {
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
        // DMA_TO_DEVICE, dma_kmalloc_size_aligned() for large buffers: only ask for the
        // other cases.
        // SAFETY: `t.dev` is live.
        let small_kmalloc = !t.coherent
            && dir != DataDirection::ToDevice
            && size < KMALLOC_BOUNCE_BELOW
            && unsafe { ::xen::ffi::dma_kmalloc_needs_bounce(t.dev, size as usize, dir.into()) };
        let policy = Policy {
            force: self.force.load(Relaxed),
            foreign_needs_bounce: !self.cflush && !t.coherent,
            small_kmalloc,
        };
        let map = t.map;
        let skip_sync = attrs.skip_cpu_sync();
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
                self.stats.direct.add(1, Relaxed);
                Ok(dma)
            }
            MapPlan::Bounce(reason) => {
                if attrs.require_coherent() {
                    return Err(EIO);
                }
                // The CPU copies the buffer: it must be in the linear map.
                self.va(phys)?;
                let (min_align_mask, boundary_mask) = t.dma_parms();
                let b = self.pool.lock().alloc(phys, size, tag(dir), |base, bytes| {
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
                        if !attrs.no_warn() && e == ENOMEM {
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
                    let _ = self.pool.lock().free(b.tlb, size, tag(dir));
                    return Err(EIO);
                };
                // Always fill the bounce buffer: a device that writes only part of it
                // must not expose stale pool data to the CPU.
                self.copy(b.tlb, phys, size);
                if !skip_sync {
                    // The pool is Dom0's own RAM: cleaned by VA, which cannot fail.
                    let _ = self.sync_for_device_cache(t, b.tlb, tlb_machine, size, dir, false);
                }
                self.stats.bounced[reason_index(reason)].add(1, Relaxed);
                Ok(dma)
            }
        }
    }

    /// The physical and machine addresses behind a handle of `t`, with the whole range
    /// translated.
    #[inline(always)]
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
        dir: DataDirection,
        attrs: MapAttrs,
    ) -> Result {
        if attrs.mmio() {
            // Nothing was set up for it (see `map`), as in dma-direct.
            return Ok(());
        }
        let (phys, maddr) = self.handle_to_phys(t, dma, size)?;
        let skip_sync = attrs.skip_cpu_sync();
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
        if !skip_sync && device_writes(dir) {
            // The data comes back while the slots are still ours: freed first, they could
            // go to a mapping made meanwhile, whose map copies over them.
            let b = self.pool.lock().get(phys, size, tag(dir))?;
            self.sync_for_cpu_cache(t, b.tlb, maddr, size, dir, false);
            self.copy(b.orig, b.tlb, size);
        }
        self.pool.lock().free(phys, size, tag(dir))?;
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
            self.stats.sync_clamped.add(1, Relaxed);
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
    pub fn sync_for_cpu(
        &self,
        t: &Target<'_>,
        dma: DmaAddr,
        size: u64,
        dir: DataDirection,
    ) -> Result {
        let (phys, maddr) = self.handle_to_phys(t, dma, size)?;
        let bounce = self.bounce_of(t, phys, size)?;
        let size = bounce.map_or(size, |(_, _, n)| n);
        let foreign = bounce.is_none() && KernelP2m.may_have_foreign();
        self.sync_for_cpu_cache(t, phys, maddr, size, dir, foreign);
        if let Some((b, off, size)) = bounce {
            if device_writes(dir) {
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
        dir: DataDirection,
    ) -> Result {
        let (phys, maddr) = self.handle_to_phys(t, dma, size)?;
        let bounce = self.bounce_of(t, phys, size)?;
        let size = bounce.map_or(size, |(_, _, n)| n);
        if let Some((b, off, size)) = bounce {
            if device_reads(dir) {
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
            self.stats.coherent.add(1, Relaxed);
            self.stats.coherent_pages.add(pages, Relaxed);
        } else {
            self.stats.coherent.fetch_sub(1, Relaxed);
            self.stats.coherent_pages.fetch_sub(pages, Relaxed);
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
        attrs: MapAttrs,
    ) -> Result<(*mut c_void, DmaAddr)> {
        let order = crate::dma::addr::get_order::<{ kernel::page::PAGE_SHIFT as u32 }>(size);
        let gfp = if attrs.no_warn() {
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
            // The caller may sleep (checked above).
            crate::memory::remap_uncached(&pages, self.line)?
        };
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
            unsafe { ::xen::ffi::vunmap(untagged as *const c_void) };
        }
        // SAFETY: the page frame found above (and checked against the handle) is the first
        // of the pages `alloc` gave away with this order.
        let pages = unsafe {
            Pages::from_raw(
                ptr::NonNull::new(::xen::ffi::pfn_to_page(pfn.as_u64() as c_ulong))
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
        let phys = PhysAddr::new(unsafe { ::xen::ffi::page_to_phys(page.as_ptr()) });
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
