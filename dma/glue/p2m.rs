// SPDX-License-Identifier: GPL-2.0

//! The kernel's p2m as a [`P2m`].
//!
//! C header: [`include/xen/arm/page.h`](srctree/include/xen/arm/page.h).

use kernel::ffi::c_ulong;
use kernel::sync::atomic::{
    Atomic,  //
    Relaxed, //
};

use super::super::addr::{
    Bfn,    //
    XenPfn, //
};
use super::super::xen::P2m;
use super::ffi;

/// The running kernel's p2m: identity for Dom0's own RAM, the recorded machine frame for
/// pages mapped from other domains (arch/arm/xen/p2m.c).
#[derive(Clone, Copy, Debug, Default)]
pub struct KernelP2m;

impl P2m for KernelP2m {
    #[inline]
    fn pfn_to_bfn(&self, pfn: XenPfn) -> Bfn {
        // As the C inline pfn_to_bfn(): an empty tree has no entry for any frame, so the
        // common case (no foreign page mapped anywhere) costs a read of its root, not a
        // lookup.
        if !self.may_have_foreign() {
            return Bfn::new(pfn.as_u64());
        }
        self.lookup(pfn)
    }

    #[inline]
    fn lookup(&self, pfn: XenPfn) -> Bfn {
        // `unsigned long` is 64 bits on arm64: no truncation.
        // SAFETY: pure lookup in the kernel's p2m tree, which takes its own lock.
        let mfn = unsafe { ffi::__pfn_to_mfn(pfn.as_u64() as c_ulong) } as u64;
        // INVALID_P2M_ENTRY: no entry, the frame is its own.
        Bfn::new(if mfn == !0 { pfn.as_u64() } else { mfn })
    }

    #[inline]
    fn may_have_foreign(&self) -> bool {
        // SAFETY: the root pointer of the exported tree, an aligned pointer that lib/rbtree.c
        // writes with WRITE_ONCE() under the tree's lock; read without the lock, as the C
        // inline pfn_to_bfn() does. A page whose entry is being added concurrently is
        // being mapped right now, so it cannot be one of the caller's buffers.
        let root = unsafe { Atomic::from_ptr(&raw mut ffi::phys_to_mach.rb_node) };
        !root.load(Relaxed).is_null()
    }

    #[inline]
    fn bfn_to_pfn(&self, bfn: Bfn) -> XenPfn {
        // include/xen/arm/page.h: the identity, as the KUnit case
        // `bfn_to_pfn_is_identity_on_arm` checks against the C helper. Written out here
        // because it sits on every unmap.
        XenPfn::new(bfn.as_u64())
    }
}
