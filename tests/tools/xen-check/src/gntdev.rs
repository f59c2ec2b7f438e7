// SPDX-License-Identifier: GPL-2.0

//! The cases of `/dev/xen/gntdev`, against the grants a DomU's toolstack seeded for Dom0
//! (Xen's reserved references: 0, the console ring; 1, the xenstore ring). The ABI is
//! written from include/uapi/xen/gntdev.h, independently of the driver's `abi.rs`.

use crate::{
    anon,       //
    close,      //
    errno_name, //
    ioc,        //
    ioctl,      //
    ioctl_raw,  //
    mmap_prot,  //
    munmap,     //
    open,       //
    res,        //
    unmapped,   //
    MAP_PRIVATE,
    MAP_SHARED,
    O_RDWR,
    PAGE,
};

const MAP_GRANT_REF: u64 = ioc(0, b'G', 0, 24);
const UNMAP_GRANT_REF: u64 = ioc(0, b'G', 1, 16);
const GET_OFFSET_FOR_VADDR: u64 = ioc(0, b'G', 2, 24);
const SET_MAX_GRANTS: u64 = ioc(0, b'G', 3, 4);
const SET_UNMAP_NOTIFY: u64 = ioc(0, b'G', 7, 16);
const GRANT_COPY: u64 = ioc(0, b'G', 8, 16);

/// The console ring's reserved grant reference; the xenstore ring's.
const CONSOLE_REF: u32 = 0;
const XENSTORE_REF: u32 = 1;
/// A byte of the console page that no ring uses (`struct xencons_interface` ends at
/// 3088): safe to clear.
const SPARE_BYTE: u64 = 4000;

#[repr(C)]
struct Map1 {
    count: u32,
    pad: u32,
    index: u64,
    domid: u32,
    gref: u32,
}

#[repr(C)]
struct Unmap {
    index: u64,
    count: u32,
    pad: u32,
}

#[repr(C)]
#[derive(Default)]
struct Offset {
    vaddr: u64,
    offset: u64,
    count: u32,
    pad: u32,
}

#[repr(C)]
struct Notify {
    index: u64,
    action: u32,
    port: u32,
}

#[repr(C)]
struct Segment {
    source: u64,
    dest: u64,
    len: u16,
    flags: u16,
    status: i16,
}

#[repr(C)]
struct Copy {
    count: u32,
    segments: u64,
}

fn foreign(gref: u32, offset: u16, dom: u16) -> u64 {
    u64::from(gref) | u64::from(offset) << 32 | u64::from(dom) << 48
}

struct Dev {
    fd: i64,
}

impl Dev {
    fn open() -> Self {
        let fd = open("/dev/xen/gntdev", O_RDWR);
        assert!(fd >= 0, "open /dev/xen/gntdev: {}", errno_name(fd));
        Self { fd }
    }

    /// MAP_GRANT_REF of one grant: (result, index).
    fn map(&self, dom: u32, gref: u32) -> (i64, u64) {
        let mut m = Map1 {
            count: 1,
            pad: 0,
            index: !0,
            domid: dom,
            gref,
        };
        let r = ioctl(self.fd, MAP_GRANT_REF, &mut m as *mut Map1 as *const Map1);
        (r, m.index)
    }

    fn unmap(&self, index: u64, count: u32) -> i64 {
        let u = Unmap {
            index,
            count,
            pad: 0,
        };
        ioctl(self.fd, UNMAP_GRANT_REF, &u)
    }

    fn mmap(&self, pages: u64, prot: u64, flags: u64, index: u64) -> i64 {
        mmap_prot(pages * PAGE, prot, flags, self.fd, index)
    }

    fn notify(&self, index: u64, action: u32, port: u32) -> i64 {
        let n = Notify {
            index,
            action,
            port,
        };
        ioctl(self.fd, SET_UNMAP_NOTIFY, &n)
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        close(self.fd);
    }
}

const RW: u64 = 3;
const RO: u64 = 1;

pub fn cases(dom: u16, rust_only: bool) -> Vec<(&'static str, String)> {
    let d = u32::from(dom);
    let mut v: Vec<(&'static str, String)> = Vec::new();
    let with = |f: &dyn Fn(&Dev) -> String| f(&Dev::open());

    v.push((
        "gntdev-unknown-ioctl",
        with(&|g| res(ioctl_raw(g.fd, ioc(0, b'G', 0x55, 0), 0))),
    ));
    v.push((
        "gntdev-set-max-grants",
        with(&|g| {
            let n = 1u32;
            res(ioctl(g.fd, SET_MAX_GRANTS, &n))
        }),
    ));
    v.push((
        "gntdev-map-count-zero",
        with(&|g| {
            let mut m = Map1 {
                count: 0,
                pad: 0,
                index: 0,
                domid: d,
                gref: XENSTORE_REF,
            };
            res(ioctl(
                g.fd,
                MAP_GRANT_REF,
                &mut m as *mut Map1 as *const Map1,
            ))
        }),
    ));
    v.push((
        "gntdev-map-count-over-limit",
        with(&|g| {
            let mut m = Map1 {
                count: 65537,
                pad: 0,
                index: 0,
                domid: d,
                gref: XENSTORE_REF,
            };
            res(ioctl(
                g.fd,
                MAP_GRANT_REF,
                &mut m as *mut Map1 as *const Map1,
            ))
        }),
    ));
    v.push((
        "gntdev-map-unmapped-argument",
        with(&|g| res(ioctl_raw(g.fd, MAP_GRANT_REF, unmapped()))),
    ));
    v.push((
        "gntdev-map-refs-past-the-array",
        with(&|g| {
            // Two grants announced, the second one on an unmapped page.
            let page = anon(2);
            munmap(page + PAGE as i64, PAGE);
            let at = page + PAGE as i64 - 24;
            // SAFETY: 24 writable bytes at the end of the first page.
            unsafe {
                core::ptr::write(
                    at as *mut Map1,
                    Map1 {
                        count: 2,
                        pad: 0,
                        index: 0,
                        domid: d,
                        gref: XENSTORE_REF,
                    },
                )
            };
            let r = res(ioctl_raw(g.fd, MAP_GRANT_REF, at as u64));
            munmap(page, PAGE);
            r
        }),
    ));
    v.push((
        "gntdev-map-xenstore-ring",
        with(&|g| {
            let (r, index) = g.map(d, XENSTORE_REF);
            if r < 0 {
                return errno_name(r);
            }
            let a = g.mmap(1, RW, MAP_SHARED, index);
            let m = if a > 0 {
                // SAFETY: one page mapped shared: the DomU's xenstore ring, read only here.
                let _ = unsafe { core::ptr::read_volatile(a as *const u32) };
                format!("ok; {}", res(munmap(a, PAGE)))
            } else {
                errno_name(a)
            };
            format!(
                "ok index={index}; mmap {m}; unmap {}",
                res(g.unmap(index, 1))
            )
        }),
    ));
    v.push((
        "gntdev-ref-never-granted",
        with(&|g| {
            let (r, index) = g.map(d, 5000);
            format!("{}; mmap {}", res(r), res(g.mmap(1, RW, MAP_SHARED, index)))
        }),
    ));
    v.push((
        "gntdev-wrong-domid",
        with(&|g| {
            let (r, index) = g.map(d + 100, XENSTORE_REF);
            format!("{}; mmap {}", res(r), res(g.mmap(1, RW, MAP_SHARED, index)))
        }),
    ));
    v.push((
        "gntdev-unmap-twice",
        with(&|g| {
            let (_, index) = g.map(d, XENSTORE_REF);
            format!("{}, {}", res(g.unmap(index, 1)), res(g.unmap(index, 1)))
        }),
    ));
    v.push((
        "gntdev-unmap-wrong-count",
        with(&|g| {
            let (_, index) = g.map(d, XENSTORE_REF);
            res(g.unmap(index, 2))
        }),
    ));
    v.push((
        "gntdev-unmap-offset-never-mapped",
        with(&|g| res(g.unmap(64 * PAGE, 0))),
    ));
    v.push((
        "gntdev-offset-of-anonymous-memory",
        with(&|g| {
            let a = anon(1);
            let mut o = Offset {
                vaddr: a as u64,
                ..Default::default()
            };
            let r = res(ioctl(
                g.fd,
                GET_OFFSET_FOR_VADDR,
                &mut o as *mut Offset as *const Offset,
            ));
            munmap(a, PAGE);
            r
        }),
    ));
    v.push((
        "gntdev-offset-of-a-mapping",
        with(&|g| {
            let (_, index) = g.map(d, XENSTORE_REF);
            let a = g.mmap(1, RW, MAP_SHARED, index);
            let mut o = Offset {
                vaddr: a as u64 + 100,
                ..Default::default()
            };
            let r = ioctl(
                g.fd,
                GET_OFFSET_FOR_VADDR,
                &mut o as *mut Offset as *const Offset,
            );
            munmap(a, PAGE);
            if r < 0 {
                errno_name(r)
            } else {
                format!("ok offset={} count={}", o.offset, o.count)
            }
        }),
    ));
    v.push((
        "gntdev-mmap-wrong-length",
        with(&|g| {
            let (_, index) = g.map(d, XENSTORE_REF);
            res(g.mmap(2, RW, MAP_SHARED, index))
        }),
    ));
    v.push((
        "gntdev-mmap-no-mapping-there",
        with(&|g| res(g.mmap(1, RW, MAP_SHARED, 32 * PAGE))),
    ));
    v.push((
        "gntdev-mmap-private-writable",
        with(&|g| {
            let (_, index) = g.map(d, XENSTORE_REF);
            res(g.mmap(1, RW, MAP_PRIVATE, index))
        }),
    ));
    v.push((
        "gntdev-mmap-twice",
        with(&|g| {
            let (_, index) = g.map(d, XENSTORE_REF);
            let a = g.mmap(1, RW, MAP_SHARED, index);
            let b = g.mmap(1, RW, MAP_SHARED, index);
            let r = format!("{}; {}", res(a), res(b));
            if a > 0 {
                munmap(a, PAGE);
            }
            r
        }),
    ));
    v.push((
        "gntdev-notify-clear-byte-read-only",
        with(&|g| {
            let (_, index) = g.map(d, CONSOLE_REF);
            let a = g.mmap(1, RO, MAP_SHARED, index);
            let r = format!("{}; {}", res(a), res(g.notify(index + SPARE_BYTE, 1, 0)));
            if a > 0 {
                munmap(a, PAGE);
            }
            r
        }),
    ));
    v.push((
        "gntdev-notify-bad-action",
        with(&|g| {
            let (_, index) = g.map(d, CONSOLE_REF);
            res(g.notify(index, 4, 0))
        }),
    ));
    v.push((
        "gntdev-notify-outside-mappings",
        with(&|g| {
            let (_, index) = g.map(d, CONSOLE_REF);
            res(g.notify(index + 8 * PAGE, 1, 0))
        }),
    ));
    v.push((
        "gntdev-notify-bad-event-port",
        with(&|g| {
            let (_, index) = g.map(d, CONSOLE_REF);
            res(g.notify(index, 2, 9999))
        }),
    ));
    v.push((
        "gntdev-notify-clear-byte",
        with(&|g| {
            // A spare byte of the console page set, cleared by the unmap of a notified
            // mapping, read back through a second mapping.
            let (_, i1) = g.map(d, CONSOLE_REF);
            let a = g.mmap(1, RW, MAP_SHARED, i1);
            if a < 0 {
                return errno_name(a);
            }
            let byte = (a as u64 + SPARE_BYTE) as *mut u8;
            // SAFETY: a byte of the mapped page, unused by the console ring.
            unsafe { core::ptr::write_volatile(byte, 0x5a) };
            let n = res(g.notify(i1 + SPARE_BYTE, 1, 0));
            munmap(a, PAGE);
            let u = res(g.unmap(i1, 1));
            let (_, i2) = g.map(d, CONSOLE_REF);
            let b = g.mmap(1, RO, MAP_SHARED, i2);
            if b < 0 {
                return errno_name(b);
            }
            // SAFETY: as above, read only.
            let after = unsafe { core::ptr::read_volatile((b as u64 + SPARE_BYTE) as *const u8) };
            munmap(b, PAGE);
            format!("notify {n}; unmap {u}; byte after {after:#x}")
        }),
    ));
    v.push((
        "gntdev-byte-without-notify",
        with(&|g| {
            // The control of the case above: without a notification, a byte written
            // through one mapping reads back through the next.
            let (_, i1) = g.map(d, CONSOLE_REF);
            let a = g.mmap(1, RW, MAP_SHARED, i1);
            if a < 0 {
                return errno_name(a);
            }
            // SAFETY: a byte of the mapped page, unused by the console ring.
            unsafe { core::ptr::write_volatile((a as u64 + SPARE_BYTE + 1) as *mut u8, 0x33) };
            munmap(a, PAGE);
            let u = res(g.unmap(i1, 1));
            let (_, i2) = g.map(d, CONSOLE_REF);
            let b = g.mmap(1, RO, MAP_SHARED, i2);
            if b < 0 {
                return errno_name(b);
            }
            // SAFETY: as above, read only.
            let after =
                unsafe { core::ptr::read_volatile((b as u64 + SPARE_BYTE + 1) as *const u8) };
            munmap(b, PAGE);
            format!("unmap {u}; byte after {after:#x}")
        }),
    ));
    if rust_only {
        v.push((
            "gntdev-clear-byte-then-read-only-mmap",
            with(&|g| {
                // C writes the byte at unmap through a read-only grant mapping: a fault.
                let (_, i) = g.map(d, CONSOLE_REF);
                let n = res(g.notify(i + SPARE_BYTE, 1, 0));
                let a = g.mmap(1, RO, MAP_SHARED, i);
                let m = res(a);
                if a > 0 {
                    munmap(a, PAGE);
                }
                format!("notify {n}; mmap {m}; unmap {}", res(g.unmap(i, 1)))
            }),
        ));
    }
    let copy = |g: &Dev, seg: Segment| -> String {
        let mut s = seg;
        let c = Copy {
            count: 1,
            segments: &mut s as *mut Segment as u64,
        };
        let r = ioctl(g.fd, GRANT_COPY, &c);
        if r < 0 {
            errno_name(r)
        } else {
            format!("ok status={}", s.status)
        }
    };
    let buf = anon(1) as u64;
    v.push((
        "gntdev-copy-local-to-local",
        with(&|g| {
            copy(
                g,
                Segment {
                    source: buf,
                    dest: buf + 64,
                    len: 16,
                    flags: 0,
                    status: 0,
                },
            )
        }),
    ));
    v.push((
        "gntdev-copy-past-the-granted-page",
        with(&|g| {
            copy(
                g,
                Segment {
                    source: foreign(CONSOLE_REF, 4000, dom),
                    dest: buf,
                    len: 200,
                    flags: 1,
                    status: 0,
                },
            )
        }),
    ));
    v.push((
        "gntdev-copy-from-console",
        with(&|g| {
            copy(
                g,
                Segment {
                    source: foreign(CONSOLE_REF, 3072, dom),
                    dest: buf,
                    len: 16,
                    flags: 1,
                    status: 7,
                },
            )
        }),
    ));
    v.push((
        "gntdev-copy-to-spare-bytes",
        with(&|g| {
            copy(
                g,
                Segment {
                    source: buf,
                    dest: foreign(CONSOLE_REF, SPARE_BYTE as u16, dom),
                    len: 8,
                    flags: 2,
                    status: 7,
                },
            )
        }),
    ));
    v.push((
        "gntdev-copy-ref-never-granted",
        with(&|g| {
            copy(
                g,
                Segment {
                    source: foreign(5000, 0, dom),
                    dest: buf,
                    len: 16,
                    flags: 1,
                    status: 7,
                },
            )
        }),
    ));
    v.push((
        "gntdev-copy-segments-unmapped",
        with(&|g| {
            let c = Copy {
                count: 1,
                segments: unmapped(),
            };
            res(ioctl(g.fd, GRANT_COPY, &c))
        }),
    ));
    v.push((
        "gntdev-copy-local-buffer-unmapped",
        with(&|g| {
            copy(
                g,
                Segment {
                    source: foreign(CONSOLE_REF, 0, dom),
                    dest: unmapped(),
                    len: 16,
                    flags: 1,
                    status: 7,
                },
            )
        }),
    ));
    munmap(buf as i64, PAGE);
    v
}
