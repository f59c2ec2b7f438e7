// SPDX-License-Identifier: GPL-2.0

//! The ABI of `/dev/xen/gntdev` (include/uapi/xen/gntdev.h) and the checks of what user
//! space passes, free of kernel bindings: built into the module and on the host.
//!
//! Every check returns the errno the C driver (drivers/xen/gntdev.c) returns for the
//! same input, except where Documentation/gntdev.md says otherwise.

use core::mem::size_of;

pub use crate::uapi::{
    check_notify_action,     //
    ioc,                     //
    UnmapNotify,             //
    UNMAP_NOTIFY_CLEAR_BYTE, //
    UNMAP_NOTIFY_SEND_EVENT, //
};

/// An errno, positive.
pub type Errno = i32;

/// `ENOENT`.
pub const ENOENT: Errno = 2;
/// `EINVAL`.
pub const EINVAL: Errno = 22;

/// `struct ioctl_gntdev_grant_ref`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct GrantRef {
    /// The granting domain.
    pub domid: u32,
    /// Its grant reference.
    pub gref: u32,
}

/// `struct ioctl_gntdev_map_grant_ref` without its variable array of [`GrantRef`],
/// which follows at offset 16.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct MapGrantRef {
    /// How many grants.
    pub count: u32,
    /// Padding.
    pub pad: u32,
    /// Out: the offset to mmap them at.
    pub index: u64,
}

/// Where the grant array of `MAP_GRANT_REF` starts.
pub const MAP_GRANT_REF_REFS: u64 = 16;

/// `struct ioctl_gntdev_unmap_grant_ref`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct UnmapGrantRef {
    /// The offset `MAP_GRANT_REF` gave.
    pub index: u64,
    /// How many grants (0: any).
    pub count: u32,
    /// Padding.
    pub pad: u32,
}

/// `struct ioctl_gntdev_get_offset_for_vaddr`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct GetOffsetForVaddr {
    /// A user address in a mapping of the device.
    pub vaddr: u64,
    /// Out: the mapping's offset.
    pub offset: u64,
    /// Out: how many grants it maps.
    pub count: u32,
    /// Padding.
    pub pad: u32,
}

/// `struct ioctl_gntdev_grant_copy`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct GrantCopy {
    /// How many segments.
    pub count: u32,
    /// User pointer to the segments.
    pub segments: u64,
}

/// One side of a `struct gntdev_grant_copy_segment`: a user address, or a grant
/// (`ref`, `offset`, `domid`), as the segment's flags say.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct CopySide {
    /// The user address, or the grant's fields packed as C lays them out.
    pub raw: u64,
}

impl CopySide {
    /// The user address.
    pub fn virt(self) -> u64 {
        self.raw
    }
    /// The grant reference.
    pub fn gref(self) -> u32 {
        self.raw as u32
    }
    /// The offset in the granted page.
    pub fn offset(self) -> u16 {
        (self.raw >> 32) as u16
    }
    /// The granting domain.
    pub fn domid(self) -> u16 {
        (self.raw >> 48) as u16
    }
}

/// `struct gntdev_grant_copy_segment`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct CopySegment {
    /// Where to copy from.
    pub source: CopySide,
    /// Where to copy to.
    pub dest: CopySide,
    /// How many bytes.
    pub len: u16,
    /// `GNTCOPY_source_gref`, `GNTCOPY_dest_gref`.
    pub flags: u16,
    /// Out: the segment's status (`GNTST_*`).
    pub status: i16,
}

/// Where `status` lies in a [`CopySegment`].
pub const COPY_SEGMENT_STATUS: u64 = 20;

/// `GNTCOPY_source_gref`.
pub const GNTCOPY_SOURCE_GREF: u16 = 1 << 0;
/// `GNTCOPY_dest_gref`.
pub const GNTCOPY_DEST_GREF: u16 = 1 << 1;

/// The ioctls of `/dev/xen/gntdev` in this configuration (no dma-buf).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cmd {
    /// `IOCTL_GNTDEV_MAP_GRANT_REF`.
    MapGrantRef,
    /// `IOCTL_GNTDEV_UNMAP_GRANT_REF`.
    UnmapGrantRef,
    /// `IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR`.
    GetOffsetForVaddr,
    /// `IOCTL_GNTDEV_SET_UNMAP_NOTIFY`.
    SetUnmapNotify,
    /// `IOCTL_GNTDEV_GRANT_COPY`.
    GrantCopy,
}

impl Cmd {
    /// The ioctl number.
    pub const fn number(self) -> u32 {
        match self {
            // The uapi struct has one grant in its array: 24 bytes.
            Self::MapGrantRef => ioc(0, b'G', 0, size_of::<MapGrantRef>() + size_of::<GrantRef>()),
            Self::UnmapGrantRef => ioc(0, b'G', 1, size_of::<UnmapGrantRef>()),
            Self::GetOffsetForVaddr => ioc(0, b'G', 2, size_of::<GetOffsetForVaddr>()),
            Self::SetUnmapNotify => ioc(0, b'G', 7, size_of::<UnmapNotify>()),
            Self::GrantCopy => ioc(0, b'G', 8, size_of::<GrantCopy>()),
        }
    }

    /// The command with number `n`; `None` (`ENOTTY`) for any other, `SET_MAX_GRANTS`
    /// included (C dropped it; libxengnttab takes `ENOTTY` as success there).
    pub fn from_number(n: u32) -> Option<Self> {
        const MAP: u32 = Cmd::MapGrantRef.number();
        const UNMAP: u32 = Cmd::UnmapGrantRef.number();
        const OFFSET: u32 = Cmd::GetOffsetForVaddr.number();
        const NOTIFY: u32 = Cmd::SetUnmapNotify.number();
        const COPY: u32 = Cmd::GrantCopy.number();
        Some(match n {
            MAP => Self::MapGrantRef,
            UNMAP => Self::UnmapGrantRef,
            OFFSET => Self::GetOffsetForVaddr,
            NOTIFY => Self::SetUnmapNotify,
            COPY => Self::GrantCopy,
            _ => return None,
        })
    }
}

/// `MAP_GRANT_REF`'s count: `EINVAL` for none or more than `limit` (the module
/// parameter).
pub fn check_count(count: u32, limit: u32) -> Result<usize, Errno> {
    if count == 0 || count > limit {
        return Err(EINVAL);
    }
    Ok(count as usize)
}

/// Where a new mapping of `count` pages goes among `maps` (each `(index, count)` in
/// pages, sorted by index): `(position in the list, its index)`. The first gap that
/// leaves a page free before the next mapping, as C's `gntdev_add_map()` chooses (it
/// compares with `<`, so a mapping never ends right where the next begins).
pub fn place(maps: impl Iterator<Item = (u64, u64)>, count: u64) -> (usize, u64) {
    let mut index = 0;
    let mut pos = 0;
    for (i, (mi, mc)) in maps.enumerate() {
        if index + count < mi {
            return (i, index);
        }
        index = mi + mc;
        pos = i + 1;
    }
    (pos, index)
}

/// A grant-copy segment's checks, in C's order: `EINVAL` for a local-to-local copy and
/// for a grant side that runs past its page (`page_size`: Xen's, 4096).
pub fn check_segment(seg: &CopySegment, page_size: u32) -> Result<(), Errno> {
    if seg.flags & (GNTCOPY_SOURCE_GREF | GNTCOPY_DEST_GREF) == 0 {
        return Err(EINVAL);
    }
    let len = u32::from(seg.len);
    if seg.flags & GNTCOPY_SOURCE_GREF != 0 && u32::from(seg.source.offset()) + len > page_size {
        return Err(EINVAL);
    }
    if seg.flags & GNTCOPY_DEST_GREF != 0 && u32::from(seg.dest.offset()) + len > page_size {
        return Err(EINVAL);
    }
    Ok(())
}

/// The pieces of a segment's local side at user address `virt` + `copied`: how many
/// bytes the next piece takes, up to the end of its Xen page.
pub fn local_piece(virt: u64, copied: u16, len: u16, page_size: u64) -> (u64, u16) {
    let addr = virt + u64::from(copied);
    let off = addr & (page_size - 1);
    let left = u64::from(len - copied);
    (addr, left.min(page_size - off) as u16)
}
