// SPDX-License-Identifier: GPL-2.0

//! The ABI of `/dev/xen/privcmd` (include/uapi/xen/privcmd.h) and the checks of what user
//! space passes, free of kernel bindings: built into the module and on the host.
//!
//! Every check returns the errno the C driver (drivers/xen/privcmd.c) returns for the
//! same input, in the same order, except where Documentation/privcmd.md says otherwise.
//! Pointers are user addresses of an arm64 (LP64) process: 64 bits.

use core::mem::size_of;

use crate::DomId;

/// An errno, positive (`EINVAL` is 22).
pub type Errno = i32;

/// `EPERM`.
pub const EPERM: Errno = 1;
/// `ENOENT`.
pub const ENOENT: Errno = 2;
/// `E2BIG`.
pub const E2BIG: Errno = 7;
/// `ENOMEM`.
pub const ENOMEM: Errno = 12;
/// `EFAULT`.
pub const EFAULT: Errno = 14;
/// `EBUSY`.
pub const EBUSY: Errno = 16;
/// `EINVAL`.
pub const EINVAL: Errno = 22;
/// `ENOTTY`.
pub const ENOTTY: Errno = 25;
/// `ENOSYS`.
pub const ENOSYS: Errno = 38;
/// `EOPNOTSUPP`.
pub const EOPNOTSUPP: Errno = 95;

/// `xen_pfn_t` on arm64.
pub type XenPfn = u64;

/// `struct privcmd_hypercall`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Hypercall {
    /// The hypercall number.
    pub op: u64,
    /// Its arguments.
    pub arg: [u64; 5],
}

/// `struct privcmd_mmap` (PV only: refused on arm64).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Mmap {
    /// Entries.
    pub num: i32,
    /// Target domain.
    pub dom: u16,
    /// User pointer to the entries.
    pub entry: u64,
}

/// `struct privcmd_mmapbatch` (version 1: errors are or'ed into the frame array).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct MmapBatch {
    /// Frames to map.
    pub num: i32,
    /// Target domain.
    pub dom: u16,
    /// User address of the mapping.
    pub addr: u64,
    /// User pointer to the frame array.
    pub arr: u64,
}

/// `struct privcmd_mmapbatch_v2` (version 2: errors in an array of their own).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct MmapBatchV2 {
    /// Frames to map.
    pub num: u32,
    /// Target domain.
    pub dom: u16,
    /// User address of the mapping.
    pub addr: u64,
    /// User pointer to the frame array.
    pub arr: u64,
    /// User pointer to the error array.
    pub err: u64,
}

/// `struct privcmd_dm_op_buf`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct DmOpBuf {
    /// User pointer.
    pub uptr: u64,
    /// Bytes.
    pub size: u64,
}

/// `struct privcmd_dm_op`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct DmOp {
    /// Target domain.
    pub dom: u16,
    /// Buffers.
    pub num: u16,
    /// User pointer to the buffer descriptors.
    pub ubufs: u64,
}

/// `struct privcmd_mmap_resource`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct MmapResource {
    /// Domain whose resource it is.
    pub dom: u16,
    /// Resource type (`XENMEM_resource_*`).
    pub type_: u32,
    /// Resource id.
    pub id: u32,
    /// First frame.
    pub idx: u32,
    /// Frames; 0 with `addr` 0 asks for the size.
    pub num: u64,
    /// User address of the mapping.
    pub addr: u64,
}

/// `struct privcmd_irqfd` (for its size: the ioctl needs `XEN_PRIVCMD_EVENTFD`).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Irqfd {
    /// User pointer to a dm_op.
    pub dm_op: u64,
    /// Its size.
    pub size: u32,
    /// The eventfd.
    pub fd: u32,
    /// Flags.
    pub flags: u32,
    /// Domain.
    pub dom: u16,
    /// Padding.
    pub pad: [u8; 2],
}

/// `struct privcmd_ioeventfd` (for its size, as [`Irqfd`]).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct Ioeventfd {
    /// User pointer to the ioreq page.
    pub ioreq: u64,
    /// User pointer to the ports.
    pub ports: u64,
    /// Address.
    pub addr: u64,
    /// Address length.
    pub addr_len: u32,
    /// The eventfd.
    pub event_fd: u32,
    /// vCPUs.
    pub vcpus: u32,
    /// Virtqueue.
    pub vq: u32,
    /// Flags.
    pub flags: u32,
    /// Domain.
    pub dom: u16,
    /// Padding.
    pub pad: [u8; 2],
}

/// `struct privcmd_pcidev_get_gsi` (for its size: the ioctl needs `XEN_ACPI`).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct PcidevGetGsi {
    /// Segment, bus, device, function.
    pub sbdf: u32,
    /// The answer.
    pub gsi: u32,
}

pub use crate::uapi::ioc;

const NONE: u32 = 0;
const WRITE: u32 = 1;

/// The ioctls of `/dev/xen/privcmd`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cmd {
    /// `IOCTL_PRIVCMD_HYPERCALL`.
    Hypercall,
    /// `IOCTL_PRIVCMD_MMAP`.
    Mmap,
    /// `IOCTL_PRIVCMD_MMAPBATCH`.
    MmapBatch,
    /// `IOCTL_PRIVCMD_MMAPBATCH_V2`.
    MmapBatchV2,
    /// `IOCTL_PRIVCMD_DM_OP`.
    DmOp,
    /// `IOCTL_PRIVCMD_RESTRICT`.
    Restrict,
    /// `IOCTL_PRIVCMD_MMAP_RESOURCE`.
    MmapResource,
    /// `IOCTL_PRIVCMD_IRQFD`.
    Irqfd,
    /// `IOCTL_PRIVCMD_IOEVENTFD`.
    Ioeventfd,
    /// `IOCTL_PRIVCMD_PCIDEV_GET_GSI`.
    PcidevGetGsi,
}

impl Cmd {
    /// Every command.
    pub const ALL: [Self; 10] = [
        Self::Hypercall,
        Self::Mmap,
        Self::MmapBatch,
        Self::MmapBatchV2,
        Self::DmOp,
        Self::Restrict,
        Self::MmapResource,
        Self::Irqfd,
        Self::Ioeventfd,
        Self::PcidevGetGsi,
    ];

    /// The ioctl number.
    pub const fn number(self) -> u32 {
        match self {
            Self::Hypercall => ioc(NONE, b'P', 0, size_of::<Hypercall>()),
            Self::Mmap => ioc(NONE, b'P', 2, size_of::<Mmap>()),
            Self::MmapBatch => ioc(NONE, b'P', 3, size_of::<MmapBatch>()),
            Self::MmapBatchV2 => ioc(NONE, b'P', 4, size_of::<MmapBatchV2>()),
            Self::DmOp => ioc(NONE, b'P', 5, size_of::<DmOp>()),
            Self::Restrict => ioc(NONE, b'P', 6, size_of::<u16>()),
            Self::MmapResource => ioc(NONE, b'P', 7, size_of::<MmapResource>()),
            Self::Irqfd => ioc(WRITE, b'P', 8, size_of::<Irqfd>()),
            Self::Ioeventfd => ioc(WRITE, b'P', 9, size_of::<Ioeventfd>()),
            Self::PcidevGetGsi => ioc(NONE, b'P', 10, size_of::<PcidevGetGsi>()),
        }
    }

    /// The command with ioctl number `n`; `None` for any other number, which the driver
    /// answers with `ENOTTY` (libxenforeignmemory's `UNIMPLEMENTED` probe relies on it).
    pub fn from_number(n: u32) -> Option<Self> {
        // One `match` on constants (a jump table or a compare tree), not a search.
        const HYPERCALL: u32 = Cmd::Hypercall.number();
        const MMAP: u32 = Cmd::Mmap.number();
        const MMAPBATCH: u32 = Cmd::MmapBatch.number();
        const MMAPBATCH_V2: u32 = Cmd::MmapBatchV2.number();
        const DM_OP: u32 = Cmd::DmOp.number();
        const RESTRICT: u32 = Cmd::Restrict.number();
        const MMAP_RESOURCE: u32 = Cmd::MmapResource.number();
        const IRQFD: u32 = Cmd::Irqfd.number();
        const IOEVENTFD: u32 = Cmd::Ioeventfd.number();
        const PCIDEV_GET_GSI: u32 = Cmd::PcidevGetGsi.number();
        Some(match n {
            HYPERCALL => Self::Hypercall,
            MMAP => Self::Mmap,
            MMAPBATCH => Self::MmapBatch,
            MMAPBATCH_V2 => Self::MmapBatchV2,
            DM_OP => Self::DmOp,
            RESTRICT => Self::Restrict,
            MMAP_RESOURCE => Self::MmapResource,
            IRQFD => Self::Irqfd,
            IOEVENTFD => Self::Ioeventfd,
            PCIDEV_GET_GSI => Self::PcidevGetGsi,
            _ => return None,
        })
    }
}

/// The domain a file is restricted to: [`DomId::INVALID`] for none.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Restriction(pub DomId);

impl Restriction {
    /// No restriction.
    pub const NONE: Self = Self(DomId::INVALID);

    /// `IOCTL_PRIVCMD_RESTRICT` to `dom`: the restriction after it, or `EINVAL` if the file
    /// is restricted to another domain. Restricting to `DOMID_INVALID` restricts nothing.
    pub fn restrict(self, dom: DomId) -> Result<Self, Errno> {
        if self.0 == DomId::INVALID {
            Ok(Self(dom))
        } else if self.0 != dom {
            Err(EINVAL)
        } else {
            Ok(self)
        }
    }

    /// Whether an operation on `dom` is allowed: `EPERM` under another domain's
    /// restriction.
    pub fn allows(self, dom: DomId) -> Result<(), Errno> {
        if self.0 != DomId::INVALID && self.0 != dom {
            Err(EPERM)
        } else {
            Ok(())
        }
    }

    /// Whether an arbitrary hypercall is allowed: `EPERM` under any restriction.
    pub fn allows_hypercall(self) -> Result<(), Errno> {
        if self.0 != DomId::INVALID {
            Err(EPERM)
        } else {
            Ok(())
        }
    }
}

/// Limits of `IOCTL_PRIVCMD_DM_OP` (C's module parameters `dm_op_max_nr_bufs` and
/// `dm_op_buf_max_size`).
#[derive(Clone, Copy, Debug)]
pub struct DmOpLimits {
    /// Buffers per call.
    pub max_bufs: u32,
    /// Bytes per buffer.
    pub max_buf_size: u64,
}

impl DmOpLimits {
    /// C's defaults.
    pub const DEFAULT: Self = Self {
        max_bufs: 16,
        max_buf_size: 4096,
    };
}

/// `IOCTL_PRIVCMD_DM_OP`, before its buffer descriptors are read: `Ok(None)` when there
/// is nothing to do (no buffer: C returns 0), else the number of descriptors to read.
pub fn dm_op_header(op: &DmOp, r: Restriction, limits: DmOpLimits) -> Result<Option<usize>, Errno> {
    r.allows(DomId::new(op.dom))?;
    if op.num == 0 {
        return Ok(None);
    }
    if u32::from(op.num) > limits.max_bufs {
        return Err(E2BIG);
    }
    Ok(Some(usize::from(op.num)))
}

/// `IOCTL_PRIVCMD_DM_OP`'s buffers: the number of user pages to pin, `E2BIG` for a
/// buffer over the limit, `EFAULT` for one that is not user memory (`access_ok`).
pub fn dm_op_pages(
    bufs: &[DmOpBuf],
    limits: DmOpLimits,
    page_shift: u32,
    access_ok: impl Fn(u64, u64) -> bool,
) -> Result<u64, Errno> {
    let page = 1u64 << page_shift;
    let mut pages = 0u64;
    for b in bufs {
        if b.size > limits.max_buf_size {
            return Err(E2BIG);
        }
        if !access_ok(b.uptr, b.size) {
            return Err(EFAULT);
        }
        // Both are small now: no overflow.
        pages += ((b.uptr & (page - 1)) + b.size).div_ceil(page);
    }
    Ok(pages)
}

/// An `IOCTL_PRIVCMD_MMAPBATCH` or `_V2` request, version 1 widened to version 2's
/// fields as C reads it (version 1's `int num` taken as unsigned).
#[derive(Clone, Copy, Debug)]
pub struct Batch {
    /// 1 or 2.
    pub version: u8,
    /// Frames.
    pub num: u32,
    /// Target domain.
    pub dom: DomId,
    /// User address of the mapping.
    pub addr: u64,
    /// User pointer to the frame array.
    pub arr: u64,
    /// User pointer to the error array (version 2).
    pub err: u64,
}

impl Batch {
    /// A version 1 request.
    pub fn v1(m: &MmapBatch) -> Self {
        Self {
            version: 1,
            num: m.num as u32,
            dom: DomId::new(m.dom),
            addr: m.addr,
            arr: m.arr,
            err: 0,
        }
    }

    /// A version 2 request.
    pub fn v2(m: &MmapBatchV2) -> Self {
        Self {
            version: 2,
            num: m.num,
            dom: DomId::new(m.dom),
            addr: m.addr,
            arr: m.arr,
            err: m.err,
        }
    }

    /// The checks before any memory is touched, in C's order: the array errors are
    /// written to must be user memory (`EFAULT`), the domain allowed (`EPERM`), the
    /// count non-zero and its pages countable (`EINVAL`). Returns the pages to map.
    pub fn check(
        &self,
        r: Restriction,
        page_shift: u32,
        xen_pfns_per_page: u64,
        access_ok: impl Fn(u64, u64) -> bool,
    ) -> Result<u64, Errno> {
        let num = u64::from(self.num);
        let ok = match self.version {
            1 => access_ok(self.arr, num * size_of::<XenPfn>() as u64),
            _ => access_ok(self.err, num * size_of::<i32>() as u64),
        };
        if !ok {
            return Err(EFAULT);
        }
        r.allows(self.dom)?;
        let pages = num.div_ceil(xen_pfns_per_page);
        if num == 0 || pages > (i64::MAX as u64 >> page_shift) {
            return Err(EINVAL);
        }
        Ok(pages)
    }
}

/// Where in a VMA of `[start, end)` a batch of `pages` pages at `addr` goes: the index
/// of its first page. A VMA not mapped yet must be covered exactly (the pages to back it
/// are allocated for all of it); one mapped already (retrying frames that were paged
/// out) takes any range inside it. `EINVAL` otherwise.
///
/// C indexes the backing pages of a retry from the VMA's first page whatever its address,
/// which remaps pages the first pass mapped; here the index follows the address.
pub fn batch_range(
    start: u64,
    end: u64,
    mapped_before: bool,
    addr: u64,
    pages: u64,
    page_shift: u32,
) -> Result<u64, Errno> {
    let len = pages.checked_mul(1 << page_shift).ok_or(EINVAL)?;
    let last = addr.checked_add(len).ok_or(EINVAL)?;
    if !mapped_before {
        if addr != start || last != end {
            return Err(EINVAL);
        }
        return Ok(0);
    }
    if addr < start || last > end {
        return Err(EINVAL);
    }
    Ok((addr - start) >> page_shift)
}

/// `PRIVCMD_MMAPBATCH_MFN_ERROR`: version 1's mark of a frame that failed.
pub const MMAPBATCH_MFN_ERROR: u32 = 0xf000_0000;
/// `PRIVCMD_MMAPBATCH_PAGED_ERROR`: version 1's mark of a frame paged out (retry).
pub const MMAPBATCH_PAGED_ERROR: u32 = 0x8000_0000;

/// Version 1's report of a frame whose mapping failed with `err` (negative): the frame
/// number with the error mark or'ed in, as C does.
pub fn v1_error(gfn: XenPfn, err: i32) -> XenPfn {
    gfn | u64::from(if err == -ENOENT {
        MMAPBATCH_PAGED_ERROR
    } else {
        MMAPBATCH_MFN_ERROR
    })
}

/// The outcome of a batch, from the per-chunk results of the remap (frames mapped, or a
/// negative errno for the whole chunk), as C's tristate `global_error`: whether the
/// per-frame errors must be written back, and whether the ioctl then fails with
/// `ENOENT` (only when a whole chunk failed with it).
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Some frame failed.
    pub any_error: bool,
    /// A whole chunk failed with `ENOENT`.
    pub enoent: bool,
}

impl BatchOutcome {
    /// Adds a chunk of `nr` frames whose remap returned `ret`.
    pub fn add(&mut self, nr: i64, ret: i64) {
        if ret != nr {
            if ret == -i64::from(ENOENT) {
                self.enoent = true;
            }
            self.any_error = true;
        }
    }

    /// The ioctl's result once the errors are written back: `ENOENT` or success.
    pub fn result(self) -> Result<(), Errno> {
        if self.enoent {
            Err(ENOENT)
        } else {
            Ok(())
        }
    }
}

/// What an `IOCTL_PRIVCMD_MMAP_RESOURCE` asks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ResourceRequest {
    /// The resource's size, in frames (`addr` and `num` both 0).
    Size,
    /// `num` frames from `idx`, mapped at `addr`.
    Map,
}

/// `IOCTL_PRIVCMD_MMAP_RESOURCE`'s checks before the VMA: the domain (`EPERM`), then
/// `addr` and `num` both set or both 0 (`EINVAL`).
pub fn resource_request(m: &MmapResource, r: Restriction) -> Result<ResourceRequest, Errno> {
    r.allows(DomId::new(m.dom))?;
    match (m.addr != 0, m.num != 0) {
        (false, false) => Ok(ResourceRequest::Size),
        (true, true) => Ok(ResourceRequest::Map),
        _ => Err(EINVAL),
    }
}

/// The pages of a VMA of `[start, end)` that a resource of `num` Xen frames at `addr`
/// fills: `EBUSY` if the VMA maps something already (C hits a `BUG_ON`), `EINVAL` unless
/// the resource covers the VMA exactly (C checks nothing, and its unmap then walks the
/// whole VMA over a shorter page array).
pub fn resource_range(
    start: u64,
    end: u64,
    mapped_before: bool,
    addr: u64,
    num: u64,
    page_shift: u32,
    xen_pfns_per_page: u64,
) -> Result<u64, Errno> {
    if mapped_before {
        return Err(EBUSY);
    }
    let pages = num.div_ceil(xen_pfns_per_page);
    let len = pages.checked_mul(1 << page_shift).ok_or(EINVAL)?;
    if addr != start || addr.checked_add(len) != Some(end) {
        return Err(EINVAL);
    }
    Ok(pages)
}
