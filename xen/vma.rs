// SPDX-License-Identifier: GPL-2.0

//! A VMA of a driver that keeps an [`Arc`] of its own in `vm_private_data`: one
//! reference per VMA, taken when the driver's mmap installs it ([`set_arc`]) and by the
//! VMA's `open` when a split or a fork copies the VMA ([`arc_open`]), dropped by its
//! `close` ([`arc_close`]). A driver's `vm_operations_struct` names the two functions
//! for its type: `open: Some(xen::vma::arc_open::<T>)`.
//!
//! C header: [`include/linux/mm_types.h`](srctree/include/linux/mm_types.h).

use core::ptr;

use kernel::bindings;
use kernel::sync::{
    Arc,       //
    ArcBorrow, //
};

/// Gives `value` to `vma`, whose `close` must be [`arc_close::<T>`].
///
/// # Safety
///
/// `vma` is being set up by the driver's mmap (not shared yet), and its operations are
/// [`arc_open::<T>`] and [`arc_close::<T>`].
pub unsafe fn set_arc<T: Send + Sync>(vma: *mut bindings::vm_area_struct, value: Arc<T>) {
    // SAFETY: per this function's requirements.
    unsafe { (*vma).vm_private_data = Arc::into_raw(value).cast_mut().cast() };
}

/// The value a VMA of the driver holds, borrowed while the VMA is.
///
/// # Safety
///
/// `vma` holds an `Arc<T>` given by [`set_arc`], and lives as long as the borrow (the
/// caller holds its address space's lock or is one of its operations).
pub unsafe fn get<'a, T: Send + Sync>(vma: *mut bindings::vm_area_struct) -> ArcBorrow<'a, T> {
    // SAFETY: per this function's requirements.
    unsafe { ArcBorrow::from_raw((*vma).vm_private_data.cast::<T>()) }
}

/// `open`: a VMA split off or copied on fork holds one more reference.
///
/// # Safety
///
/// Called by the mm with a VMA copied from one [`set_arc`] set up with a `T`.
pub unsafe extern "C" fn arc_open<T: Send + Sync>(vma: *mut bindings::vm_area_struct) {
    // SAFETY: the copy holds the pointer of the original, whose reference is alive.
    let value: Arc<T> = unsafe { get::<T>(vma) }.into();
    let _ = Arc::into_raw(value);
}

/// `close`: drops the VMA's reference.
///
/// # Safety
///
/// Called by the mm with a VMA [`set_arc`] or [`arc_open`] gave a reference to a `T`,
/// once, as it goes away.
pub unsafe extern "C" fn arc_close<T: Send + Sync>(vma: *mut bindings::vm_area_struct) {
    // SAFETY: the VMA's own reference, taken back once.
    let value = unsafe { Arc::from_raw((*vma).vm_private_data.cast::<T>()) };
    // SAFETY: as above; the VMA goes away.
    unsafe { (*vma).vm_private_data = ptr::null_mut() };
    drop(value);
}
