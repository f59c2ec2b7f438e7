// SPDX-License-Identifier: GPL-2.0

//! A misc device with file operations of the driver's own (`misc_register()`).
//!
//! The kernel crate's `MiscDeviceRegistration` builds the operations itself, and they
//! take the file's private data to be the registration; a driver whose operations another
//! module serves too (privcmd's, in xenfs) needs a registration of plain
//! `struct file_operations`.
//!
//! C header: [`include/linux/miscdevice.h`](srctree/include/linux/miscdevice.h).

use core::ffi::CStr;

use kernel::bindings;
use kernel::prelude::*;
use kernel::types::Opaque;

/// File operations in a `static`: `struct file_operations` holds raw pointers (its
/// `owner`), which keep it from being `Sync` in Rust although nothing writes it once
/// built. A static gives the table one address, which other modules can share.
#[repr(transparent)]
pub struct StaticFops(pub bindings::file_operations);

// SAFETY: the table is never written; the pointers in it are to statics (the owning
// module, functions).
unsafe impl Sync for StaticFops {}

impl StaticFops {
    /// The table.
    pub const fn get(&'static self) -> &'static bindings::file_operations {
        &self.0
    }
}

/// A registered misc device, deregistered on drop.
///
/// # Invariants
///
/// `dev` is registered with `misc_register()` until drop.
pub struct MiscRegistration {
    dev: Pin<KBox<Opaque<bindings::miscdevice>>>,
}

// SAFETY: after registration the device belongs to the misc core, which serialises access
// to it; the value only deregisters it, from any thread.
unsafe impl Send for MiscRegistration {}
// SAFETY: shared access does nothing.
unsafe impl Sync for MiscRegistration {}

impl MiscRegistration {
    /// Registers `/dev/<name>` (a `/` in `name` makes a subdirectory, as `xen/privcmd`)
    /// with the operations `fops`, whose `owner` is the module they belong to.
    pub fn register(name: &'static CStr, fops: &'static bindings::file_operations) -> Result<Self> {
        let dev = KBox::pin(
            Opaque::new(bindings::miscdevice {
                minor: bindings::MISC_DYNAMIC_MINOR as i32,
                name: name.as_char_ptr(),
                fops,
                ..Default::default()
            }),
            GFP_KERNEL,
        )?;
        // SAFETY: `dev` is pinned and lives until it is deregistered in `drop`; `name` and
        // `fops` are static.
        kernel::error::to_result(unsafe { bindings::misc_register(dev.get()) })?;
        // INVARIANT: registered just above.
        Ok(Self { dev })
    }
}

impl Drop for MiscRegistration {
    fn drop(&mut self) {
        // SAFETY: registered (type invariant); open files keep the operations' module
        // alive through `fops->owner`.
        unsafe { bindings::misc_deregister(self.dev.get()) };
    }
}
