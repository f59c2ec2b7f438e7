// SPDX-License-Identifier: GPL-2.0

//! gntdev in Rust: `/dev/xen/gntdev`, through which user space maps pages other domains
//! granted it, and copies to and from granted pages (drivers/xen/gntdev.c).
//!
//! Built on the shared Xen core (crate `xen`) and its grant layer (`xen::grant`). Only
//! the paths of an auto-translated guest (arm64) are here: the PV paths of C (PTE
//! rewriting, MMU notifiers, kernel map operations) do not apply, and the dma-buf
//! ioctls are compiled out in this configuration, as in C.
//!
//! Parameter: `limit` (as C's, read-only here). Deliberate differences from C:
//! Documentation/gntdev.md.

use kernel::prelude::*;
use xen::misc::MiscRegistration;
// What `abi.rs` shares with the other drivers (its host build has the same file).
use xen::uapi;

#[path = "abi.rs"]
pub mod abi;
pub mod gntdev;

module! {
    type: XenGntdev,
    name: "xen_gntdev_rs",
    authors: ["The Rust Xen stack developers"],
    description: "User-space granted page access driver, in Rust",
    license: "GPL",
    params: {
        limit: u32 {
            default: 65536,
            description: "Maximum number of grants that may be mapped by one mapping request",
        },
    },
}

/// The module: the device.
pub struct XenGntdev {
    _dev: MiscRegistration,
}

impl kernel::Module for XenGntdev {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        if !xen::domain::xen_domain() {
            return Err(ENODEV);
        }
        let dev = MiscRegistration::register(c"xen/gntdev", gntdev::fops())
            .inspect_err(|e| pr_err!("cannot register /dev/xen/gntdev: {:?}\n", e))?;
        Ok(Self { _dev: dev })
    }
}

/// The `limit` parameter.
fn limit() -> u32 {
    module_parameters::limit.value()
}
