// SPDX-License-Identifier: GPL-2.0

//! One value copied from or to a user address, as the drivers' ioctls pass their
//! arguments (`copy_from_user()`/`copy_to_user()` of a structure).

use core::mem::size_of;

use kernel::prelude::*;
use kernel::transmute::{
    AsBytes,   //
    FromBytes, //
};
use kernel::uaccess::{
    UserPtr,   //
    UserSlice, //
};

/// A `T` read from user address `at`; `EFAULT` if it cannot be.
#[inline]
pub fn read<T: FromBytes>(at: u64) -> Result<T> {
    UserSlice::new(UserPtr::from_addr(at as usize), size_of::<T>())
        .reader()
        .read::<T>()
}

/// Writes `v` to user address `at`; `EFAULT` if it cannot be.
#[inline]
pub fn write<T: AsBytes>(at: u64, v: &T) -> Result {
    UserSlice::new(UserPtr::from_addr(at as usize), size_of::<T>())
        .writer()
        .write(v)
}

// SAFETY: two `u32` after a `u64`, no padding: any bytes are a value.
unsafe impl FromBytes for crate::uapi::UnmapNotify {}
