// SPDX-License-Identifier: GPL-2.0

//! Dom0 shares pages with itself: gntalloc grants them, gntdev maps them back (Xen 4.20
//! lets a domain map its own grants on Arm). Patterns both ways, GET_OFFSET_FOR_VADDR,
//! GRANT_COPY both directions, the unmap notification of each driver (byte cleared,
//! event sent, received on an event channel bound in Dom0), teardown in both orders,
//! and at the end the whole gntalloc limit allocatable again (every page given back).
//!
//! Prints "XRS-SHARE: ok: STEP" or "XRS-SHARE: bad: STEP: DETAIL", then "XRS-SHARE: done".

use crate::{
    close, errno_name, ioc, ioctl, mmap_prot, munmap, open, sys, MAP_SHARED, O_RDWR, PAGE,
};

const ALLOC_GREF: u64 = ioc(0, b'G', 5, 24);
const DEALLOC_GREF: u64 = ioc(0, b'G', 6, 16);
const ALLOC_NOTIFY: u64 = ioc(0, b'G', 7, 16);
const MAP_GRANT_REF: u64 = ioc(0, b'G', 0, 24);
const UNMAP_GRANT_REF: u64 = ioc(0, b'G', 1, 16);
const GET_OFFSET_FOR_VADDR: u64 = ioc(0, b'G', 2, 24);
const DEV_NOTIFY: u64 = ioc(0, b'G', 7, 16);
const GRANT_COPY: u64 = ioc(0, b'G', 8, 16);
const BIND_INTERDOMAIN: u64 = ioc(0, b'E', 1, 8);
const BIND_UNBOUND_PORT: u64 = ioc(0, b'E', 2, 4);
const O_NONBLOCK: u64 = 0o4000;
const N: usize = 4;
const RW: u64 = 3;

struct Say {
    bad: usize,
}

impl Say {
    fn check(&mut self, step: &str, ok: bool, detail: impl core::fmt::Display) {
        if ok {
            println!("XRS-SHARE: ok: {step}");
        } else {
            self.bad += 1;
            println!("XRS-SHARE: bad: {step}: {detail}");
        }
    }
}

/// Allocates `n` pages granted to Dom0: (result, index, references).
fn alloc(fd: i64, n: usize) -> (i64, u64, Vec<u32>) {
    let mut buf = vec![0u32; 4 + n.max(2)];
    // struct ioctl_gntalloc_alloc_gref: domid 0, flags WRITABLE, count, index, refs.
    buf[0] = 1 << 16;
    buf[1] = n as u32;
    let r = ioctl(fd, ALLOC_GREF, buf.as_mut_ptr() as *const u32);
    let index = u64::from(buf[2]) | u64::from(buf[3]) << 32;
    (r, index, buf[4..4 + n].to_vec())
}

/// MAP_GRANT_REF of Dom0's `refs`: (result, index).
fn map(fd: i64, refs: &[u32]) -> (i64, u64) {
    let mut buf = vec![0u32; 4 + 2 * refs.len()];
    buf[0] = refs.len() as u32;
    for (i, r) in refs.iter().enumerate() {
        buf[4 + 2 * i] = 0;
        buf[5 + 2 * i] = *r;
    }
    let ret = ioctl(fd, MAP_GRANT_REF, buf.as_mut_ptr() as *const u32);
    (ret, u64::from(buf[2]) | u64::from(buf[3]) << 32)
}

fn bytes(addr: i64, len: usize) -> &'static mut [u8] {
    // SAFETY: callers pass a live shared mapping of `len` bytes.
    unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, len) }
}

fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed))
        .collect()
}

/// The ports pending on an event channel file (non-blocking read).
fn pending(fd: i64) -> Vec<u32> {
    let mut ports = [0u32; 8];
    let n = sys(63, [fd as u64, ports.as_mut_ptr() as u64, 32, 0, 0, 0]);
    if n <= 0 {
        return Vec::new();
    }
    ports[..n as usize / 4].to_vec()
}

pub fn run() -> bool {
    let mut s = Say { bad: 0 };
    let ga = open("/dev/xen/gntalloc", O_RDWR);
    let gd = open("/dev/xen/gntdev", O_RDWR);
    let ea = open("/dev/xen/evtchn", O_RDWR | O_NONBLOCK);
    let eb = open("/dev/xen/evtchn", O_RDWR | O_NONBLOCK);
    s.check(
        "open gntalloc, gntdev, two event channel files",
        ga >= 0 && gd >= 0 && ea >= 0 && eb >= 0,
        format!("{ga} {gd} {ea} {eb}"),
    );
    if s.bad > 0 {
        return false;
    }
    // An event channel from Dom0 to itself: port_a unbound for Dom0, port_b bound to it.
    let remote = 0u32;
    let port_a = ioctl(ea, BIND_UNBOUND_PORT, &remote);
    let pair = [0u32, port_a as u32];
    let port_b = ioctl(eb, BIND_INTERDOMAIN, pair.as_ptr());
    s.check(
        "an event channel pair in Dom0",
        port_a > 0 && port_b > 0,
        format!("{port_a} {port_b}"),
    );

    let len = N * PAGE as usize;
    let (r, gi, refs) = alloc(ga, N);
    s.check(
        "gntalloc: ALLOC_GREF of 4 writable pages for Dom0",
        r == 0 && refs.iter().all(|&x| x >= 8),
        format!("{} {refs:?}", errno_name(r)),
    );
    let a = mmap_prot(len as u64, RW, MAP_SHARED, ga, gi);
    s.check("gntalloc: mmap of the 4 pages", a > 0, errno_name(a));
    if a <= 0 || r != 0 {
        return false;
    }
    let p1 = pattern(1, len);
    bytes(a, len).copy_from_slice(&p1);

    let (r, di) = map(gd, &refs);
    let b = mmap_prot(len as u64, RW, MAP_SHARED, gd, di);
    s.check(
        "gntdev: MAP_GRANT_REF of the 4 references and mmap",
        r == 0 && b > 0,
        format!("{} {}", errno_name(r), errno_name(b)),
    );
    if b <= 0 {
        return false;
    }
    s.check(
        "gntdev sees what gntalloc's side wrote",
        bytes(b, len) == &p1[..],
        "pattern differs",
    );
    let p2 = pattern(2, len);
    bytes(b, len).copy_from_slice(&p2);
    s.check(
        "gntalloc's side sees what gntdev's wrote",
        bytes(a, len) == &p2[..],
        "pattern differs",
    );

    let mut off = [b as u64 + PAGE + 5, 0, 0];
    let r = ioctl(gd, GET_OFFSET_FOR_VADDR, off.as_mut_ptr() as *const u64);
    s.check(
        "GET_OFFSET_FOR_VADDR inside the mapping",
        r == 0 && off[1] == di && off[2] as u32 == N as u32,
        format!("{} {off:?}", errno_name(r)),
    );

    // GRANT_COPY: into reference 2 at offset 100, then back out of it.
    let src = pattern(9, 200);
    let mut back = vec![0u8; 200];
    let foreign = |r: u32, o: u16| u64::from(r) | u64::from(o) << 32;
    let mut segs = [0u64; 6];
    segs[0] = src.as_ptr() as u64;
    segs[1] = foreign(refs[2], 100);
    segs[2] = 200 | 2 << 16 | 0x7777 << 32; // len, GNTCOPY_dest_gref, status
    segs[3] = foreign(refs[2], 100);
    segs[4] = back.as_mut_ptr() as u64;
    segs[5] = 200 | 1 << 16 | 0x7777 << 32;
    let c = [2u64, segs.as_ptr() as u64];
    let r = ioctl(gd, GRANT_COPY, c.as_ptr());
    let st = |w: u64| (w >> 32) as i16;
    s.check(
        "GRANT_COPY into a granted page and back out, both statuses GNTST_okay",
        r == 0 && st(segs[2]) == 0 && st(segs[5]) == 0 && back == src,
        format!("{} {} {}", errno_name(r), st(segs[2]), st(segs[5])),
    );
    s.check(
        "GRANT_COPY's bytes are in the page, seen through gntalloc's side",
        bytes(a, len)[2 * PAGE as usize + 100..2 * PAGE as usize + 300] == src[..],
        "differs",
    );

    // Teardown, gntdev first: its notification clears a byte and signals port_b.
    let byte = 3 * PAGE as usize + 17;
    bytes(a, len)[byte] = 0x77;
    let n = [di + byte as u64, 3u64 | (port_b as u64) << 32];
    let r = ioctl(gd, DEV_NOTIFY, n.as_ptr());
    s.check(
        "gntdev: SET_UNMAP_NOTIFY clear byte and send event",
        r == 0,
        errno_name(r),
    );
    pending(ea);
    munmap(b, len as u64);
    let u = [di, N as u64];
    let r = ioctl(gd, UNMAP_GRANT_REF, u.as_ptr());
    s.check(
        "gntdev first: munmap and UNMAP_GRANT_REF",
        r == 0,
        errno_name(r),
    );
    s.check(
        "gntdev's notification cleared the byte",
        bytes(a, len)[byte] == 0,
        bytes(a, len)[byte],
    );
    let got = pending(ea);
    s.check(
        "gntdev's notification signalled the event channel",
        got.contains(&(port_a as u32)),
        format!("{got:?}"),
    );
    let unmask = port_a as u32;
    sys(64, [ea as u64, &unmask as *const u32 as u64, 4, 0, 0, 0]);

    // Teardown, gntalloc first: gntdev maps the pages again; gntalloc's notification on
    // page 1 clears its byte 9 and signals; its pages go (DEALLOC, munmap) while gntdev
    // still maps them: the grant's end is deferred, the page stays readable through
    // gntdev.
    let (r, di2) = map(gd, &refs);
    let c2 = mmap_prot(len as u64, RW, MAP_SHARED, gd, di2);
    s.check(
        "gntdev maps the pages again",
        r == 0 && c2 > 0,
        format!("{} {}", errno_name(r), errno_name(c2)),
    );
    bytes(a, len)[PAGE as usize + 9] = 0x55;
    let n = [gi + PAGE + 9, 3u64 | (port_b as u64) << 32];
    let r = ioctl(ga, ALLOC_NOTIFY, n.as_ptr());
    s.check(
        "gntalloc: SET_UNMAP_NOTIFY clear byte and send event",
        r == 0,
        errno_name(r),
    );
    let d = [gi, N as u64];
    let r = ioctl(ga, DEALLOC_GREF, d.as_ptr());
    s.check(
        "gntalloc: DEALLOC_GREF while mapped (the mapping keeps the pages)",
        r == 0,
        errno_name(r),
    );
    let still = c2 > 0 && bytes(c2, len)[PAGE as usize + 9] == 0x55;
    s.check(
        "the pages live on while gntalloc's own mapping does",
        still,
        "byte changed",
    );
    munmap(a, len as u64);
    if c2 > 0 {
        s.check(
            "gntalloc's notification cleared the byte, seen through gntdev",
            bytes(c2, len)[PAGE as usize + 9] == 0,
            bytes(c2, len)[PAGE as usize + 9],
        );
        s.check(
            "the rest of the page is intact after gntalloc let go",
            bytes(c2, len)[..PAGE as usize] == p2[..PAGE as usize],
            "differs",
        );
    }
    let got = pending(ea);
    s.check(
        "gntalloc's notification signalled the event channel",
        got.contains(&(port_a as u32)),
        format!("{got:?}"),
    );
    if c2 > 0 {
        munmap(c2, len as u64);
    }
    let u = [di2, N as u64];
    let r = ioctl(gd, UNMAP_GRANT_REF, u.as_ptr());
    s.check(
        "gntdev lets go last: UNMAP_GRANT_REF",
        r == 0,
        errno_name(r),
    );
    // Every page back: the whole limit can be allocated again, and freed.
    let (r, gi3, refs3) = alloc(ga, 1024);
    s.check(
        "all of gntalloc's limit (1024 pages) allocatable again",
        r == 0 && refs3.len() == 1024,
        errno_name(r),
    );
    let d = [gi3, 1024];
    ioctl(ga, DEALLOC_GREF, d.as_ptr());
    for fd in [ga, gd, ea, eb] {
        close(fd);
    }
    println!("XRS-SHARE: done");
    s.bad == 0
}

/// Grants per second through gntalloc (grant + end of access: ALLOC_GREF and
/// DEALLOC_GREF of one page), and gntdev map + mmap + munmap + unmap of 1, 16 and 64 of
/// Dom0's own grants per second. Prints "XRS-BENCH-GRANT: ROW OPS_PER_S".
pub fn bench(secs: f64) {
    let ga = open("/dev/xen/gntalloc", O_RDWR);
    let gd = open("/dev/xen/gntdev", O_RDWR);
    assert!(ga >= 0 && gd >= 0, "open gntalloc/gntdev: {ga} {gd}");
    let t = std::time::Instant::now();
    let mut ops = 0u64;
    while t.elapsed().as_secs_f64() < secs {
        let (r, i, _) = alloc(ga, 1);
        assert_eq!(r, 0, "ALLOC_GREF: {}", errno_name(r));
        let d = [i, 1];
        assert_eq!(ioctl(ga, DEALLOC_GREF, d.as_ptr()), 0);
        ops += 1;
    }
    println!(
        "XRS-BENCH-GRANT: grant-end {:.0}",
        ops as f64 / t.elapsed().as_secs_f64()
    );
    for n in [1usize, 16, 64] {
        let (r, gi, refs) = alloc(ga, n);
        assert_eq!(r, 0, "ALLOC_GREF of {n}: {}", errno_name(r));
        let len = n as u64 * PAGE;
        let t = std::time::Instant::now();
        let mut ops = 0u64;
        while t.elapsed().as_secs_f64() < secs {
            let (r, di) = map(gd, &refs);
            assert_eq!(r, 0, "MAP_GRANT_REF: {}", errno_name(r));
            let b = mmap_prot(len, RW, MAP_SHARED, gd, di);
            assert!(b > 0, "mmap: {}", errno_name(b));
            munmap(b, len);
            let u = [di, n as u64];
            assert_eq!(ioctl(gd, UNMAP_GRANT_REF, u.as_ptr()), 0);
            ops += 1;
        }
        println!(
            "XRS-BENCH-GRANT: gntdev-map-{n} {:.0}",
            ops as f64 / t.elapsed().as_secs_f64()
        );
        let d = [gi, n as u64];
        ioctl(ga, DEALLOC_GREF, d.as_ptr());
    }
    close(ga);
    close(gd);
}
