// SPDX-License-Identifier: GPL-2.0

//! A device's view of memory: the `dma-ranges` of its buses.
//!
//! The kernel keeps, per device, a table of `struct bus_dma_region` built from the
//! device tree (`dev->dma_range_map`): each entry maps `size` bytes at `cpu_start` to
//! `dma_start` on the device's bus. A device without such a table sees memory at its
//! physical address. On the Raspberry Pi 4, devices on the `emmc2bus` and `soc` buses see
//! the first GiB of RAM at bus address `0xC000_0000` and cannot reach anything above it.
//!
//! [`DmaRangeMap`] gives both cases a name: [`DmaRangeMap::Direct`] for the identity, and
//! [`DmaRangeMap::Ranges`] for a table, where an address outside every entry has no
//! translation: the result is an error, never the untranslated address.
//!
//! Ranges are keyed by host physical addresses. In a Xen guest the caller first translates
//! its pseudo-physical address through the p2m (see [`super::xen`]); the
//! `machine_*` functions take and give [`MachineAddr`] for that path.

use super::addr::{
    DmaAddr,     //
    MachineAddr, //
    PhysAddr,    //
};

/// One entry of a device's DMA range table, laid out as the kernel's `struct
/// bus_dma_region` so that a table of them can be used in place.
///
/// # Invariants
///
/// `size` is not zero and neither `cpu_start + size - 1` nor `dma_start + size - 1`
/// overflows.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(C)]
pub struct DmaRange {
    cpu_start: u64,
    dma_start: u64,
    size: u64,
}

/// Why a range table or an address was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RangeError {
    /// A range entry of zero size, or one whose end lies beyond the 64-bit address space.
    BadRange,
    /// The address, or part of the buffer, lies outside every range of the device.
    NoTranslation,
}

impl DmaRange {
    /// Creates a range mapping `size` bytes at CPU address `cpu_start` to `dma_start`.
    pub const fn new(cpu_start: u64, dma_start: u64, size: u64) -> Result<Self, RangeError> {
        if size == 0 || cpu_start.checked_add(size - 1).is_none() {
            return Err(RangeError::BadRange);
        }
        if dma_start.checked_add(size - 1).is_none() {
            return Err(RangeError::BadRange);
        }
        // INVARIANT: checked just above.
        Ok(Self {
            cpu_start,
            dma_start,
            size,
        })
    }

    /// First CPU (host physical) address covered.
    pub const fn cpu_start(&self) -> u64 {
        self.cpu_start
    }

    /// Bus address of `cpu_start`.
    pub const fn dma_start(&self) -> u64 {
        self.dma_start
    }

    /// Number of bytes covered.
    pub const fn size(&self) -> u64 {
        self.size
    }

    /// Last bus address covered.
    pub const fn dma_last(&self) -> u64 {
        // No overflow: type invariant.
        self.dma_start + (self.size - 1)
    }

    /// Offset of `[addr, addr + len)` from `start` if it lies inside `[start, start +
    /// size)`. A zero-length access is inside when `addr` is.
    const fn offset_in(start: u64, size: u64, addr: u64, len: u64) -> Option<u64> {
        if addr < start {
            return None;
        }
        let off = addr - start;
        if off >= size || len > size - off {
            return None;
        }
        Some(off)
    }

    /// Whether a raw table entry (as the kernel stores it) satisfies the invariants.
    pub const fn is_valid(&self) -> bool {
        Self::new(self.cpu_start, self.dma_start, self.size).is_ok()
    }
}

/// How a device sees memory.
#[derive(Clone, Copy, Debug)]
pub enum DmaRangeMap<'a> {
    /// No `dma-ranges` anywhere above the device: bus address equals CPU address. This is
    /// the kernel's behaviour when `dev->dma_range_map` is `NULL`.
    Direct,
    /// The device's range table. Addresses outside every entry have no translation; the
    /// first matching entry wins, as in the kernel.
    Ranges(&'a [DmaRange]),
}

impl DmaRangeMap<'_> {
    // Always: on the map and unmap paths of every DMA call, and small.
    #[inline(always)]
    fn cpu_to_dma(&self, cpu: u64, len: u64) -> Result<u64, RangeError> {
        match self {
            Self::Direct => match len.checked_sub(1) {
                Some(last) if cpu.checked_add(last).is_none() => Err(RangeError::NoTranslation),
                _ => Ok(cpu),
            },
            Self::Ranges(ranges) => {
                for r in ranges.iter() {
                    if let Some(off) = DmaRange::offset_in(r.cpu_start, r.size, cpu, len) {
                        return Ok(r.dma_start + off);
                    }
                }
                Err(RangeError::NoTranslation)
            }
        }
    }

    // Always: on the map and unmap paths of every DMA call, and small.
    #[inline(always)]
    fn dma_to_cpu(&self, dma: u64, len: u64) -> Result<u64, RangeError> {
        match self {
            Self::Direct => match len.checked_sub(1) {
                Some(last) if dma.checked_add(last).is_none() => Err(RangeError::NoTranslation),
                _ => Ok(dma),
            },
            Self::Ranges(ranges) => {
                for r in ranges.iter() {
                    if let Some(off) = DmaRange::offset_in(r.dma_start, r.size, dma, len) {
                        return Ok(r.cpu_start + off);
                    }
                }
                Err(RangeError::NoTranslation)
            }
        }
    }

    /// The bus address of physical address `phys` (the kernel's `phys_to_dma`, for a
    /// kernel that is not a Xen guest).
    #[inline]
    pub fn phys_to_dma(&self, phys: PhysAddr) -> Result<DmaAddr, RangeError> {
        self.cpu_to_dma(phys.as_u64(), 0).map(DmaAddr::new)
    }

    /// The physical address behind bus address `dma` (the kernel's `dma_to_phys`).
    #[inline]
    pub fn dma_to_phys(&self, dma: DmaAddr) -> Result<PhysAddr, RangeError> {
        self.dma_to_cpu(dma.as_u64(), 0).map(PhysAddr::new)
    }

    /// The bus address of host physical address `maddr`: the last step of a Xen guest's
    /// translation.
    #[inline]
    pub fn machine_to_dma(&self, maddr: MachineAddr) -> Result<DmaAddr, RangeError> {
        self.cpu_to_dma(maddr.as_u64(), 0).map(DmaAddr::new)
    }

    /// The host physical address behind bus address `dma`: the first step back for a Xen
    /// guest.
    #[inline]
    pub fn dma_to_machine(&self, dma: DmaAddr) -> Result<MachineAddr, RangeError> {
        self.dma_to_cpu(dma.as_u64(), 0).map(MachineAddr::new)
    }

    /// Like [`Self::machine_to_dma`] for a whole buffer of `len` bytes, which must lie in a
    /// single range.
    ///
    /// The kernel translates only the first byte and leaves the rest to the device's
    /// mask check; a buffer running off the end of a range into a hole is refused here.
    #[inline]
    pub fn machine_range_to_dma(
        &self,
        maddr: MachineAddr,
        len: u64,
    ) -> Result<DmaAddr, RangeError> {
        self.cpu_to_dma(maddr.as_u64(), len).map(DmaAddr::new)
    }

    /// Like [`Self::phys_to_dma`] for a whole buffer of `len` bytes, which must lie in a
    /// single range.
    #[inline]
    pub fn phys_range_to_dma(&self, phys: PhysAddr, len: u64) -> Result<DmaAddr, RangeError> {
        self.cpu_to_dma(phys.as_u64(), len).map(DmaAddr::new)
    }

    /// Like [`Self::dma_to_machine`] for a whole buffer of `len` bytes.
    #[inline]
    pub fn dma_range_to_machine(&self, dma: DmaAddr, len: u64) -> Result<MachineAddr, RangeError> {
        self.dma_to_cpu(dma.as_u64(), len).map(MachineAddr::new)
    }

    /// The highest bus address any range reaches (`dma_range_map_max`), which the kernel
    /// uses as the device's `bus_dma_limit`. `None` for [`Self::Direct`] (no limit) and for
    /// an empty table.
    pub fn dma_limit(&self) -> Option<DmaAddr> {
        match self {
            Self::Direct => None,
            Self::Ranges(ranges) => ranges.iter().map(|r| DmaAddr::new(r.dma_last())).max(),
        }
    }

    /// The lowest bus address any range starts at (`dma_range_map_min`, the minimum of the
    /// entries' `dma_start`). 0 for [`Self::Direct`], the base the kernel's callers assume
    /// without a table; `None` for an empty table, where C's loop would return `U64_MAX`.
    pub fn dma_min(&self) -> Option<DmaAddr> {
        match self {
            Self::Direct => Some(DmaAddr::new(0)),
            Self::Ranges(ranges) => ranges.iter().map(|r| DmaAddr::new(r.dma_start)).min(),
        }
    }
}

/// What a device can address: its DMA mask and its bus limit, as in `struct device`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DmaLimit {
    /// `*dev->dma_mask` (or the coherent mask for coherent allocations). A zero mask is
    /// passed over in favour of the bus limit, as `min_not_zero` does.
    pub mask: u64,
    /// `dev->bus_dma_limit`; 0 means no limit beyond the mask.
    pub bus_limit: u64,
}

impl DmaLimit {
    /// The highest bus address the device can reach, `min_not_zero(mask, bus_limit)` as in
    /// the kernel's `dma_capable`: the smaller of the two where both are set, the other one
    /// where one of them is 0, and 0 where both are.
    pub const fn max_address(&self) -> u64 {
        match (self.mask, self.bus_limit) {
            (0, limit) => limit,
            (mask, 0) => mask,
            (mask, limit) if limit < mask => limit,
            (mask, _) => mask,
        }
    }

    /// Whether the device can reach all of `[dma, dma + len)` (the kernel's `dma_capable`).
    ///
    /// `DMA_MAPPING_ERROR` is never reachable. A buffer whose end overflows the address
    /// space is refused, where the kernel's arithmetic would wrap. A zero-length buffer is
    /// reachable when its address is.
    pub const fn reachable(&self, dma: DmaAddr, len: u64) -> bool {
        if dma.as_u64() == DmaAddr::MAPPING_ERROR.as_u64() {
            return false;
        }
        let last = match len.checked_sub(1) {
            None => dma.as_u64(),
            Some(n) => match dma.as_u64().checked_add(n) {
                Some(last) => last,
                None => return false,
            },
        };
        last <= self.max_address()
    }
}
