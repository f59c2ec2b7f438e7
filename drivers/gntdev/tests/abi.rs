// SPDX-License-Identifier: GPL-2.0

//! gntdev's ABI and checks against the C driver's rules, written out here as models.

use xen_gntdev::abi::*;

#[test]
fn layouts_and_numbers_are_the_uapi_ones() {
    use core::mem::{offset_of, size_of};
    assert_eq!(size_of::<GrantRef>(), 8);
    assert_eq!(size_of::<UnmapGrantRef>(), 16);
    assert_eq!(size_of::<GetOffsetForVaddr>(), 24);
    assert_eq!(size_of::<UnmapNotify>(), 16);
    assert_eq!(size_of::<GrantCopy>(), 16);
    assert_eq!(size_of::<CopySegment>(), 24);
    assert_eq!(offset_of!(CopySegment, status) as u64, COPY_SEGMENT_STATUS);
    // _IOC(_IOC_NONE, 'G', 0, 24), as libxengnttab passes it.
    assert_eq!(Cmd::MapGrantRef.number(), 0x0018_4700);
    assert_eq!(Cmd::UnmapGrantRef.number(), 0x0010_4701);
    assert_eq!(Cmd::GetOffsetForVaddr.number(), 0x0018_4702);
    assert_eq!(Cmd::SetUnmapNotify.number(), 0x0010_4707);
    assert_eq!(Cmd::GrantCopy.number(), 0x0010_4708);
    for c in [
        Cmd::MapGrantRef,
        Cmd::UnmapGrantRef,
        Cmd::GetOffsetForVaddr,
        Cmd::SetUnmapNotify,
        Cmd::GrantCopy,
    ] {
        assert_eq!(Cmd::from_number(c.number()), Some(c));
    }
    // SET_MAX_GRANTS (_IOC(_IOC_NONE, 'G', 3, 4)) is gone from C: ENOTTY.
    assert_eq!(Cmd::from_number(ioc(0, b'G', 3, 4)), None);
}

#[test]
fn count_limits() {
    assert_eq!(check_count(0, 65536), Err(EINVAL));
    assert_eq!(check_count(1, 65536), Ok(1));
    assert_eq!(check_count(65536, 65536), Ok(65536));
    assert_eq!(check_count(65537, 65536), Err(EINVAL));
}

/// C's gntdev_add_map(), as a model over a list.
fn model(maps: &[(u64, u64)], count: u64) -> (usize, u64) {
    let mut index = 0;
    for (i, &(mi, mc)) in maps.iter().enumerate() {
        if index + count < mi {
            return (i, index);
        }
        index = mi + mc;
    }
    (maps.len(), index)
}

#[test]
fn placement_follows_c() {
    let cases: &[(&[(u64, u64)], u64)] = &[
        (&[], 4),
        (&[(0, 1)], 1),
        (&[(0, 1), (3, 2)], 1),
        (&[(0, 1), (3, 2)], 2),
        (&[(0, 1), (2, 2)], 1),
        (&[(5, 1)], 4),
        (&[(5, 1)], 5),
    ];
    for &(maps, count) in cases {
        assert_eq!(
            place(maps.iter().copied(), count),
            model(maps, count),
            "{maps:?} {count}"
        );
    }
    // A gap of exactly the size is not taken (C's `<`).
    assert_eq!(place([(0, 1), (3, 2)].into_iter(), 2), (2, 5));
    assert_eq!(place([(0, 1), (3, 2)].into_iter(), 1), (1, 1));
}

#[test]
fn notify_and_copy_checks() {
    assert_eq!(check_notify_action(0), Ok(()));
    assert_eq!(check_notify_action(3), Ok(()));
    assert_eq!(check_notify_action(4), Err(EINVAL));
    let side = |gref: u32, off: u16, dom: u16| CopySide {
        raw: u64::from(gref) | u64::from(off) << 32 | u64::from(dom) << 48,
    };
    let mut s = CopySegment {
        source: side(9, 4000, 3),
        dest: CopySide { raw: 0x1000 },
        len: 96,
        flags: GNTCOPY_SOURCE_GREF,
        status: 0,
    };
    assert_eq!(
        (s.source.gref(), s.source.offset(), s.source.domid()),
        (9, 4000, 3)
    );
    assert_eq!(check_segment(&s, 4096), Ok(()));
    s.len = 97;
    assert_eq!(check_segment(&s, 4096), Err(EINVAL));
    s.flags = 0;
    assert_eq!(check_segment(&s, 4096), Err(EINVAL));
    assert_eq!(local_piece(0x1ff0, 0, 64, 4096), (0x1ff0, 16));
    assert_eq!(local_piece(0x1ff0, 16, 64, 4096), (0x2000, 48));
}
