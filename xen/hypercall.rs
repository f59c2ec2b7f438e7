// SPDX-License-Identifier: GPL-2.0

//! The typed hypercall layer: the only place where the stack calls Xen, each call with
//! the argument structure of the Xen ABI and its result as a [`Result`].
//!
//! C headers: [`include/xen/interface/grant_table.h`](srctree/include/xen/interface/grant_table.h),
//! [`include/xen/xen.h`](srctree/include/xen/xen.h).

use core::ptr;

use kernel::ffi::{
    c_int,   //
    c_uint,  //
    c_ulong, //
};
use kernel::prelude::*;

use crate::bindings::{
    self,                      //
    HYPERVISOR_grant_table_op, //
};
pub use crate::domain::xen_domain;
use crate::domain::DomId;

/// Xen's `ENOSYS` (xen/include/public/errno.h): the hypervisor lacks the operation.
const XEN_ENOSYS: c_int = 38;

/// Xen's answer as a [`Result`]: 0, or a negative errno (Xen's values are Linux's for
/// the errors these calls return).
fn to_result(r: c_int) -> Result {
    if r == 0 {
        Ok(())
    } else {
        Err(Error::from_errno(r))
    }
}

/// Grant-table operations (`HYPERVISOR_grant_table_op`).
pub mod grant_table {
    use super::*;

    /// `GNTTABOP_cache_flush`.
    const GNTTABOP_CACHE_FLUSH: c_uint = 12;

    /// `GNTTAB_CACHE_CLEAN`: write dirty lines back.
    pub const CACHE_CLEAN: u32 = 1 << 0;
    /// `GNTTAB_CACHE_INVAL`: drop the lines.
    pub const CACHE_INVAL: u32 = 1 << 1;

    /// `struct gnttab_cache_flush`, for a machine address (not a grant reference: the
    /// source is `a.dev_bus_addr`). The layout is checked against the C one in
    /// `xen/helpers.c`.
    #[repr(C)]
    #[derive(Clone, Copy, Default, Debug)]
    pub struct CacheFlush {
        /// Machine address of the Xen page.
        pub dev_bus_addr: u64,
        /// Offset into the page.
        pub offset: u16,
        /// Bytes; `offset + length` must not exceed a Xen page.
        pub length: u16,
        /// [`CACHE_CLEAN`] and/or [`CACHE_INVAL`].
        pub op: u32,
    }

    /// One `GNTTABOP_cache_flush` entry: Xen's result.
    pub fn cache_flush(entry: &CacheFlush) -> Result {
        let mut e = *entry;
        // SAFETY: one argument structure of the ABI's layout, which Xen only reads; Xen
        // checks that this domain may touch the page.
        to_result(unsafe {
            HYPERVISOR_grant_table_op(GNTTABOP_CACHE_FLUSH, (&raw mut e).cast(), 1)
        })
    }

    /// Whether Xen implements `GNTTABOP_cache_flush`, probed as arch/arm/xen/mm.c does: a
    /// zeroed entry gets anything but `ENOSYS`.
    pub fn has_cache_flush() -> bool {
        if !xen_domain() {
            return false;
        }
        let mut e = CacheFlush::default();
        // SAFETY: as in `cache_flush`; a zeroed entry flushes nothing.
        let r = unsafe { HYPERVISOR_grant_table_op(GNTTABOP_CACHE_FLUSH, (&raw mut e).cast(), 1) };
        r != -XEN_ENOSYS
    }
}

/// The hypercalls of privcmd's `IOCTL_PRIVCMD_HYPERCALL`: any hypercall, with the
/// arguments user space gives (`privcmd_call()`, arch/arm64/xen/hypercall.S).
pub mod privcmd {
    use super::*;

    /// Hypercall `op` with `args`; Xen's result (0, a count, or a negative errno) as the
    /// ioctl returns it.
    ///
    /// # Safety
    ///
    /// Pointers in `args` are user addresses of the calling process, which Xen reads and
    /// writes through the process's page tables with the calling task's rights; the caller
    /// runs in that task, with the privilege to make the call (the file of
    /// `/dev/xen/privcmd`, not restricted to a domain).
    #[inline]
    pub unsafe fn call(op: u64, args: &[u64; 5]) -> i64 {
        // SAFETY: per this function's requirements; on arm64 the hypercall needs no
        // preemption bracketing (include/xen/xen-ops.h).
        let r = unsafe {
            bindings::privcmd_call(
                op as c_uint,
                args[0] as c_ulong,
                args[1] as c_ulong,
                args[2] as c_ulong,
                args[3] as c_ulong,
                args[4] as c_ulong,
            )
        };
        r as i64
    }
}

/// Device-model operations (`HYPERVISOR_dm_op`, xen/include/public/hvm/dm_op.h).
pub mod dm_op {
    use super::*;

    pub use crate::bindings::xen_dm_op_buf as Buf;

    /// A buffer of `size` bytes at user address `uptr`, for [`call`].
    pub fn buf(uptr: u64, size: u64) -> Buf {
        let mut b = Buf::default();
        b.h.__bindgen_anon_1.q = uptr;
        b.size = size;
        b
    }

    /// `HYPERVISOR_dm_op(dom, bufs)`: Xen's result.
    ///
    /// # Safety
    ///
    /// Each buffer is user memory of the calling process, pinned by the caller for the
    /// duration of the call.
    pub unsafe fn call(dom: DomId, bufs: &mut [Buf]) -> c_int {
        // SAFETY: per this function's requirements; `bufs` is the array Xen reads.
        unsafe { bindings::HYPERVISOR_dm_op(dom.as_u16(), bufs.len() as c_uint, bufs.as_mut_ptr()) }
    }
}

/// Memory operations (`HYPERVISOR_memory_op`, xen/include/public/memory.h).
pub mod memory {
    use super::*;

    pub use crate::bindings::xen_mem_acquire_resource as AcquireResource;

    /// `XENMEM_acquire_resource`: with no frame list, asks for the resource's size
    /// (returned in `nr_frames`); with one, maps the resource's frames at those of the
    /// list (physical frames of the caller). Xen's result.
    ///
    /// # Safety
    ///
    /// A frame list names `nr_frames` frames of this domain that Xen may populate: pages
    /// the caller took out of the physmap (ballooned), kernel memory.
    pub unsafe fn acquire_resource(arg: &mut AcquireResource) -> c_int {
        // SAFETY: one argument structure of the ABI's layout; its frame list per this
        // function's requirements.
        unsafe {
            bindings::HYPERVISOR_memory_op(
                bindings::XENMEM_acquire_resource,
                ptr::from_mut(arg).cast(),
            )
        }
    }
}
