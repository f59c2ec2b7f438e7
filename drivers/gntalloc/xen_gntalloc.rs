// SPDX-License-Identifier: GPL-2.0

//! gntalloc in Rust: `/dev/xen/gntalloc`, through which user space grants pages of its
//! own to other domains and maps them (drivers/xen/gntalloc.c).
//!
//! Built on the shared Xen core's grant layer (`xen::grant::Grant`). Parameter: `limit`
//! (as C's, read-only here). Deliberate differences from C: Documentation/gntdev.md.

use kernel::prelude::*;
use xen::misc::MiscRegistration;
// What `abi.rs` shares with the other drivers (its host build has the same file).
use xen::uapi;

#[path = "abi.rs"]
pub mod abi;
pub mod gntalloc;

module! {
    type: XenGntalloc,
    name: "xen_gntalloc_rs",
    authors: ["The Rust Xen stack developers"],
    description: "User-space grant reference allocator driver, in Rust",
    license: "GPL",
    params: {
        limit: u32 {
            default: 1024,
            description: "Maximum number of grants that may be allocated by the device",
        },
    },
}

/// The module: the device.
pub struct XenGntalloc {
    _dev: MiscRegistration,
}

impl kernel::Module for XenGntalloc {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        if !xen::domain::xen_domain() {
            return Err(ENODEV);
        }
        let dev = MiscRegistration::register(c"xen/gntalloc", gntalloc::fops())
            .inspect_err(|e| pr_err!("cannot register /dev/xen/gntalloc: {:?}\n", e))?;
        Ok(Self { _dev: dev })
    }
}

/// The `limit` parameter.
fn limit() -> u32 {
    module_parameters::limit.value()
}
