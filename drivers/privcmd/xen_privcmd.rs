// SPDX-License-Identifier: GPL-2.0

//! privcmd in Rust: `/dev/xen/privcmd`, through which Xen's toolstack makes hypercalls
//! and maps other domains' memory, and `/dev/xen/hypercall`, its hypercall buffers
//! (drivers/xen/privcmd.c, privcmd-buf.c).
//!
//! Built on the shared Xen core (crate `xen`). The file operations of `/dev/xen/privcmd`
//! are exported ([`privcmd::fops`]): xenfs serves them as `/proc/xen/privcmd`.
//!
//! Parameters: `dm_op_max_nr_bufs`, `dm_op_buf_max_size` (as C's, read-only here).
//! Deliberate differences from C: Documentation/privcmd.md.

use kernel::prelude::*;
use xen::misc::MiscRegistration;

pub use xen::domid::DomId;
// What `abi.rs` shares with the other drivers (its host build has the same file).
use xen::uapi;

#[path = "abi.rs"]
pub mod abi;
pub mod hypercall_buf;
pub mod privcmd;

module! {
    type: XenPrivcmd,
    name: "xen_privcmd_rs",
    authors: ["The Rust Xen stack developers"],
    description: "Xen hypercall passthrough and hypercall buffer devices, in Rust",
    license: "GPL",
    params: {
        dm_op_max_nr_bufs: u32 {
            default: 16,
            description: "Maximum number of buffers per dm_op hypercall",
        },
        dm_op_buf_max_size: u32 {
            default: 4096,
            description: "Maximum size of a dm_op hypercall buffer",
        },
    },
}

/// The module: the two devices.
pub struct XenPrivcmd {
    _privcmd: MiscRegistration,
    _buf: MiscRegistration,
}

impl kernel::Module for XenPrivcmd {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // C also serves a domain other than the initial one, restricted to the domain
        // xenstore names as its target; this driver serves Dom0's toolstack only.
        if !xen::domain::xen_initial_domain() {
            pr_err!("not the initial domain: privcmd serves Dom0 only\n");
            return Err(ENODEV);
        }
        let privcmd = MiscRegistration::register(c"xen/privcmd", privcmd::fops())
            .inspect_err(|e| pr_err!("cannot register /dev/xen/privcmd: {:?}\n", e))?;
        let buf = MiscRegistration::register(c"xen/hypercall", hypercall_buf::fops())
            .inspect_err(|e| pr_err!("cannot register /dev/xen/hypercall: {:?}\n", e))?;
        Ok(Self {
            _privcmd: privcmd,
            _buf: buf,
        })
    }
}

/// The limits of `IOCTL_PRIVCMD_DM_OP`, from the parameters.
fn dm_op_limits() -> abi::DmOpLimits {
    abi::DmOpLimits {
        max_bufs: module_parameters::dm_op_max_nr_bufs.value(),
        max_buf_size: u64::from(module_parameters::dm_op_buf_max_size.value()),
    }
}
