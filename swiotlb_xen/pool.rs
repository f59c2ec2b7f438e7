// SPDX-License-Identifier: GPL-2.0

//! The bounce pool: slots of [`IO_TLB_SIZE`] bytes in memory every attached device can
//! reach, handed out to mappings that cannot be given to the device in place.
//!
//! The kernel's swiotlb is not exported to modules, so the Rust xen-swiotlb owns its
//! pool. The semantics follow kernel/dma/swiotlb.c where a driver can observe them:
//!
//! - a mapping never crosses a segment of [`IO_TLB_SEGSIZE`] slots, which bounds one
//!   mapping to 256 KiB, less what the device's `min_align_mask` may skip
//!   ([`max_mapping_size`], as `swiotlb_max_mapping_size`);
//! - a mapping's slots never cross the device's segment boundary
//!   (`dma_get_seg_boundary`) in bus space;
//! - the bounce address keeps the bits of the original address under the device's
//!   `min_align_mask` (NVMe and others rely on it), and the slot honours the allocation
//!   alignment mask;
//! - an exhausted pool fails the mapping; it never hands out a slot that is in use.
//!
//! Unlike C, freeing checks that the address, size and tag (the DMA direction) are those of
//! a live mapping, so a double or mismatched unmap is reported instead of corrupting
//! another mapping.
//!
//! The pool only does bookkeeping: copying data and cache maintenance belong to the
//! caller. Storage for the slot table comes from the caller (anything that derefs to a
//! slice of [`Slot`]), so the same code runs in the kernel (a `KVec`) and on the host.

use core::ops::{
    Deref,    //
    DerefMut, //
};

use crate::dma::addr::PhysAddr;

/// Shift of a bounce slot.
pub const IO_TLB_SHIFT: u32 = 11;
/// Size of a bounce slot in bytes.
pub const IO_TLB_SIZE: u64 = 1 << IO_TLB_SHIFT;
/// Slots per segment: no mapping crosses a segment boundary.
pub const IO_TLB_SEGSIZE: usize = 128;
/// The largest mapping the pool can hold.
pub const MAX_MAPPING_SIZE: u64 = IO_TLB_SIZE * IO_TLB_SEGSIZE as u64;

const FREE: u32 = u32::MAX;

/// The largest mapping a device with `min_align_mask` can always have placed
/// (`swiotlb_max_mapping_size`): a segment, less the slots that keeping the masked bits
/// may skip.
pub const fn max_mapping_size(min_align_mask: u64) -> u64 {
    if min_align_mask == 0 {
        return MAX_MAPPING_SIZE;
    }
    // roundup(min_align_mask, IO_TLB_SIZE), saturating for masks no mapping fits.
    let skip = min_align_mask
        .div_ceil(IO_TLB_SIZE)
        .saturating_mul(IO_TLB_SIZE);
    MAX_MAPPING_SIZE.saturating_sub(skip)
}

/// How one device needs its bounce slots placed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Placement {
    /// The bus address at which the device sees the pool's first byte (after the p2m and
    /// its `dma-ranges`).
    pub dma_base: u64,
    /// `dma_get_min_align_mask()`: bits of the original address the bounce keeps.
    pub min_align_mask: u64,
    /// Bits that must be zero in the first slot's bus address (0 for streaming maps).
    pub alloc_align_mask: u64,
    /// `dma_get_seg_boundary()`: a mapping's slots never cross a multiple of this plus
    /// one in bus space; all ones for no boundary.
    pub boundary_mask: u64,
}

impl Placement {
    /// A device that sees the pool at `dma_base` with no constraint.
    pub const fn at(dma_base: u64) -> Self {
        Self {
            dma_base,
            min_align_mask: 0,
            alloc_align_mask: 0,
            boundary_mask: u64::MAX,
        }
    }
}

/// Book-keeping of one slot. Only the pool reads or writes it.
#[derive(Clone, Copy, Debug)]
pub struct Slot {
    /// Index of the first slot of the mapping this slot belongs to, or `FREE`.
    head: u32,
    /// In a mapping's first slot: the original buffer's address.
    orig: u64,
    /// In a mapping's first slot: the mapping's size in bytes.
    size: u32,
    /// In a mapping's first slot: the offset of the bounce address in the slot.
    offset: u32,
    /// In a mapping's first slot: the caller's tag.
    tag: u8,
}

impl Slot {
    /// A free slot, to fill the caller's storage with.
    pub const FREE: Self = Self {
        head: FREE,
        orig: 0,
        size: 0,
        offset: 0,
        tag: 0,
    };
}

/// Why the pool refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PoolError {
    /// The pool's storage or placement is unusable (not slot aligned, too many slots,
    /// end beyond the address space).
    BadPool,
    /// Zero bytes, or more than [`MAX_MAPPING_SIZE`] with its alignment offset.
    BadSize,
    /// No free run of slots satisfies the request.
    Exhausted,
    /// The address is not the start of a live mapping of that size.
    NotMapped,
}

/// A live bounce mapping.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Bounce {
    /// Where the data lives for the device.
    pub tlb: PhysAddr,
    /// The original buffer.
    pub orig: PhysAddr,
    /// Size in bytes.
    pub size: u64,
    /// The caller's tag, given at allocation.
    pub tag: u8,
}

/// Counters, for debugfs.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct PoolStats {
    /// Slots in the pool.
    pub slots: usize,
    /// Slots in use now.
    pub used: usize,
    /// Most slots ever in use at once.
    pub high_water: usize,
    /// Mappings refused for lack of space.
    pub exhausted: u64,
}

/// A bounce pool over `slots.len()` slots starting at physical address `base`.
///
/// # Invariants
///
/// `base` is slot aligned and `base + slots.len() * IO_TLB_SIZE` does not overflow; a
/// slot's `head` is `FREE` or the index of the first slot of its mapping, whose `size`
/// and `offset` cover exactly the slots that name it; `stats.used` counts non-free slots.
pub struct Pool<S> {
    base: PhysAddr,
    page_size: u64,
    slots: S,
    next: usize,
    stats: PoolStats,
}

impl<S: Deref<Target = [Slot]> + DerefMut> Pool<S> {
    /// Makes a pool of the memory at `base`, one entry of `slots` per slot; every entry
    /// must be [`Slot::FREE`]. `page_size` is the kernel's `PAGE_SIZE`.
    pub fn new(base: PhysAddr, page_size: u64, slots: S) -> Result<Self, PoolError> {
        let bytes = (slots.len() as u64)
            .checked_mul(IO_TLB_SIZE)
            .ok_or(PoolError::BadPool)?;
        if !page_size.is_power_of_two()
            || page_size < IO_TLB_SIZE
            || !base.is_aligned(IO_TLB_SIZE)
            || slots.len() >= FREE as usize
            || base.checked_add(bytes).is_none()
            || slots.iter().any(|s| s.head != FREE)
        {
            return Err(PoolError::BadPool);
        }
        let n = slots.len();
        // INVARIANT: checked above; every slot is free and `used` is 0.
        Ok(Self {
            base,
            page_size,
            slots,
            next: 0,
            stats: PoolStats {
                slots: n,
                ..PoolStats::default()
            },
        })
    }

    /// First byte of the pool.
    pub fn base(&self) -> PhysAddr {
        self.base
    }

    /// Size of the pool in bytes.
    pub fn bytes(&self) -> u64 {
        self.slots.len() as u64 * IO_TLB_SIZE
    }

    /// Whether `addr` lies inside the pool: a DMA handle that translates into the pool
    /// was bounced.
    pub fn contains(&self, addr: PhysAddr) -> bool {
        addr >= self.base && addr.as_u64() - self.base.as_u64() < self.bytes()
    }

    /// The counters.
    pub fn stats(&self) -> PoolStats {
        self.stats
    }

    fn slot_addr(&self, i: usize) -> u64 {
        // No overflow: type invariant.
        self.base.as_u64() + i as u64 * IO_TLB_SIZE
    }

    /// Reserves slots for bouncing `size` bytes at `orig` for a device that sees the pool
    /// as [`Placement::dma_base`], as swiotlb_tbl_map_single does. `tag` is kept with the
    /// mapping for the caller (the DMA direction, say).
    ///
    /// The returned [`Bounce::tlb`] keeps the bits of `orig` under the device's
    /// `min_align_mask` that lie inside a slot, and the slot's bus address keeps those
    /// above it; the first slot has no bits under `alloc_align_mask`; with neither mask,
    /// mappings of a page or more are page aligned, as the kernel has always done. As in
    /// C, those checks are made on the bus address the device will be given, and the
    /// slots of a mapping never cross a multiple of `boundary_mask + 1` in bus space
    /// (`dma_get_seg_boundary`).
    pub fn alloc(
        &mut self,
        orig: PhysAddr,
        size: u64,
        place: &Placement,
        tag: u8,
    ) -> Result<Bounce, PoolError> {
        let offset = orig.as_u64() & place.min_align_mask & (IO_TLB_SIZE - 1);
        if size == 0 || size > MAX_MAPPING_SIZE - offset {
            return Err(PoolError::BadSize);
        }
        let total = size + offset;
        let nslots = total.div_ceil(IO_TLB_SIZE) as usize;
        let mut align = place.alloc_align_mask;
        if align == 0 && place.min_align_mask == 0 && total >= self.page_size {
            align = self.page_size - 1;
        }
        align |= IO_TLB_SIZE - 1;
        let match_mask = place.min_align_mask & !align;
        let want = orig.as_u64() & match_mask;
        // The boundary in slots; a mask of all ones has none.
        let span = (place.boundary_mask >> IO_TLB_SHIFT).wrapping_add(1);
        let base_dma = place.dma_base & place.boundary_mask;
        let n = self.slots.len();
        if nslots > n {
            return Err(PoolError::Exhausted);
        }
        let mut tried = 0;
        // Small mappings are packed first-fit from the start of the pool, large ones go
        // next-fit: spreading small mappings over every segment would leave no segment
        // free for a full-size mapping, and a driver that retries (virtio-blk does)
        // would then livelock. (The kernel's swiotlb is next-fit for all sizes, in a pool
        // sixteen times larger.)
        let mut i = if nslots < IO_TLB_SEGSIZE / 4 {
            0
        } else {
            self.next % n.max(1)
        };
        while tried < n {
            // Bus address of slot `i` as C computes it: the pool's bus address under the
            // boundary mask, plus the slot's offset (wrapping like C's arithmetic).
            let dma = base_dma.wrapping_add(i as u64 * IO_TLB_SIZE);
            let seg_end = (i / IO_TLB_SEGSIZE + 1) * IO_TLB_SEGSIZE;
            let fits = i + nslots <= seg_end.min(n);
            let crosses = ((dma >> IO_TLB_SHIFT) & (span - 1)) + nslots as u64 > span;
            if fits
                && !crosses
                && dma & match_mask == want
                && dma & align == 0
                && self.slots[i..i + nslots].iter().all(|s| s.head == FREE)
            {
                for s in &mut self.slots[i..i + nslots] {
                    s.head = i as u32;
                }
                // INVARIANT: the head records the mapping that the slots name.
                self.slots[i].orig = orig.as_u64();
                self.slots[i].size = size as u32;
                self.slots[i].offset = offset as u32;
                self.slots[i].tag = tag;
                self.stats.used += nslots;
                self.stats.high_water = self.stats.high_water.max(self.stats.used);
                if nslots >= IO_TLB_SEGSIZE / 4 {
                    self.next = (i + nslots) % n;
                }
                return Ok(Bounce {
                    tlb: PhysAddr::new(self.slot_addr(i) + offset),
                    orig,
                    size,
                    tag,
                });
            }
            i = (i + 1) % n;
            tried += 1;
        }
        self.stats.exhausted += 1;
        Err(PoolError::Exhausted)
    }

    /// The first slot of the live mapping whose slots hold `addr`, if any.
    fn head_index(&self, addr: PhysAddr) -> Option<usize> {
        if !self.contains(addr) {
            return None;
        }
        let i = ((addr.as_u64() - self.base.as_u64()) >> IO_TLB_SHIFT) as usize;
        let head = self.slots[i].head;
        (head != FREE).then_some(head as usize)
    }

    fn bounce_at(&self, h: usize) -> Bounce {
        let s = &self.slots[h];
        Bounce {
            tlb: PhysAddr::new(self.slot_addr(h) + u64::from(s.offset)),
            orig: PhysAddr::new(s.orig),
            size: u64::from(s.size),
            tag: s.tag,
        }
    }

    /// The live mapping holding `addr` (which may point inside it, as partial syncs do).
    pub fn find(&self, addr: PhysAddr) -> Option<Bounce> {
        let b = self.bounce_at(self.head_index(addr)?);
        (addr >= b.tlb && addr.as_u64() - b.tlb.as_u64() < b.size).then_some(b)
    }

    /// The live mapping that starts at `tlb` with `size` bytes and was allocated with
    /// `tag`, and its first slot; anything else is refused.
    fn exact(&self, tlb: PhysAddr, size: u64, tag: u8) -> Result<(usize, Bounce), PoolError> {
        let h = self.head_index(tlb).ok_or(PoolError::NotMapped)?;
        let b = self.bounce_at(h);
        if b.tlb != tlb || b.size != size || b.tag != tag {
            return Err(PoolError::NotMapped);
        }
        Ok((h, b))
    }

    /// The mapping [`Self::free`] would release, left live: an unmap copies the data
    /// back before it frees the slots, or a mapping made meanwhile could take them and
    /// overwrite the data first.
    pub fn get(&self, tlb: PhysAddr, size: u64, tag: u8) -> Result<Bounce, PoolError> {
        self.exact(tlb, size, tag).map(|(_, b)| b)
    }

    /// Releases the mapping that starts at `tlb` with `size` bytes and was allocated with
    /// `tag`, returning it; anything else is refused and changes nothing.
    pub fn free(&mut self, tlb: PhysAddr, size: u64, tag: u8) -> Result<Bounce, PoolError> {
        let (h, b) = self.exact(tlb, size, tag)?;
        let nslots = (b.size + u64::from(self.slots[h].offset)).div_ceil(IO_TLB_SIZE) as usize;
        for s in &mut self.slots[h..h + nslots] {
            // INVARIANT: the whole mapping is released at once.
            *s = Slot::FREE;
        }
        self.stats.used -= nslots;
        Ok(b)
    }
}
