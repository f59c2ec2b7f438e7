// SPDX-License-Identifier: GPL-2.0

//! The ABI of `/dev/xen/gntalloc` (include/uapi/xen/gntalloc.h) and the checks of what
//! user space passes, free of kernel bindings: built into the module and on the host.
//!
//! Every check returns the errno the C driver (drivers/xen/gntalloc.c) returns for the
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
/// `ENOSPC`.
pub const ENOSPC: Errno = 28;

/// `struct ioctl_gntalloc_alloc_gref` without its variable array of grant references
/// (`u32` each, from offset 16).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct AllocGref {
    /// The domain to grant to.
    pub domid: u16,
    /// `GNTALLOC_FLAG_WRITABLE`.
    pub flags: u16,
    /// How many pages.
    pub count: u32,
    /// Out: the offset to mmap them at.
    pub index: u64,
}

/// Where the grant references of `ALLOC_GREF` go.
pub const ALLOC_GREF_IDS: u64 = 16;
/// `GNTALLOC_FLAG_WRITABLE`.
pub const FLAG_WRITABLE: u16 = 1;

/// `struct ioctl_gntalloc_dealloc_gref`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct DeallocGref {
    /// The offset `ALLOC_GREF` gave.
    pub index: u64,
    /// How many pages.
    pub count: u32,
    /// Padding (the uapi struct is 16 bytes).
    pub pad: u32,
}

/// The ioctls of `/dev/xen/gntalloc`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cmd {
    /// `IOCTL_GNTALLOC_ALLOC_GREF`.
    AllocGref,
    /// `IOCTL_GNTALLOC_DEALLOC_GREF`.
    DeallocGref,
    /// `IOCTL_GNTALLOC_SET_UNMAP_NOTIFY`.
    SetUnmapNotify,
}

impl Cmd {
    /// The ioctl number.
    pub const fn number(self) -> u32 {
        match self {
            // The uapi struct has one reference in its array, padded: 24 bytes.
            Self::AllocGref => ioc(0, b'G', 5, size_of::<AllocGref>() + 8),
            Self::DeallocGref => ioc(0, b'G', 6, size_of::<DeallocGref>()),
            Self::SetUnmapNotify => ioc(0, b'G', 7, size_of::<UnmapNotify>()),
        }
    }

    /// The command with number `n`; `None` (`ENOTTY`) for any other.
    pub fn from_number(n: u32) -> Option<Self> {
        const ALLOC: u32 = Cmd::AllocGref.number();
        const DEALLOC: u32 = Cmd::DeallocGref.number();
        const NOTIFY: u32 = Cmd::SetUnmapNotify.number();
        Some(match n {
            ALLOC => Self::AllocGref,
            DEALLOC => Self::DeallocGref,
            NOTIFY => Self::SetUnmapNotify,
            _ => return None,
        })
    }
}

/// Whether `count` more pages fit under `limit` with `used` allocated (every file
/// counts): `ENOSPC` otherwise, as C.
pub fn check_limit(used: u32, count: u32, limit: u32) -> Result<(), Errno> {
    if count > limit || used > limit || count > limit - used {
        return Err(ENOSPC);
    }
    Ok(())
}

/// The position in a file's pages (their offsets, in order) of `count` pages starting
/// at offset `index` and following each other page by page (`page_size`), as C's
/// `find_grefs()` finds them; `None` if they are not all there (or `count` is 0).
pub fn find_run(offsets: &[u64], index: u64, count: u32, page_size: u64) -> Option<usize> {
    find_run_by(offsets.len(), |i| offsets[i], index, count, page_size)
}

/// [`find_run`] over `len` pages whose offsets `offset(i)` gives, without a list of them.
pub fn find_run_by(
    len: usize,
    offset: impl Fn(usize) -> u64,
    index: u64,
    count: u32,
    page_size: u64,
) -> Option<usize> {
    if count == 0 {
        return None;
    }
    let start = (0..len).find(|&i| offset(i) == index)?;
    if start + count as usize > len {
        return None;
    }
    (0..count as usize)
        .all(|i| offset(start + i) == index + i as u64 * page_size)
        .then_some(start)
}
