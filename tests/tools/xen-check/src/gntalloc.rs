// SPDX-License-Identifier: GPL-2.0

//! The cases of `/dev/xen/gntalloc`, written from include/uapi/xen/gntalloc.h
//! independently of the driver's `abi.rs`. Pages are granted to Dom0 itself.

use crate::{
    anon, close, errno_name, ioc, ioctl, ioctl_raw, mmap_prot, munmap, open, res, unmapped,
};
use crate::{MAP_PRIVATE, MAP_SHARED, O_RDWR, PAGE};

const ALLOC_GREF: u64 = ioc(0, b'G', 5, 24);
const DEALLOC_GREF: u64 = ioc(0, b'G', 6, 16);
const SET_UNMAP_NOTIFY: u64 = ioc(0, b'G', 7, 16);

struct Dev(i64);

impl Dev {
    fn open() -> Self {
        let fd = open("/dev/xen/gntalloc", O_RDWR);
        assert!(fd >= 0, "open /dev/xen/gntalloc: {}", errno_name(fd));
        Self(fd)
    }
    /// ALLOC_GREF of `n` writable pages for `dom`: (result, index).
    fn alloc(&self, dom: u16, n: u32) -> (i64, u64) {
        let mut buf = vec![0u32; 4 + n.max(2) as usize];
        buf[0] = u32::from(dom) | 1 << 16;
        buf[1] = n;
        let r = ioctl(self.0, ALLOC_GREF, buf.as_mut_ptr() as *const u32);
        (r, u64::from(buf[2]) | u64::from(buf[3]) << 32)
    }
    fn dealloc(&self, index: u64, count: u64) -> i64 {
        let d = [index, count];
        ioctl(self.0, DEALLOC_GREF, d.as_ptr())
    }
    fn notify(&self, index: u64, action: u64, port: u64) -> i64 {
        let n = [index, action | port << 32];
        ioctl(self.0, SET_UNMAP_NOTIFY, n.as_ptr())
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        close(self.0);
    }
}

pub fn cases() -> Vec<(&'static str, String)> {
    let mut v: Vec<(&'static str, String)> = Vec::new();
    let with = |f: &dyn Fn(&Dev) -> String| f(&Dev::open());
    v.push((
        "gntalloc-unknown-ioctl",
        with(&|g| res(ioctl_raw(g.0, ioc(0, b'G', 0x55, 0), 0))),
    ));
    v.push((
        "gntalloc-alloc-over-limit",
        with(&|g| res(g.alloc(0, 1025).0)),
    ));
    v.push((
        "gntalloc-alloc-unmapped-argument",
        with(&|g| res(ioctl_raw(g.0, ALLOC_GREF, unmapped()))),
    ));
    v.push((
        "gntalloc-alloc-refs-unmapped",
        with(&|g| {
            // The header at the end of a page, the references past it unmapped.
            let page = anon(2);
            munmap(page + PAGE as i64, PAGE);
            let at = page + PAGE as i64 - 16;
            // SAFETY: 16 writable bytes at the end of the first page.
            unsafe { core::ptr::write(at as *mut [u32; 4], [1 << 16, 2, 0, 0]) };
            let r = res(ioctl_raw(g.0, ALLOC_GREF, at as u64));
            munmap(page, PAGE);
            r
        }),
    ));
    v.push((
        "gntalloc-alloc-zero",
        with(&|g| {
            let (r, i) = g.alloc(0, 0);
            format!("{} index={i}", res(r))
        }),
    ));
    v.push((
        "gntalloc-alloc-for-missing-domain",
        with(&|g| {
            let (r, i) = g.alloc(1000, 1);
            format!("{}; dealloc {}", res(r), res(g.dealloc(i, 1)))
        }),
    ));
    v.push((
        "gntalloc-dealloc-twice",
        with(&|g| {
            let (_, i) = g.alloc(0, 1);
            format!("{}, {}", res(g.dealloc(i, 1)), res(g.dealloc(i, 1)))
        }),
    ));
    v.push((
        "gntalloc-dealloc-never-allocated",
        with(&|g| res(g.dealloc(64 * PAGE, 1))),
    ));
    v.push((
        "gntalloc-dealloc-count-zero",
        with(&|g| {
            let (_, i) = g.alloc(0, 1);
            res(g.dealloc(i, 0))
        }),
    ));
    v.push((
        "gntalloc-dealloc-across-a-hole",
        with(&|g| {
            let (_, i) = g.alloc(0, 3);
            format!("{}; {}", res(g.dealloc(i + PAGE, 1)), res(g.dealloc(i, 3)))
        }),
    ));
    v.push((
        "gntalloc-mmap-private",
        with(&|g| {
            let (_, i) = g.alloc(0, 1);
            res(mmap_prot(PAGE, 3, MAP_PRIVATE, g.0, i))
        }),
    ));
    v.push((
        "gntalloc-mmap-wrong-length",
        with(&|g| {
            let (_, i) = g.alloc(0, 1);
            res(mmap_prot(2 * PAGE, 3, MAP_SHARED, g.0, i))
        }),
    ));
    v.push((
        "gntalloc-mmap-nothing-there",
        with(&|g| res(mmap_prot(PAGE, 3, MAP_SHARED, g.0, 32 * PAGE))),
    ));
    v.push((
        "gntalloc-mmap-then-dealloc",
        with(&|g| {
            // libxengntshr's order: mmap, DEALLOC at once, then use the pages.
            let (_, i) = g.alloc(0, 2);
            let a = mmap_prot(2 * PAGE, 3, MAP_SHARED, g.0, i);
            if a < 0 {
                return errno_name(a);
            }
            let d = res(g.dealloc(i, 2));
            // SAFETY: two pages mapped shared, still alive through the mapping.
            unsafe { core::ptr::write_volatile((a + PAGE as i64) as *mut u32, 0xfeed) };
            // SAFETY: as above.
            let back = unsafe { core::ptr::read_volatile((a + PAGE as i64) as *const u32) };
            munmap(a, 2 * PAGE);
            format!("dealloc {d}; page alive {}", back == 0xfeed)
        }),
    ));
    v.push((
        "gntalloc-notify-bad-action",
        with(&|g| {
            let (_, i) = g.alloc(0, 1);
            res(g.notify(i, 4, 0))
        }),
    ));
    v.push((
        "gntalloc-notify-no-page",
        with(&|g| res(g.notify(64 * PAGE, 1, 0))),
    ));
    v.push((
        "gntalloc-notify-no-page-bad-action",
        with(&|g| res(g.notify(64 * PAGE, 4, 0))),
    ));
    v.push((
        "gntalloc-notify-bad-event-port",
        with(&|g| {
            let (_, i) = g.alloc(0, 1);
            res(g.notify(i, 2, 9999))
        }),
    ));
    v
}
