// SPDX-License-Identifier: GPL-2.0

//! The bounce decision of swiotlb-xen's map path, with the address translation explicit.
//!
//! A buffer goes to the device in place when the device can reach its bus address (after
//! the p2m and the bus's `dma-ranges`), the buffer does not cross onto a non-contiguous
//! machine frame, and bouncing is not forced. Two more cases bounce, decided by the
//! caller from facts about the device and the hypervisor ([`Policy`]): a page granted by
//! another domain when the device is not cache coherent and Xen offers no cache-flush
//! hypercall (Arm's `xen_arch_need_swiotlb`), and a small kmalloc buffer for a
//! non-coherent device (`dma_kmalloc_needs_bounce`). Otherwise the buffer is copied
//! through the bounce pool, and the reason is recorded.

use crate::dma::addr::{
    DmaAddr,     //
    MachineAddr, //
    PhysAddr,    //
};
use crate::dma::ranges::{
    DmaLimit,    //
    DmaRangeMap, //
};
use crate::dma::xen::{
    self, //
    P2m,  //
};

/// Why a mapping is bounced.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BounceReason {
    /// Bouncing is forced for the device (`swiotlb=force`, or the module parameter).
    Forced,
    /// The buffer's bus address is outside the device's `dma-ranges`, mask or bus limit.
    Unreachable,
    /// The buffer crosses a Xen page boundary onto a machine frame that does not follow.
    Straddles,
    /// A page granted by another domain, for a non-coherent device, without Xen's
    /// cache-flush hypercall to keep caches right in place.
    Foreign,
    /// A kmalloc buffer smaller than a cache line's worth of alignment, for a
    /// non-coherent device.
    SmallKmalloc,
}

/// Facts the caller knows about this mapping that the addresses do not tell.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Policy {
    /// Bounce everything (`swiotlb=force` or the module's parameter).
    pub force: bool,
    /// A foreign page must bounce: the device is not coherent and Xen has no
    /// `GNTTABOP_cache_flush`.
    pub foreign_needs_bounce: bool,
    /// `dma_kmalloc_needs_bounce()` said yes.
    pub small_kmalloc: bool,
}

/// A buffer the device takes where it is, with what the lookups found on the way.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct InPlace {
    /// The bus address to give the device.
    pub dma: DmaAddr,
    /// The machine address of the buffer's first byte, for cache maintenance.
    pub machine: MachineAddr,
    /// The page belongs to another domain: the p2m names another machine frame for it.
    pub foreign: bool,
}

/// The outcome of the map-time decision.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MapPlan {
    /// Give the device the bus address; the buffer stays where it is.
    Direct(InPlace),
    /// Copy through the bounce pool.
    Bounce(BounceReason),
}

/// Decides how to map `[phys, phys + len)` for a device on `map` that can reach `limit`.
///
/// Reasons are checked in a fixed order (forced, small kmalloc, foreign, straddle,
/// reachability) so that the statistics name the most specific one; C tests the same
/// conditions, only in another order, so the choice between direct and bounce is the
/// same.
#[inline(always)]
pub fn plan(
    p2m: &impl P2m,
    map: &DmaRangeMap<'_>,
    limit: &DmaLimit,
    phys: PhysAddr,
    len: u64,
    policy: &Policy,
) -> MapPlan {
    if policy.force {
        return MapPlan::Bounce(BounceReason::Forced);
    }
    if policy.small_kmalloc {
        return MapPlan::Bounce(BounceReason::SmallKmalloc);
    }
    // One p2m lookup serves the foreign check, the straddle check and the translation. A
    // Linux page is never part local, part foreign: the first Xen frame tells.
    let bfn = p2m.pfn_to_bfn(phys.xen_pfn());
    let foreign = bfn.as_u64() != phys.xen_pfn().as_u64();
    if foreign && policy.foreign_needs_bounce {
        return MapPlan::Bounce(BounceReason::Foreign);
    }
    if xen::range_straddles_from(p2m, phys, len, bfn) {
        return MapPlan::Bounce(BounceReason::Straddles);
    }
    let Some(maddr) = bfn.machine(phys.xen_page_offset()) else {
        return MapPlan::Bounce(BounceReason::Unreachable);
    };
    match map.machine_range_to_dma(maddr, len) {
        Ok(dma) if limit.reachable(dma, len) => MapPlan::Direct(InPlace {
            dma,
            machine: maddr,
            foreign,
        }),
        _ => MapPlan::Bounce(BounceReason::Unreachable),
    }
}
