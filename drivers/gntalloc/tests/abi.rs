// SPDX-License-Identifier: GPL-2.0

//! gntalloc's ABI and checks against the C driver's rules, written out here as models.

use xen_gntalloc::abi::*;

#[test]
fn layouts_and_numbers_are_the_uapi_ones() {
    use core::mem::size_of;
    assert_eq!(size_of::<AllocGref>(), 16);
    assert_eq!(size_of::<DeallocGref>(), 16);
    assert_eq!(size_of::<UnmapNotify>(), 16);
    // _IOC(_IOC_NONE, 'G', 5, 24), as libxengntshr passes it.
    assert_eq!(Cmd::AllocGref.number(), 0x0018_4705);
    assert_eq!(Cmd::DeallocGref.number(), 0x0010_4706);
    assert_eq!(Cmd::SetUnmapNotify.number(), 0x0010_4707);
    for c in [Cmd::AllocGref, Cmd::DeallocGref, Cmd::SetUnmapNotify] {
        assert_eq!(Cmd::from_number(c.number()), Some(c));
    }
    assert_eq!(Cmd::from_number(ioc(0, b'G', 0, 24)), None);
}

#[test]
fn limit_is_global_and_cannot_overflow() {
    assert_eq!(check_limit(0, 1024, 1024), Ok(()));
    assert_eq!(check_limit(0, 1025, 1024), Err(ENOSPC));
    assert_eq!(check_limit(1000, 25, 1024), Err(ENOSPC));
    assert_eq!(check_limit(1000, 24, 1024), Ok(()));
    assert_eq!(check_limit(2000, 1, 1024), Err(ENOSPC));
    assert_eq!(check_limit(0, u32::MAX, u32::MAX), Ok(()));
    assert_eq!(check_limit(1, u32::MAX, u32::MAX), Err(ENOSPC));
}

/// C's find_grefs(), as a model over a list of offsets (its count a u32 that wraps).
fn model(offsets: &[u64], mut index: u64, mut count: u32) -> Option<usize> {
    let mut rv = None;
    for (i, &o) in offsets.iter().enumerate() {
        if o == index && rv.is_none() {
            rv = Some(i);
        }
        if rv.is_some() {
            if o != index {
                return None;
            }
            index += 4096;
            count = count.wrapping_sub(1);
            if count == 0 {
                return rv;
            }
        }
    }
    None
}

#[test]
fn runs_follow_c() {
    let lists: &[&[u64]] = &[
        &[],
        &[0],
        &[0, 4096, 8192],
        &[0, 8192, 12288],
        &[4096, 8192],
    ];
    for l in lists {
        for index in [0u64, 4096, 8192, 12288, 100] {
            for count in 0..5u32 {
                assert_eq!(
                    find_run(l, index, count, 4096),
                    model(l, index, count),
                    "{l:?} {index} {count}"
                );
            }
        }
    }
}
