// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `xen_privcmd_abi`: the privcmd driver's ABI (its `abi.rs`, compiled into
//! this module as into the driver) against what C compiles from
//! include/uapi/xen/privcmd.h (`helpers.c`): every ioctl number, structure size and
//! field offset, and version 1's error marks. The module does nothing else; it does not
//! need the driver loaded (which refuses to load outside the initial domain), so the
//! suite runs in the bare boot too.

use kernel::prelude::*;

pub use xen::domid::DomId;
use xen::uapi;

#[path = "../abi.rs"]
pub mod abi;

module! {
    type: XenPrivcmdTest,
    name: "xen_privcmd_test",
    authors: ["The Rust Xen stack developers"],
    description: "KUnit suite of the Rust privcmd driver's ABI against C's",
    license: "GPL",
}

struct XenPrivcmdTest;

impl kernel::Module for XenPrivcmdTest {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Self)
    }
}

#[kunit_tests(xen_privcmd_abi)]
mod tests {
    use crate::abi::{
        self, //
        Cmd,  //
    };
    use core::mem::{
        offset_of, //
        size_of,   //
    };
    use kernel::ffi::{
        c_char, //
        c_uint, //
    };
    use kernel::prelude::*;

    extern "C" {
        fn xrs_privcmd_c_abi(i: c_uint, name: *mut *const c_char) -> u64;
    }

    /// The Rust side of `helpers.c`'s table, row for row.
    fn rust_facts() -> [(&'static CStr, u64); 53] {
        let n = |c: Cmd| u64::from(c.number());
        [
            (c"IOCTL_PRIVCMD_HYPERCALL", n(Cmd::Hypercall)),
            (c"IOCTL_PRIVCMD_MMAP", n(Cmd::Mmap)),
            (c"IOCTL_PRIVCMD_MMAPBATCH", n(Cmd::MmapBatch)),
            (c"IOCTL_PRIVCMD_MMAPBATCH_V2", n(Cmd::MmapBatchV2)),
            (c"IOCTL_PRIVCMD_DM_OP", n(Cmd::DmOp)),
            (c"IOCTL_PRIVCMD_RESTRICT", n(Cmd::Restrict)),
            (c"IOCTL_PRIVCMD_MMAP_RESOURCE", n(Cmd::MmapResource)),
            (c"IOCTL_PRIVCMD_IRQFD", n(Cmd::Irqfd)),
            (c"IOCTL_PRIVCMD_IOEVENTFD", n(Cmd::Ioeventfd)),
            (c"IOCTL_PRIVCMD_PCIDEV_GET_GSI", n(Cmd::PcidevGetGsi)),
            (
                c"PRIVCMD_MMAPBATCH_MFN_ERROR",
                u64::from(abi::MMAPBATCH_MFN_ERROR),
            ),
            (
                c"PRIVCMD_MMAPBATCH_PAGED_ERROR",
                u64::from(abi::MMAPBATCH_PAGED_ERROR),
            ),
            (
                c"sizeof privcmd_hypercall",
                size_of::<abi::Hypercall>() as u64,
            ),
            (
                c"privcmd_hypercall.arg",
                offset_of!(abi::Hypercall, arg) as u64,
            ),
            (c"sizeof privcmd_mmap", size_of::<abi::Mmap>() as u64),
            (c"privcmd_mmap.dom", offset_of!(abi::Mmap, dom) as u64),
            (c"privcmd_mmap.entry", offset_of!(abi::Mmap, entry) as u64),
            (
                c"sizeof privcmd_mmapbatch",
                size_of::<abi::MmapBatch>() as u64,
            ),
            (
                c"privcmd_mmapbatch.dom",
                offset_of!(abi::MmapBatch, dom) as u64,
            ),
            (
                c"privcmd_mmapbatch.addr",
                offset_of!(abi::MmapBatch, addr) as u64,
            ),
            (
                c"privcmd_mmapbatch.arr",
                offset_of!(abi::MmapBatch, arr) as u64,
            ),
            (
                c"sizeof privcmd_mmapbatch_v2",
                size_of::<abi::MmapBatchV2>() as u64,
            ),
            (
                c"privcmd_mmapbatch_v2.dom",
                offset_of!(abi::MmapBatchV2, dom) as u64,
            ),
            (
                c"privcmd_mmapbatch_v2.addr",
                offset_of!(abi::MmapBatchV2, addr) as u64,
            ),
            (
                c"privcmd_mmapbatch_v2.arr",
                offset_of!(abi::MmapBatchV2, arr) as u64,
            ),
            (
                c"privcmd_mmapbatch_v2.err",
                offset_of!(abi::MmapBatchV2, err) as u64,
            ),
            (
                c"sizeof privcmd_dm_op_buf",
                size_of::<abi::DmOpBuf>() as u64,
            ),
            (
                c"privcmd_dm_op_buf.size",
                offset_of!(abi::DmOpBuf, size) as u64,
            ),
            (c"sizeof privcmd_dm_op", size_of::<abi::DmOp>() as u64),
            (c"privcmd_dm_op.num", offset_of!(abi::DmOp, num) as u64),
            (c"privcmd_dm_op.ubufs", offset_of!(abi::DmOp, ubufs) as u64),
            (
                c"sizeof privcmd_mmap_resource",
                size_of::<abi::MmapResource>() as u64,
            ),
            (
                c"privcmd_mmap_resource.type",
                offset_of!(abi::MmapResource, type_) as u64,
            ),
            (
                c"privcmd_mmap_resource.id",
                offset_of!(abi::MmapResource, id) as u64,
            ),
            (
                c"privcmd_mmap_resource.idx",
                offset_of!(abi::MmapResource, idx) as u64,
            ),
            (
                c"privcmd_mmap_resource.num",
                offset_of!(abi::MmapResource, num) as u64,
            ),
            (
                c"privcmd_mmap_resource.addr",
                offset_of!(abi::MmapResource, addr) as u64,
            ),
            (c"sizeof privcmd_irqfd", size_of::<abi::Irqfd>() as u64),
            (c"privcmd_irqfd.size", offset_of!(abi::Irqfd, size) as u64),
            (c"privcmd_irqfd.fd", offset_of!(abi::Irqfd, fd) as u64),
            (c"privcmd_irqfd.flags", offset_of!(abi::Irqfd, flags) as u64),
            (c"privcmd_irqfd.dom", offset_of!(abi::Irqfd, dom) as u64),
            (
                c"sizeof privcmd_ioeventfd",
                size_of::<abi::Ioeventfd>() as u64,
            ),
            (
                c"privcmd_ioeventfd.ports",
                offset_of!(abi::Ioeventfd, ports) as u64,
            ),
            (
                c"privcmd_ioeventfd.addr",
                offset_of!(abi::Ioeventfd, addr) as u64,
            ),
            (
                c"privcmd_ioeventfd.addr_len",
                offset_of!(abi::Ioeventfd, addr_len) as u64,
            ),
            (
                c"privcmd_ioeventfd.event_fd",
                offset_of!(abi::Ioeventfd, event_fd) as u64,
            ),
            (
                c"privcmd_ioeventfd.vcpus",
                offset_of!(abi::Ioeventfd, vcpus) as u64,
            ),
            (
                c"privcmd_ioeventfd.vq",
                offset_of!(abi::Ioeventfd, vq) as u64,
            ),
            (
                c"privcmd_ioeventfd.flags",
                offset_of!(abi::Ioeventfd, flags) as u64,
            ),
            (
                c"privcmd_ioeventfd.dom",
                offset_of!(abi::Ioeventfd, dom) as u64,
            ),
            (
                c"sizeof privcmd_pcidev_get_gsi",
                size_of::<abi::PcidevGetGsi>() as u64,
            ),
            (
                c"privcmd_pcidev_get_gsi.gsi",
                offset_of!(abi::PcidevGetGsi, gsi) as u64,
            ),
        ]
    }

    /// Row `i` of C's table: its name (`None` past the end) and value.
    fn c_fact(i: usize) -> (Option<&'static CStr>, u64) {
        let mut name: *const c_char = core::ptr::null();
        // SAFETY: the helper writes a pointer to a static string, or null, into `name`.
        let value = unsafe { xrs_privcmd_c_abi(i as c_uint, &mut name) };
        if name.is_null() {
            return (None, 0);
        }
        // SAFETY: a NUL-terminated string of static storage (the C table's).
        (Some(unsafe { CStr::from_char_ptr(name) }), value)
    }

    #[test]
    fn every_row_matches_c() {
        let rust = rust_facts();
        for (i, (name, value)) in rust.iter().enumerate() {
            let (c_name, c_value) = c_fact(i);
            if c_name != Some(*name) || *value != c_value {
                pr_err!(
                    "row {}: Rust {:?} {:#x}, C {:?} {:#x}\n",
                    i,
                    name,
                    value,
                    c_name,
                    c_value
                );
            }
            assert_eq!(c_name, Some(*name));
            assert_eq!(*value, c_value);
        }
        // C's table has no more rows than Rust's.
        assert_eq!(c_fact(rust.len()).0, None);
    }

    #[test]
    fn numbers_decode_to_their_commands() {
        for c in Cmd::ALL {
            assert_eq!(Cmd::from_number(c.number()), Some(c));
        }
        // libxenforeignmemory's probe, `_IOC(_IOC_NONE, 'P', 0xff, 0)`: no command.
        assert_eq!(Cmd::from_number(abi::ioc(0, b'P', 0xff, 0)), None);
    }
}
