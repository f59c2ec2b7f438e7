// SPDX-License-Identifier: GPL-2.0

//! Kernel virtual addresses to physical addresses.
//!
//! `virt_to_phys` and `virt_to_page` are arithmetic on the linear map: given a vmalloc or
//! vmap address they compute a plausible-looking but wrong page. swiotlb-xen freed
//! coherent buffers that way on the Raspberry Pi 4, where the DMA allocator hands out
//! remapped (vmalloc-space) buffers. Here the address is classified first, and each class
//! has its own translation: arithmetic for the linear map, a page-table walk
//! (`vmalloc_to_page`) for vmalloc space, and an error for anything else.
//!
//! On arm64 vmalloc space holds more than vmalloc and vmap areas: `KIMAGE_VADDR`,
//! `MODULES_END` and `VMALLOC_START` are the same address, so the kernel image lies inside
//! `[VMALLOC_START, VMALLOC_END)`, and with KASLR, or when the module region below it is
//! full, modules may be placed there too. The page-table walk resolves those addresses to
//! their real pages like any other in vmalloc space.
//!
//! With tag-based KASAN or MTE, arm64 kernel pointers may carry a tag in their top byte
//! (bits 56..63). The address is untagged first, as the kernel's `__tag_reset` does, and
//! everything after that (classification, arithmetic, the walk) sees the untagged address.

use super::addr::{
    Pfn,      //
    PhysAddr, //
};

/// Where an address lies in the kernel's virtual memory.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum VirtKind {
    /// In the linear map of RAM: `virt_to_phys` is valid.
    Linear,
    /// In vmalloc space `[VMALLOC_START, VMALLOC_END)`: vmalloc, vmap, ioremap, remapped DMA
    /// buffers, and on arm64 also the kernel image (`KIMAGE_VADDR` is `VMALLOC_START`) and
    /// any module placed there (with KASLR, or when the module region is full). Only a
    /// page-table walk (`vmalloc_to_page`) finds the page, and it does for all of them.
    Vmalloc,
}

/// Why a virtual address has no physical address.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum VirtError {
    /// Neither in the linear map nor in vmalloc space: user addresses, `vmemmap`, fixmap,
    /// PCI I/O space, and on arm64 the module region `[MODULES_VADDR, MODULES_END)` just
    /// below vmalloc space. The kernel image and modules loaded into vmalloc space are
    /// [`VirtKind::Vmalloc`], not this.
    Unsupported,
    /// In vmalloc space but not backed by a page.
    NotMapped,
}

/// The parts of the kernel's virtual memory layout that [`virt_to_phys`] needs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct VirtLayout {
    /// First address of the linear map (`PAGE_OFFSET`).
    pub linear_start: usize,
    /// End (exclusive) of the linear map's RAM (`high_memory`).
    pub linear_end: usize,
    /// Physical address of `linear_start` (`PHYS_OFFSET`), modulo 2^64.
    ///
    /// Not always a real address: an arm64 kernel built for 52-bit virtual addresses and
    /// running with 48 bits moves its linear map up and makes `memstart_addr` negative
    /// (seen on QEMU virt: `PAGE_OFFSET` 0xfff0_0000_0000_0000, `PHYS_OFFSET`
    /// 0xfff1_0000_4000_0000). The kernel's `__lm_to_phys` relies on wrapping arithmetic.
    pub phys_offset: u64,
    /// First address of vmalloc space (`VMALLOC_START`).
    pub vmalloc_start: usize,
    /// End (exclusive) of vmalloc space (`VMALLOC_END`).
    pub vmalloc_end: usize,
    /// arm64: kernel pointers may carry a KASAN/MTE tag in bits 56..63, reset as
    /// `__tag_reset` does (sign extension from bit 55).
    pub tbi: bool,
}

/// A walk of the kernel page tables for vmalloc space.
pub trait PageTables<const SHIFT: u32> {
    /// The page mapped at `virt` (`vmalloc_to_pfn`), if any. `virt` is untagged (see
    /// [`VirtLayout::untag`]).
    fn vmalloc_to_pfn(&self, virt: usize) -> Option<Pfn<SHIFT>>;
}

impl VirtLayout {
    /// `virt` without its tag (`__tag_reset`): bits 56..63 become copies of bit 55. A
    /// tagged kernel pointer (bit 55 set) gets its all-ones top byte back; a user address
    /// (bit 55 clear) gets a zero top byte and stays a user address. The identity when
    /// [`Self::tbi`] is false.
    pub const fn untag(&self, virt: usize) -> usize {
        if !self.tbi {
            return virt;
        }
        // Shift bit 55 up to bit 63, then back down with sign extension.
        (((virt as u64) << 8) as i64 >> 8) as usize
    }

    /// Which region `virt` belongs to, if any the translation supports. A tagged pointer
    /// is classified by its untagged address.
    pub fn classify(&self, virt: usize) -> Option<VirtKind> {
        let virt = self.untag(virt);
        if (self.linear_start..self.linear_end).contains(&virt) {
            Some(VirtKind::Linear)
        } else if (self.vmalloc_start..self.vmalloc_end).contains(&virt) {
            Some(VirtKind::Vmalloc)
        } else {
            None
        }
    }

    /// The physical address of a linear-map address (`__pa`), or `None` outside the
    /// linear map. A tagged pointer translates as its untagged address.
    pub fn linear_to_phys(&self, virt: usize) -> Option<PhysAddr> {
        let virt = self.untag(virt);
        if !(self.linear_start..self.linear_end).contains(&virt) {
            return None;
        }
        let off = (virt - self.linear_start) as u64;
        Some(PhysAddr::new(self.phys_offset.wrapping_add(off)))
    }

    /// The linear-map address of physical address `phys` (`__va`, `phys_to_virt`), or
    /// `None` when `phys` is not RAM of the linear map. The inverse of
    /// [`Self::linear_to_phys`] for untagged addresses.
    #[inline]
    pub fn phys_to_linear(&self, phys: PhysAddr) -> Option<usize> {
        // Wrapping, as `__phys_to_virt`: `phys_offset` may be "negative" (see there).
        let off = phys.as_u64().wrapping_sub(self.phys_offset);
        let size = (self.linear_end - self.linear_start) as u64;
        (off < size).then(|| self.phys_to_linear_unchecked(phys))
    }

    /// [`Self::phys_to_linear`] for `phys` known to be RAM of the linear map (checked
    /// once, when the caller took the memory): the arithmetic alone. For any other
    /// address the result is meaningless.
    #[inline]
    pub fn phys_to_linear_unchecked(&self, phys: PhysAddr) -> usize {
        self.linear_start
            .wrapping_add(phys.as_u64().wrapping_sub(self.phys_offset) as usize)
    }
}

/// The physical address behind kernel virtual address `virt`, for linear-map and vmalloc
/// addresses alike (what `virt_to_phys` should have been for swiotlb-xen's free path).
/// A tagged pointer is untagged first; the page-table walk gets the untagged address.
pub fn virt_to_phys<const SHIFT: u32>(
    layout: &VirtLayout,
    pt: &impl PageTables<SHIFT>,
    virt: usize,
) -> Result<PhysAddr, VirtError> {
    let virt = layout.untag(virt);
    match layout.classify(virt) {
        Some(VirtKind::Linear) => layout.linear_to_phys(virt).ok_or(VirtError::Unsupported),
        Some(VirtKind::Vmalloc) => {
            let page = pt.vmalloc_to_pfn(virt).ok_or(VirtError::NotMapped)?;
            let base = page.phys().ok_or(VirtError::NotMapped)?;
            let offset = (virt as u64) & (Pfn::<SHIFT>::PAGE_SIZE - 1);
            Ok(PhysAddr::new(base.as_u64() | offset))
        }
        None => Err(VirtError::Unsupported),
    }
}

/// The page frame behind `virt` (what `virt_to_page` should have been), tagged or not.
pub fn virt_to_pfn<const SHIFT: u32>(
    layout: &VirtLayout,
    pt: &impl PageTables<SHIFT>,
    virt: usize,
) -> Result<Pfn<SHIFT>, VirtError> {
    virt_to_phys(layout, pt, virt).map(|p| p.pfn::<SHIFT>())
}
