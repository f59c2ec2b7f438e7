// SPDX-License-Identifier: GPL-2.0

//! What kind of domain the kernel runs in.
//!
//! C header: [`include/xen/xen.h`](srctree/include/xen/xen.h).

use kernel::ffi::c_uint;
use kernel::sync::atomic::{
    Atomic,  //
    Relaxed, //
};

use crate::bindings;

pub use crate::domid::DomId;

extern "C" {
    /// `enum xen_domain_type xen_domain_type` (arch/arm/xen/enlighten.c, exported).
    static mut xen_domain_type: c_uint;
}

/// Whether the kernel runs in a Xen domain (`xen_domain()`).
pub fn xen_domain() -> bool {
    // SAFETY: an aligned variable the kernel sets once at boot, before any module runs;
    // `XEN_NATIVE` is 0.
    unsafe { Atomic::from_ptr(&raw mut xen_domain_type) }.load(Relaxed) != 0
}

/// Whether the kernel runs in the initial domain, Dom0 (`xen_initial_domain()`).
pub fn xen_initial_domain() -> bool {
    // SAFETY: as `xen_domain_type`: set once at boot, before any module runs.
    let flags = unsafe { Atomic::from_ptr(&raw mut bindings::xen_start_flags) }.load(Relaxed);
    xen_domain() && flags & bindings::SIF_INITDOMAIN != 0
}
