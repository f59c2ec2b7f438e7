// SPDX-License-Identifier: GPL-2.0

//! Addresses and frame numbers, one type per kind.
//!
//! A Xen guest on Arm juggles several address spaces that all fit in a `u64`, and Linux's
//! Xen code long treated two of them as the same number. Here each kind is its own type and
//! the only way from one kind to another is a named function:
//!
//! | type            | what it is                                             | C           |
//! |-----------------|--------------------------------------------------------|-------------|
//! | [`PhysAddr`]    | physical address as this kernel sees it                | phys_addr_t |
//! | [`MachineAddr`] | host physical address, after Xen's p2m                 | baddr       |
//! | [`DmaAddr`]     | address a device puts on its bus, after `dma-ranges`   | dma_addr_t  |
//! | [`Pfn`]         | Linux page frame number (`PAGE_SIZE` granule)          | pfn         |
//! | [`XenPfn`]      | Xen pseudo-physical frame, also the GFN on Arm (4 KiB) | xen_pfn     |
//! | [`Bfn`]         | bus (machine) frame number, 4 KiB                      | bfn, mfn    |
//!
//! In a Xen guest, [`PhysAddr`] is pseudo-physical; `baddr` is swiotlb-xen's name for a
//! [`MachineAddr`].
//!
//! Xen frames are always [`XEN_PAGE_SIZE`] (4 KiB); Linux pages may be 4, 16 or 64 KiB, which
//! [`Pfn`] carries in its type as the page shift.

/// Shift of a Xen page: Xen always uses 4 KiB frames, whatever the kernel's page size.
pub const XEN_PAGE_SHIFT: u32 = 12;

/// Size of a Xen page in bytes.
pub const XEN_PAGE_SIZE: u64 = 1 << XEN_PAGE_SHIFT;

macro_rules! address_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
        #[repr(transparent)]
        pub struct $name(u64);

        impl $name {
            /// Wraps a raw value.
            pub const fn new(raw: u64) -> Self {
                Self(raw)
            }

            /// Returns the raw value.
            pub const fn as_u64(self) -> u64 {
                self.0
            }

            /// Adds `offset` bytes, or returns `None` on overflow.
            pub const fn checked_add(self, offset: u64) -> Option<Self> {
                match self.0.checked_add(offset) {
                    Some(v) => Some(Self(v)),
                    None => None,
                }
            }

            /// Returns the offset of this address inside its Xen page.
            pub const fn xen_page_offset(self) -> u64 {
                self.0 & (XEN_PAGE_SIZE - 1)
            }

            /// Returns whether the address is a multiple of `align` (a power of two).
            pub const fn is_aligned(self, align: u64) -> bool {
                self.0 & align.wrapping_sub(1) == 0
            }
        }
    };
}

address_type!(
    /// A physical address as this kernel sees it (`phys_addr_t`).
    ///
    /// In a Xen guest this is a pseudo-physical address: Xen's p2m maps it to a
    /// [`MachineAddr`]. An Arm Dom0's own RAM is mapped 1:1, but pages granted by other
    /// domains are not.
    PhysAddr
);

address_type!(
    /// A host physical address, after Xen's p2m translation.
    ///
    /// swiotlb-xen calls this the bus address (`baddr`): the address of the memory on the
    /// host, before the device's bus applies its `dma-ranges`.
    MachineAddr
);

address_type!(
    /// An address as a device sees memory (`dma_addr_t`): what goes into descriptors.
    DmaAddr
);

impl PhysAddr {
    /// The kernel's "no translation" value for physical addresses (`(phys_addr_t)-1`).
    pub const INVALID: Self = Self(u64::MAX);

    /// The Xen frame holding this address (`XEN_PFN_DOWN`).
    pub const fn xen_pfn(self) -> XenPfn {
        XenPfn(self.0 >> XEN_PAGE_SHIFT)
    }

    /// The Linux page frame holding this address (`PHYS_PFN`).
    pub const fn pfn<const SHIFT: u32>(self) -> Pfn<SHIFT> {
        Pfn(self.0 >> SHIFT)
    }
}

impl MachineAddr {
    /// The bus frame holding this address.
    pub const fn bfn(self) -> Bfn {
        Bfn(self.0 >> XEN_PAGE_SHIFT)
    }
}

impl DmaAddr {
    /// The kernel's mapping-failure value (`DMA_MAPPING_ERROR`).
    pub const MAPPING_ERROR: Self = Self(u64::MAX);
}

macro_rules! xen_frame_type {
    ($(#[$doc:meta])* $name:ident, $addr:ident, $to_addr:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
        #[repr(transparent)]
        pub struct $name(u64);

        impl $name {
            /// Wraps a raw frame number.
            pub const fn new(raw: u64) -> Self {
                Self(raw)
            }

            /// Returns the raw frame number.
            pub const fn as_u64(self) -> u64 {
                self.0
            }

            /// The next frame, or `None` past the end of the frame space.
            pub const fn next(self) -> Option<Self> {
                match self.0.checked_add(1) {
                    Some(v) => Some(Self(v)),
                    None => None,
                }
            }

            /// Address of the first byte of the frame, `offset` added, or `None` if the
            /// frame lies beyond the 64-bit address space or `offset` leaves the frame.
            pub const fn $to_addr(self, offset: u64) -> Option<$addr> {
                if offset >= XEN_PAGE_SIZE || self.0 > (u64::MAX >> XEN_PAGE_SHIFT) {
                    return None;
                }
                Some($addr((self.0 << XEN_PAGE_SHIFT) | offset))
            }
        }
    };
}

xen_frame_type!(
    /// A Xen pseudo-physical frame number (4 KiB). On Arm this is also the guest frame
    /// number (GFN) that grant and memory hypercalls take.
    XenPfn,
    PhysAddr,
    phys
);

xen_frame_type!(
    /// A bus frame number (4 KiB): the machine frame (MFN) that holds a [`XenPfn`].
    Bfn,
    MachineAddr,
    machine
);

/// A Linux page frame number, for pages of `1 << SHIFT` bytes.
///
/// Linux on arm64 builds with 4 KiB (`SHIFT` 12), 16 KiB (14) or 64 KiB (16) pages; one
/// Linux page then spans `1 << (SHIFT - 12)` Xen frames.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[repr(transparent)]
pub struct Pfn<const SHIFT: u32>(u64);

impl<const SHIFT: u32> Pfn<SHIFT> {
    /// Page size in bytes.
    pub const PAGE_SIZE: u64 = {
        assert!(
            SHIFT >= XEN_PAGE_SHIFT && SHIFT < 32,
            "unsupported page size"
        );
        1 << SHIFT
    };

    /// Number of Xen frames in one Linux page (`XEN_PFN_PER_PAGE`).
    pub const XEN_PFNS_PER_PAGE: u64 = Self::PAGE_SIZE / XEN_PAGE_SIZE;

    /// Wraps a raw frame number.
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }

    /// Returns the raw frame number.
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// Physical address of the first byte of the page (`PFN_PHYS`), or `None` if the frame
    /// lies beyond the 64-bit address space.
    pub const fn phys(self) -> Option<PhysAddr> {
        if self.0 > (u64::MAX >> SHIFT) {
            return None;
        }
        Some(PhysAddr(self.0 << SHIFT))
    }

    /// The first Xen frame of this page (`page_to_xen_pfn`).
    pub const fn first_xen_pfn(self) -> Option<XenPfn> {
        match self.phys() {
            Some(p) => Some(p.xen_pfn()),
            None => None,
        }
    }
}

/// Number of Xen frames touched by `len` bytes starting `offset` bytes into a Xen page
/// (`XEN_PFN_UP(offset + len)`), or `None` on overflow.
pub const fn xen_pfns_spanned(offset: u64, len: u64) -> Option<u64> {
    match offset.checked_add(len) {
        Some(end) => Some(end.div_ceil(XEN_PAGE_SIZE)),
        None => None,
    }
}

/// The page order of an allocation of `size` bytes with `1 << SHIFT` byte pages
/// (`get_order`): the smallest `n` with `PAGE_SIZE << n >= size`. Zero for `size == 0`.
pub const fn get_order<const SHIFT: u32>(size: u64) -> u32 {
    if size <= (1 << SHIFT) {
        return 0;
    }
    let pages = ((size - 1) >> SHIFT) + 1;
    u64::BITS - (pages - 1).leading_zeros()
}
