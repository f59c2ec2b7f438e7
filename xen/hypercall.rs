// SPDX-License-Identifier: GPL-2.0

//! The typed hypercall layer: the only place where the stack calls Xen, each call with
//! the argument structure of the Xen ABI and its result as a [`Result`].
//!
//! C headers: [`include/xen/interface/grant_table.h`](srctree/include/xen/interface/grant_table.h),
//! [`include/xen/xen.h`](srctree/include/xen/xen.h).

use kernel::ffi::{
    c_int,  //
    c_uint, //
    c_void, //
};
use kernel::prelude::*;
use kernel::sync::atomic::{
    Atomic,  //
    Relaxed, //
};

/// Xen's `ENOSYS` (xen/include/public/errno.h): the hypervisor lacks the operation.
const XEN_ENOSYS: c_int = 38;

extern "C" {
    /// `enum xen_domain_type xen_domain_type` (arch/arm/xen/enlighten.c, exported).
    static mut xen_domain_type: c_uint;
    /// `HYPERVISOR_grant_table_op()` (arch/arm64/xen/hypercall.S, exported).
    fn HYPERVISOR_grant_table_op(cmd: c_uint, uop: *mut c_void, count: c_uint) -> c_int;
}

/// Whether the kernel runs in a Xen domain (`xen_domain()`).
pub fn xen_domain() -> bool {
    // SAFETY: an aligned variable the kernel sets once at boot, before any module runs;
    // `XEN_NATIVE` is 0.
    unsafe { Atomic::from_ptr(&raw mut xen_domain_type) }.load(Relaxed) != 0
}

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
