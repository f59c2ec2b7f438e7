// SPDX-License-Identifier: GPL-2.0

//! The privcmd ABI and its checks against the C driver's rules, written out here as
//! models.

use proptest::prelude::*;
use xen_privcmd::abi::*;
use xen_privcmd::DomId;

/// The user address space of an arm64 process with 48-bit VAs: `access_ok` as
/// `__access_ok` (`size <= limit && addr <= limit - size`).
const TASK_SIZE: u64 = 1 << 48;

fn access_ok(addr: u64, size: u64) -> bool {
    size <= TASK_SIZE && addr <= TASK_SIZE - size
}

#[test]
fn struct_layouts_are_the_uapi_ones() {
    use core::mem::{offset_of, size_of};
    assert_eq!(size_of::<Hypercall>(), 48);
    assert_eq!(
        (size_of::<MmapBatch>(), offset_of!(MmapBatch, addr)),
        (24, 8)
    );
    assert_eq!(offset_of!(MmapBatch, arr), 16);
    assert_eq!(size_of::<MmapBatchV2>(), 32);
    assert_eq!(
        (offset_of!(MmapBatchV2, dom), offset_of!(MmapBatchV2, err)),
        (4, 24)
    );
    assert_eq!(
        (
            size_of::<DmOp>(),
            offset_of!(DmOp, num),
            offset_of!(DmOp, ubufs)
        ),
        (16, 2, 8)
    );
    assert_eq!(size_of::<DmOpBuf>(), 16);
    assert_eq!(size_of::<MmapResource>(), 32);
    assert_eq!(
        (
            offset_of!(MmapResource, type_),
            offset_of!(MmapResource, num)
        ),
        (4, 16)
    );
    assert_eq!((size_of::<Irqfd>(), size_of::<Ioeventfd>()), (24, 48));
}

#[test]
fn ioctl_numbers() {
    // _IOC(_IOC_NONE, 'P', 0, 48): what libxencall passes (read off Xen's linux.c and
    // the uapi header).
    assert_eq!(Cmd::Hypercall.number(), 0x0030_5000);
    assert_eq!(Cmd::MmapBatchV2.number(), 0x0020_5004);
    assert_eq!(Cmd::Restrict.number(), 0x0002_5006);
    assert_eq!(Cmd::Irqfd.number(), 0x4018_5008);
    for c in Cmd::ALL {
        assert_eq!(Cmd::from_number(c.number()), Some(c));
    }
    // libxenforeignmemory's probe, _IOC(_IOC_NONE, 'P', 0xff, 0): no such command.
    assert_eq!(Cmd::from_number(ioc(0, b'P', 0xff, 0)), None);
    // Right number, wrong size: not the command either.
    assert_eq!(Cmd::from_number(ioc(0, b'P', 0, 40)), None);
}

#[test]
fn restriction() {
    let d5 = DomId::new(5);
    let r = Restriction::NONE;
    assert_eq!(r.allows_hypercall(), Ok(()));
    assert_eq!(r.allows(DomId::new(7)), Ok(()));
    let r = r.restrict(d5).unwrap();
    assert_eq!(r.restrict(d5), Ok(r));
    assert_eq!(r.restrict(DomId::new(6)), Err(EINVAL));
    assert_eq!(r.allows(d5), Ok(()));
    assert_eq!(r.allows(DomId::new(6)), Err(EPERM));
    assert_eq!(r.allows_hypercall(), Err(EPERM));
    // Restricting to DOMID_INVALID is a no-op, as in C.
    assert_eq!(
        Restriction::NONE.restrict(DomId::INVALID),
        Ok(Restriction::NONE)
    );
}

#[test]
fn dm_op_checks_in_c_order() {
    let l = DmOpLimits::DEFAULT;
    let r = Restriction(DomId::new(3));
    let op = |dom, num| DmOp {
        dom,
        num,
        ubufs: 0x1000,
    };
    assert_eq!(dm_op_header(&op(4, 1), r, l), Err(EPERM));
    // The domain is checked before the count, as C does.
    assert_eq!(dm_op_header(&op(4, 0), r, l), Err(EPERM));
    assert_eq!(dm_op_header(&op(3, 0), r, l), Ok(None));
    assert_eq!(dm_op_header(&op(3, 17), r, l), Err(E2BIG));
    assert_eq!(dm_op_header(&op(3, 16), r, l), Ok(Some(16)));
    let b = |uptr, size| DmOpBuf { uptr, size };
    assert_eq!(
        dm_op_pages(&[b(0x1000, 4097)], l, 12, access_ok),
        Err(E2BIG)
    );
    assert_eq!(
        dm_op_pages(&[b(TASK_SIZE - 8, 16)], l, 12, access_ok),
        Err(EFAULT)
    );
    assert_eq!(
        dm_op_pages(&[b(u64::MAX - 8, 16)], l, 12, access_ok),
        Err(EFAULT)
    );
    // Sizes are checked before addresses, buffer by buffer.
    assert_eq!(
        dm_op_pages(&[b(u64::MAX, 1), b(0, 5000)], l, 12, access_ok),
        Err(EFAULT)
    );
    assert_eq!(
        dm_op_pages(&[b(0x1ff0, 0x20), b(0x3000, 0)], l, 12, access_ok),
        Ok(2)
    );
}

#[test]
fn batch_checks_in_c_order() {
    let v2 = |num, dom, err| {
        Batch::v2(&MmapBatchV2 {
            num,
            dom,
            addr: 0x10_0000,
            arr: 0x20_0000,
            err,
        })
    };
    let r = Restriction(DomId::new(2));
    // The error array before the domain before the count.
    assert_eq!(v2(4, 3, TASK_SIZE).check(r, 12, 1, access_ok), Err(EFAULT));
    assert_eq!(v2(4, 3, 0x30_0000).check(r, 12, 1, access_ok), Err(EPERM));
    assert_eq!(v2(0, 2, 0x30_0000).check(r, 12, 1, access_ok), Err(EINVAL));
    assert_eq!(v2(5, 2, 0x30_0000).check(r, 12, 1, access_ok), Ok(5));
    // 64 KiB pages hold 16 Xen frames.
    assert_eq!(v2(17, 2, 0x30_0000).check(r, 16, 16, access_ok), Ok(2));
    // Version 1 reads `int num` as unsigned and checks the frame array instead.
    let v1 = Batch::v1(&MmapBatch {
        num: -1,
        dom: 2,
        addr: 0,
        arr: 0x20_0000,
    });
    assert_eq!(v1.num, u32::MAX);
    assert_eq!(v1.check(r, 12, 1, access_ok), Ok(u64::from(u32::MAX)));
    let v1 = Batch::v1(&MmapBatch {
        num: 4,
        dom: 2,
        addr: 0,
        arr: TASK_SIZE - 16,
    });
    assert_eq!(v1.check(r, 12, 1, access_ok), Err(EFAULT));
}

#[test]
fn v1_errors_are_or_ed_into_the_frame() {
    assert_eq!(v1_error(0x1234, -ENOENT), 0x8000_1234);
    assert_eq!(v1_error(0x1234, -EINVAL), 0xf000_1234);
    assert_eq!(
        v1_error(0xffff_ffff_0000_0001, -EFAULT),
        0xffff_ffff_f000_0001
    );
}

#[test]
fn batch_outcome_is_cs_tristate() {
    let mut o = BatchOutcome::default();
    o.add(512, 512);
    assert_eq!((o, o.result()), (BatchOutcome::default(), Ok(())));
    o.add(512, 511);
    assert!(o.any_error && o.result() == Ok(()));
    o.add(10, -i64::from(ENOENT));
    assert_eq!(o.result(), Err(ENOENT));
    // An ENOENT chunk stays ENOENT whatever follows.
    o.add(10, -i64::from(EINVAL));
    assert_eq!(o.result(), Err(ENOENT));
}

#[test]
fn resource_requests() {
    let m = |dom, num, addr| MmapResource {
        dom,
        type_: 1,
        id: 0,
        idx: 0,
        num,
        addr,
    };
    let r = Restriction(DomId::new(1));
    assert_eq!(resource_request(&m(2, 0, 0), r), Err(EPERM));
    assert_eq!(resource_request(&m(1, 0, 0), r), Ok(ResourceRequest::Size));
    assert_eq!(resource_request(&m(1, 1, 0), r), Err(EINVAL));
    assert_eq!(resource_request(&m(1, 0, 0x1000), r), Err(EINVAL));
    assert_eq!(
        resource_request(&m(1, 2, 0x1000), r),
        Ok(ResourceRequest::Map)
    );
    let (s, e) = (0x10_0000, 0x10_4000);
    assert_eq!(resource_range(s, e, false, s, 4, 12, 1), Ok(4));
    assert_eq!(resource_range(s, e, true, s, 4, 12, 1), Err(EBUSY));
    assert_eq!(resource_range(s, e, false, s, 3, 12, 1), Err(EINVAL));
    assert_eq!(
        resource_range(s, e, false, s + 0x1000, 3, 12, 1),
        Err(EINVAL)
    );
    assert_eq!(resource_range(s, e, false, s, u64::MAX, 12, 1), Err(EINVAL));
}

/// C's range rule, written out: the first batch covers the VMA exactly, a retry stays
/// inside it (with 128-bit arithmetic: no overflow to think about).
fn model_range(start: u64, end: u64, before: bool, addr: u64, pages: u64) -> Option<u64> {
    let (s, e, a) = (start as u128, end as u128, addr as u128);
    let last = a + ((pages as u128) << 12);
    if last > u64::MAX as u128 {
        return None;
    }
    if !before {
        (a == s && last == e).then_some(0)
    } else {
        (a >= s && last <= e).then(|| (addr - start) >> 12)
    }
}

proptest! {
    #[test]
    fn batch_range_is_the_model(
        start in 0u64..1 << 20,
        len in 1u64..64,
        before: bool,
        addr_off in 0u64..80,
        pages in 0u64..80,
        huge: bool,
    ) {
        let (start, end) = (start << 12, (start + len) << 12);
        let addr = if huge { u64::MAX - (addr_off << 12) } else { start + (addr_off << 12) };
        let got = batch_range(start, end, before, addr, pages, 12).ok();
        prop_assert_eq!(got, model_range(start, end, before, addr, pages));
    }

    #[test]
    fn dm_op_pages_count_every_page_touched(
        bufs in prop::collection::vec((0u64..1 << 40, 0u64..=4096), 0..16),
    ) {
        let bufs: Vec<_> = bufs.into_iter().map(|(uptr, size)| DmOpBuf { uptr, size }).collect();
        let want: u64 = bufs
            .iter()
            .map(|b| {
                // Pages from the first byte's to the last byte's, none for an empty one
                // at a page boundary, as C's DIV_ROUND_UP(offset + size).
                let first = b.uptr >> 12;
                let end = (b.uptr + b.size + 4095) >> 12;
                end - first
            })
            .sum();
        prop_assert_eq!(dm_op_pages(&bufs, DmOpLimits::DEFAULT, 12, access_ok), Ok(want));
    }
}
