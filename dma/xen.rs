// SPDX-License-Identifier: GPL-2.0

//! Xen's frame translation and the address checks of swiotlb-xen.
//!
//! A Xen guest's pseudo-physical frames ([`XenPfn`]) are backed by machine frames
//! ([`Bfn`]) through the p2m. An Arm Dom0 maps its own RAM 1:1, so the p2m it keeps in
//! Linux only records the exceptions: pages of other domains mapped through grants. Going
//! from a physical address to what a device must be given therefore takes two named
//! steps, the p2m and then the device's `dma-ranges`:
//!
//! ```text
//! PhysAddr --p2m--> MachineAddr --dma-ranges--> DmaAddr
//! ```
//!
//! The Raspberry Pi 4 broke Linux because the second step used to be skipped.

use super::addr::{
    get_order,   //
    Bfn,         //
    DmaAddr,     //
    MachineAddr, //
    PhysAddr,    //
    XenPfn,      //
};
use super::ranges::{
    DmaRangeMap, //
    RangeError,  //
};

/// A guest's pseudo-physical to machine frame mapping.
pub trait P2m {
    /// The machine frame backing `pfn` (`pfn_to_bfn`).
    fn pfn_to_bfn(&self, pfn: XenPfn) -> Bfn;

    /// The pseudo-physical frame for machine frame `bfn` (`bfn_to_pfn`).
    ///
    /// On Arm this is the identity: Linux keeps no reverse map, and the only frames a Dom0
    /// sees on its buses are its own, which are mapped 1:1.
    fn bfn_to_pfn(&self, bfn: Bfn) -> XenPfn;

    /// Whether any frame may be mapped from another domain. While this is false every
    /// frame is its own machine frame. The default, yes, is always safe.
    fn may_have_foreign(&self) -> bool {
        true
    }

    /// [`Self::pfn_to_bfn`] for a caller that found [`Self::may_have_foreign`] true just
    /// before: the lookup without asking that again, for loops over many frames.
    fn lookup(&self, pfn: XenPfn) -> Bfn {
        self.pfn_to_bfn(pfn)
    }
}

/// The p2m of a domain whose frames all sit at their own machine address: a kernel not
/// running on Xen, or an Arm Dom0 before it maps any foreign page.
#[derive(Clone, Copy, Debug, Default)]
pub struct Identity;

impl P2m for Identity {
    fn pfn_to_bfn(&self, pfn: XenPfn) -> Bfn {
        Bfn::new(pfn.as_u64())
    }

    fn bfn_to_pfn(&self, bfn: Bfn) -> XenPfn {
        XenPfn::new(bfn.as_u64())
    }

    fn may_have_foreign(&self) -> bool {
        false
    }
}

/// The machine address of `phys` (swiotlb-xen's `xen_phys_to_bus`): the frame goes through
/// the p2m, the offset inside the Xen page is kept.
///
/// `None` if the p2m returns a frame beyond the 64-bit address space.
pub fn phys_to_machine(p2m: &impl P2m, phys: PhysAddr) -> Option<MachineAddr> {
    p2m.pfn_to_bfn(phys.xen_pfn())
        .machine(phys.xen_page_offset())
}

/// The pseudo-physical address of `maddr` (swiotlb-xen's `xen_bus_to_phys`).
pub fn machine_to_phys(p2m: &impl P2m, maddr: MachineAddr) -> Option<PhysAddr> {
    p2m.bfn_to_pfn(maddr.bfn()).phys(maddr.xen_page_offset())
}

/// The bus address a device on `map` must use for `phys` (`xen_phys_to_dma`).
pub fn phys_to_dma(
    p2m: &impl P2m,
    map: &DmaRangeMap<'_>,
    phys: PhysAddr,
) -> Result<DmaAddr, RangeError> {
    let maddr = phys_to_machine(p2m, phys).ok_or(RangeError::NoTranslation)?;
    map.machine_to_dma(maddr)
}

/// The pseudo-physical address behind bus address `dma` of a device on `map`
/// (`xen_dma_to_phys`).
pub fn dma_to_phys(
    p2m: &impl P2m,
    map: &DmaRangeMap<'_>,
    dma: DmaAddr,
) -> Result<PhysAddr, RangeError> {
    let maddr = map.dma_to_machine(dma)?;
    machine_to_phys(p2m, maddr).ok_or(RangeError::NoTranslation)
}

/// Whether `[phys, phys + len)` spans Xen frames whose machine frames are not consecutive
/// (swiotlb-xen's `range_straddles_page_boundary`): such a buffer is not contiguous for a
/// device and must be bounced.
///
/// A buffer whose last byte would lie beyond `u64::MAX` counts as straddling; one whose last
/// byte is `u64::MAX` does not overflow. An empty buffer never straddles.
pub fn range_straddles_page_boundary(p2m: &impl P2m, phys: PhysAddr, len: u64) -> bool {
    range_straddles_from(p2m, phys, len, p2m.pfn_to_bfn(phys.xen_pfn()))
}

/// [`range_straddles_page_boundary`] for a caller that already looked up the machine frame
/// of `phys`'s first Xen frame (`first_bfn`): one p2m lookup fewer on the map path.
#[inline]
pub fn range_straddles_from(p2m: &impl P2m, phys: PhysAddr, len: u64, first_bfn: Bfn) -> bool {
    let Some(n) = len.checked_sub(1) else {
        // Empty: no byte, no frame.
        return false;
    };
    let Some(last) = phys.checked_add(n) else {
        // The last byte would lie beyond u64::MAX.
        return true;
    };
    // Counted from the first and last frame numbers, not as C's `XEN_PFN_UP(offset + len)`:
    // that sum passes 2^64 for a buffer of almost 2^64 bytes that ends exactly at the top.
    // No overflow: `last >= phys`, and at most 2^52 frames.
    let frames = last.xen_pfn().as_u64() - phys.xen_pfn().as_u64() + 1;
    if frames <= 1 || !p2m.may_have_foreign() {
        // One frame cannot straddle; and while every frame is its own machine frame, any
        // run of frames is contiguous.
        return false;
    }
    run_is_broken(p2m, phys.xen_pfn().as_u64(), first_bfn.as_u64(), frames)
}

/// Whether the `frames` frames from `first` are not backed by the machine frames from
/// `first_bfn` on; the caller found that frames may be foreign. Kept out of line: the
/// loop then has registers of its own, where inlined into a map path it reloads that
/// path's state around every lookup.
#[inline(never)]
fn run_is_broken(p2m: &impl P2m, first: u64, first_bfn: u64, frames: u64) -> bool {
    // The last pseudo-physical frame exists (the caller checked the end for overflow); the
    // machine run it must match may not.
    if first_bfn.checked_add(frames - 1).is_none() {
        return true;
    }
    // Neither sum wraps (checked above), so the loop needs no overflow checks of its own.
    let (mut pfn, mut want) = (first, first_bfn);
    for _ in 1..frames {
        pfn = pfn.wrapping_add(1);
        want = want.wrapping_add(1);
        if p2m.lookup(XenPfn::new(pfn)).as_u64() != want {
            return true;
        }
    }
    false
}

/// Whether a buffer of `len` bytes at `phys`, naturally aligned in pseudo-physical space
/// for its page order, loses that alignment in machine space (swiotlb-xen's
/// `range_requires_alignment`, with `1 << SHIFT` byte Linux pages). Coherent allocations
/// that must stay naturally aligned for the device then need an exchange with Xen.
pub fn range_requires_alignment<const SHIFT: u32>(
    p2m: &impl P2m,
    phys: PhysAddr,
    len: u64,
) -> bool {
    let order = get_order::<SHIFT>(len) + SHIFT;
    let align = 1u64.checked_shl(order).unwrap_or(0);
    if align == 0 {
        // An alignment beyond 64 bits: no address has it.
        return false;
    }
    let bus = match p2m.pfn_to_bfn(phys.xen_pfn()).machine(0) {
        Some(m) => m,
        None => return true,
    };
    phys.is_aligned(align) && !bus.is_aligned(align)
}
