// SPDX-License-Identifier: GPL-2.0

//! What the uapi headers of the Xen devices share, as pure code: the ioctl number
//! encoding, and the unmap notification, whose structure and flags gntdev and gntalloc
//! define alike. Built into the core (`xen::uapi`) and, through `#[path]`, into the
//! drivers' host crates, so that each driver's `abi.rs` uses it the same way in both.
//!
//! C headers: [`include/uapi/asm-generic/ioctl.h`](srctree/include/uapi/asm-generic/ioctl.h),
//! [`include/uapi/xen/gntdev.h`](srctree/include/uapi/xen/gntdev.h),
//! [`include/uapi/xen/gntalloc.h`](srctree/include/uapi/xen/gntalloc.h).

/// `_IOC(dir, type, nr, size)` of the generic ioctl encoding (arm64).
pub const fn ioc(dir: u32, ty: u8, nr: u8, size: usize) -> u32 {
    (dir << 30) | ((size as u32) << 16) | ((ty as u32) << 8) | nr as u32
}

/// `struct ioctl_gntdev_unmap_notify` and `struct ioctl_gntalloc_unmap_notify`: one
/// layout.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct UnmapNotify {
    /// The byte, as an offset into the file's mappings (gntdev) or pages (gntalloc).
    pub index: u64,
    /// `UNMAP_NOTIFY_CLEAR_BYTE` and/or `UNMAP_NOTIFY_SEND_EVENT`.
    pub action: u32,
    /// The event channel to signal.
    pub event_channel_port: u32,
}

/// `UNMAP_NOTIFY_CLEAR_BYTE`.
pub const UNMAP_NOTIFY_CLEAR_BYTE: u32 = 0x1;
/// `UNMAP_NOTIFY_SEND_EVENT`.
pub const UNMAP_NOTIFY_SEND_EVENT: u32 = 0x2;

/// `EINVAL`, positive.
const EINVAL: i32 = 22;

/// `SET_UNMAP_NOTIFY`'s action: `EINVAL` for any other bit (both drivers; each checks it
/// at its own point of C's order).
pub fn check_notify_action(action: u32) -> Result<(), i32> {
    if action & !(UNMAP_NOTIFY_CLEAR_BYTE | UNMAP_NOTIFY_SEND_EVENT) != 0 {
        return Err(EINVAL);
    }
    Ok(())
}
