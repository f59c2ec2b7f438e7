// SPDX-License-Identifier: GPL-2.0

//! Bad (and a few good) inputs to `/dev/xen/privcmd`, `/dev/xen/hypercall`, xenfs and
//! `/dev/xen/gntdev` (`gntdev.rs`), from user space, with what each returns: run on the
//! Rust drivers and on the C ones in the same boot, and compared with the tables in
//! Documentation/privcmd.md and gntdev.md by tests/xl_verdict.py. The ABI below is
//! written from the uapi headers independently of the drivers' own `abi.rs`, so that a
//! wrong number there shows here.
//!
//! usage: xen-check check DOMID XENFS_DIR [rust-only]
//!        xen-check share   (gntalloc and gntdev in Dom0: see share.rs)
//!        xen-check bench-grant SECONDS
//!        xen-check bench DOMID SECONDS
//!        xen-check vchan-serve SOCKET [BYTES] | vchan-client SOCKET [BYTES]   (vchan.rs)
//!
//! DOMID is a running DomU whose RAM starts at gfn 0x40000 (Xen's arm64 guest layout).
//! Prints "XRS-PARITY: case NAME = RESULT", RESULT "ok", "ok DETAIL" or an errno name;
//! "rust-only" adds the cases C answers with a BUG_ON or a mapping past its VMA.

mod gntalloc;
mod gntdev;
mod share;
mod vchan;

use std::ffi::CString;
use std::process::ExitCode;
use std::time::Instant;

const PAGE: u64 = 4096;
/// A kernel address: `access_ok()` fails on it.
const KERNEL: u64 = 0xffff_8000_1000_0000;
/// The first gfn of an arm64 guest's RAM (`GUEST_RAM0_BASE`).
const RAM: u64 = 0x40000;
/// A gfn below guest RAM that nothing backs.
const HOLE: u64 = 0x1;

/// `_IOC(dir, type, nr, size)` on arm64.
const fn ioc(dir: u64, ty: u8, nr: u64, size: usize) -> u64 {
    (dir << 30) | ((size as u64) << 16) | ((ty as u64) << 8) | nr
}
const HYPERCALL: u64 = ioc(0, b'P', 0, 48);
const MMAP: u64 = ioc(0, b'P', 2, 16);
const MMAPBATCH: u64 = ioc(0, b'P', 3, 24);
const MMAPBATCH_V2: u64 = ioc(0, b'P', 4, 32);
const DM_OP: u64 = ioc(0, b'P', 5, 16);
const RESTRICT: u64 = ioc(0, b'P', 6, 2);
const MMAP_RESOURCE: u64 = ioc(0, b'P', 7, 32);
const IRQFD: u64 = ioc(1, b'P', 8, 24);
const IOEVENTFD: u64 = ioc(1, b'P', 9, 48);
const PCIDEV_GET_GSI: u64 = ioc(0, b'P', 10, 8);
/// libxenforeignmemory's probe: `_IOC(_IOC_NONE, 'P', 0xff, 0)`.
const UNIMPLEMENTED: u64 = ioc(0, b'P', 0xff, 0);

/// `__HYPERVISOR_xen_version`, `XENVER_version`.
const HYPERVISOR_XEN_VERSION: u64 = 17;
/// `XENMEM_resource_grant_table`.
const RESOURCE_GRANT_TABLE: u32 = 1;

const PROT_RW: u64 = 3;
const MAP_SHARED: u64 = 1;
const MAP_PRIVATE: u64 = 2;
const MAP_ANON: u64 = 0x20;
const O_RDONLY: u64 = 0;
const O_WRONLY: u64 = 1;
const O_RDWR: u64 = 2;

/// `struct privcmd_mmapbatch_v2`.
#[repr(C)]
struct BatchV2 {
    num: u32,
    dom: u16,
    addr: u64,
    arr: u64,
    err: u64,
}

/// `struct privcmd_mmapbatch`.
#[repr(C)]
struct BatchV1 {
    num: i32,
    dom: u16,
    addr: u64,
    arr: u64,
}

/// `struct privcmd_mmap` and one `struct privcmd_mmap_entry`.
#[repr(C)]
struct Mmap {
    num: i32,
    dom: u16,
    entry: u64,
}
#[repr(C)]
struct MmapEntry {
    va: u64,
    mfn: u64,
    npages: u64,
}

/// `struct privcmd_dm_op` and `struct privcmd_dm_op_buf`.
#[repr(C)]
struct DmOp {
    dom: u16,
    num: u16,
    ubufs: u64,
}
#[repr(C)]
#[derive(Clone, Copy)]
struct DmOpBuf {
    uptr: u64,
    size: u64,
}

/// `struct privcmd_mmap_resource`.
#[repr(C)]
struct Resource {
    dom: u16,
    ty: u32,
    id: u32,
    idx: u32,
    num: u64,
    addr: u64,
}

/// A raw arm64 Linux system call: the result, or a negative errno.
#[cfg(target_arch = "aarch64")]
fn sys(nr: u64, a: [u64; 6]) -> i64 {
    let ret: i64;
    // SAFETY: each caller passes arguments valid for the call it makes (live buffers of
    // the sizes the call reads or writes, or addresses deliberately invalid, which the
    // kernel rejects without touching our memory).
    unsafe {
        core::arch::asm!("svc #0", in("x8") nr, inlateout("x0") a[0] as i64 => ret,
                         in("x1") a[1], in("x2") a[2], in("x3") a[3], in("x4") a[4],
                         in("x5") a[5], options(nostack));
    }
    ret
}

#[cfg(not(target_arch = "aarch64"))]
fn sys(_nr: u64, _a: [u64; 6]) -> i64 {
    -38
}

fn open(path: &str, flags: u64) -> i64 {
    let c = CString::new(path).unwrap();
    sys(
        56,
        [
            (-100i64) as u64,
            c.as_ptr() as u64,
            flags | 0x80000,
            0,
            0,
            0,
        ],
    )
}
fn close(fd: i64) {
    sys(57, [fd as u64, 0, 0, 0, 0, 0]);
}
fn ioctl<T>(fd: i64, cmd: u64, arg: *const T) -> i64 {
    sys(29, [fd as u64, cmd, arg as u64, 0, 0, 0])
}
fn ioctl_raw(fd: i64, cmd: u64, arg: u64) -> i64 {
    sys(29, [fd as u64, cmd, arg, 0, 0, 0])
}
fn mmap_prot(len: u64, prot: u64, flags: u64, fd: i64, off: u64) -> i64 {
    sys(222, [0, len, prot, flags, fd as u64, off])
}
fn mmap(len: u64, flags: u64, fd: i64, off: u64) -> i64 {
    sys(222, [0, len, PROT_RW, flags, fd as u64, off])
}
fn munmap(addr: i64, len: u64) -> i64 {
    sys(215, [addr as u64, len, 0, 0, 0, 0])
}
fn write(fd: i64, buf: &[u8]) -> i64 {
    sys(
        64,
        [fd as u64, buf.as_ptr() as u64, buf.len() as u64, 0, 0, 0],
    )
}

/// Anonymous, writable memory of `pages` pages.
fn anon(pages: u64) -> i64 {
    let a = mmap(pages * PAGE, MAP_PRIVATE | MAP_ANON, -1, 0);
    assert!(a > 0, "anonymous mmap failed: {a}");
    a
}

/// An address no VMA covers (mapped, then unmapped).
fn unmapped() -> u64 {
    let a = anon(1);
    munmap(a, PAGE);
    a as u64
}

fn errno_name(e: i64) -> String {
    let n = match -e {
        1 => "EPERM",
        2 => "ENOENT",
        3 => "ESRCH",
        7 => "E2BIG",
        9 => "EBADF",
        12 => "ENOMEM",
        13 => "EACCES",
        14 => "EFAULT",
        16 => "EBUSY",
        28 => "ENOSPC",
        19 => "ENODEV",
        22 => "EINVAL",
        25 => "ENOTTY",
        38 => "ENOSYS",
        95 => "EOPNOTSUPP",
        _ => return format!("E{}", -e),
    };
    n.to_string()
}

/// "ok" for a success, the errno's name for a failure.
fn res(r: i64) -> String {
    if r < 0 {
        errno_name(r)
    } else {
        "ok".to_string()
    }
}

struct Check {
    dom: u16,
    privcmd: String,
}

impl Check {
    fn fd(&self) -> i64 {
        let fd = open(&self.privcmd, O_RDWR);
        assert!(fd >= 0, "open {}: {}", self.privcmd, errno_name(fd));
        fd
    }

    /// A privcmd VMA of `pages` pages on `fd`.
    fn vma(fd: i64, pages: u64) -> i64 {
        let a = mmap(pages * PAGE, MAP_SHARED, fd, 0);
        assert!(a > 0, "mmap of privcmd failed: {}", errno_name(a));
        a
    }

    /// MMAPBATCH_V2 of `gfns` of the DomU at `addr`: (result, per-frame errors).
    fn batch(&self, fd: i64, dom: u16, addr: i64, gfns: &[u64]) -> (i64, Vec<i32>) {
        let mut err = vec![0x5555_5555i32; gfns.len()];
        let b = BatchV2 {
            num: gfns.len() as u32,
            dom,
            addr: addr as u64,
            arr: gfns.as_ptr() as u64,
            err: err.as_mut_ptr() as u64,
        };
        let r = ioctl(fd, MMAPBATCH_V2, &b);
        (r, err)
    }

    fn batch_res(&self, fd: i64, addr: i64, gfns: &[u64]) -> String {
        let (r, err) = self.batch(fd, self.dom, addr, gfns);
        let errs: Vec<String> = err
            .iter()
            .map(|&e| {
                if e == 0 {
                    "0".into()
                } else {
                    errno_name(e.into())
                }
            })
            .collect();
        if r < 0 {
            format!("{} errs={}", errno_name(r), errs.join(","))
        } else {
            format!("ok errs={}", errs.join(","))
        }
    }

    fn restrict(fd: i64, dom: u16) -> i64 {
        ioctl(fd, RESTRICT, &dom)
    }

    fn xen_version(fd: i64) -> i64 {
        let h = [HYPERVISOR_XEN_VERSION, 0, 0, 0, 0, 0];
        ioctl(fd, HYPERCALL, h.as_ptr())
    }

    fn dm_op(fd: i64, dom: u16, bufs: &[DmOpBuf]) -> i64 {
        let op = DmOp {
            dom,
            num: bufs.len() as u16,
            ubufs: bufs.as_ptr() as u64,
        };
        ioctl(fd, DM_OP, &op)
    }

    fn resource(fd: i64, dom: u16, num: u64, addr: u64) -> (i64, u64) {
        let mut r = Resource {
            dom,
            ty: RESOURCE_GRANT_TABLE,
            id: 0,
            idx: 0,
            num,
            addr,
        };
        let ret = ioctl(
            fd,
            MMAP_RESOURCE,
            &mut r as *mut Resource as *const Resource,
        );
        (ret, r.num)
    }

    /// Runs `f` on a fresh privcmd file, closes it.
    fn with_fd(&self, f: impl FnOnce(i64) -> String) -> String {
        let fd = self.fd();
        let r = f(fd);
        close(fd);
        r
    }

    fn cases(&self, rust_only: bool) -> Vec<(&'static str, String)> {
        let d = self.dom;
        let other = d.wrapping_add(1);
        let buf = anon(4);
        let ram: Vec<u64> = (0..4).map(|i| RAM + i).collect();
        let mut v: Vec<(&'static str, String)> = Vec::new();

        v.push((
            "unimplemented-ioctl",
            self.with_fd(|fd| res(ioctl_raw(fd, UNIMPLEMENTED, 0))),
        ));
        v.push((
            "foreign-ioctl-type",
            self.with_fd(|fd| res(ioctl_raw(fd, ioc(0, b'Q', 0, 0), 0))),
        ));
        v.push((
            "hypercall-unmapped",
            self.with_fd(|fd| res(ioctl_raw(fd, HYPERCALL, unmapped()))),
        ));
        v.push((
            "hypercall-kernel-pointer",
            self.with_fd(|fd| res(ioctl_raw(fd, HYPERCALL, KERNEL))),
        ));
        v.push((
            "hypercall-xen-version",
            self.with_fd(|fd| {
                let r = Self::xen_version(fd);
                if r < 0 {
                    errno_name(r)
                } else {
                    format!("ok {}.{}", r >> 16, r & 0xffff)
                }
            }),
        ));
        v.push((
            "mmap-pv-only",
            self.with_fd(|fd| {
                let e = MmapEntry {
                    va: buf as u64,
                    mfn: RAM,
                    npages: 1,
                };
                let m = Mmap {
                    num: 1,
                    dom: d,
                    entry: &e as *const MmapEntry as u64,
                };
                res(ioctl(fd, MMAP, &m))
            }),
        ));

        // MMAPBATCH: counts, pointers, VMAs.
        v.push((
            "batch-v2-num-zero",
            self.with_fd(|fd| {
                let a = Self::vma(fd, 1);
                res(self.batch(fd, d, a, &[]).0)
            }),
        ));
        v.push((
            "batch-v1-num-negative",
            self.with_fd(|fd| {
                let a = Self::vma(fd, 1);
                let b = BatchV1 {
                    num: -1,
                    dom: d,
                    addr: a as u64,
                    arr: buf as u64,
                };
                res(ioctl(fd, MMAPBATCH, &b))
            }),
        ));
        v.push((
            "batch-v2-num-huge",
            self.with_fd(|fd| {
                let a = Self::vma(fd, 1);
                let b = BatchV2 {
                    num: u32::MAX,
                    dom: d,
                    addr: a as u64,
                    arr: buf as u64,
                    err: buf as u64,
                };
                res(ioctl(fd, MMAPBATCH_V2, &b))
            }),
        ));
        v.push((
            "batch-v2-err-kernel-pointer",
            self.with_fd(|fd| {
                let a = Self::vma(fd, 1);
                let b = BatchV2 {
                    num: 1,
                    dom: d,
                    addr: a as u64,
                    arr: ram.as_ptr() as u64,
                    err: KERNEL,
                };
                res(ioctl(fd, MMAPBATCH_V2, &b))
            }),
        ));
        v.push((
            "batch-v2-arr-unmapped",
            self.with_fd(|fd| {
                let a = Self::vma(fd, 1);
                let mut e = [0i32; 1];
                let b = BatchV2 {
                    num: 1,
                    dom: d,
                    addr: a as u64,
                    arr: unmapped(),
                    err: e.as_mut_ptr() as u64,
                };
                res(ioctl(fd, MMAPBATCH_V2, &b))
            }),
        ));
        v.push((
            "batch-v2-no-vma",
            self.with_fd(|fd| self.batch_res(fd, unmapped() as i64, &ram[..1])),
        ));
        v.push((
            "batch-v2-anonymous-vma",
            self.with_fd(|fd| self.batch_res(fd, buf, &ram[..1])),
        ));
        v.push((
            "batch-v2-part-of-fresh-vma",
            self.with_fd(|fd| {
                let a = Self::vma(fd, 4);
                self.batch_res(fd, a, &ram[..2])
            }),
        ));
        v.push((
            "batch-v2-map-4",
            self.with_fd(|fd| {
                let a = Self::vma(fd, 4);
                self.batch_res(fd, a, &ram)
            }),
        ));
        v.push((
            "batch-v2-twice-same-range",
            self.with_fd(|fd| {
                let a = Self::vma(fd, 4);
                let first = self.batch_res(fd, a, &ram);
                format!("{first}; {}", self.batch_res(fd, a, &ram))
            }),
        ));
        v.push((
            "batch-v2-across-vma-end",
            self.with_fd(|fd| {
                let a = Self::vma(fd, 4);
                let first = self.batch_res(fd, a, &ram);
                format!(
                    "{first}; {}",
                    self.batch_res(fd, a + 3 * PAGE as i64, &ram[..2])
                )
            }),
        ));
        v.push((
            "batch-v2-frame-error-then-retry",
            self.with_fd(|fd| {
                let a = Self::vma(fd, 2);
                let first = self.batch_res(fd, a, &[RAM, HOLE]);
                format!(
                    "{first}; {}",
                    self.batch_res(fd, a + PAGE as i64, &[RAM + 1])
                )
            }),
        ));
        v.push((
            "batch-v1-frame-error",
            self.with_fd(|fd| {
                let a = Self::vma(fd, 2);
                let mut arr = [RAM, HOLE];
                let b = BatchV1 {
                    num: 2,
                    dom: d,
                    addr: a as u64,
                    arr: arr.as_mut_ptr() as u64,
                };
                let r = ioctl(fd, MMAPBATCH, &b);
                format!("{} arr={:#x},{:#x}", res(r), arr[0], arr[1])
            }),
        ));
        v.push((
            "munmap-part-of-mapped-vma",
            self.with_fd(|fd| {
                let a = Self::vma(fd, 4);
                let first = self.batch_res(fd, a, &ram);
                let r = munmap(a + PAGE as i64, PAGE);
                format!("{first}; {}; {}", res(r), res(munmap(a, 4 * PAGE)))
            }),
        ));
        v.push((
            "fork-with-mapping",
            self.with_fd(|fd| {
                let a = Self::vma(fd, 4);
                let first = self.batch_res(fd, a, &ram);
                // The child does raw system calls only, then exits; the mapping is
                // not inherited (VM_DONTCOPY), the child's exit must not touch it.
                let pid = sys(220, [17, 0, 0, 0, 0, 0]);
                if pid == 0 {
                    sys(94, [7, 0, 0, 0, 0, 0]);
                }
                let mut status = 0i32;
                sys(
                    260,
                    [pid as u64, &mut status as *mut i32 as u64, 0, 0, 0, 0],
                );
                // SAFETY: `a` maps 4 pages of the DomU's RAM, readable.
                let word = unsafe { core::ptr::read_volatile(a as *const u32) };
                let _ = word;
                format!(
                    "{first}; child exit {}; {}",
                    (status >> 8) & 0xff,
                    res(munmap(a, 4 * PAGE))
                )
            }),
        ));

        // RESTRICT.
        v.push((
            "restrict-then-other-domain",
            self.with_fd(|fd| {
                format!(
                    "{},{},{}",
                    res(Self::restrict(fd, d)),
                    res(Self::restrict(fd, d)),
                    res(Self::restrict(fd, other))
                )
            }),
        ));
        v.push((
            "restricted-hypercall",
            self.with_fd(|fd| {
                Self::restrict(fd, d);
                res(Self::xen_version(fd))
            }),
        ));
        v.push((
            "restricted-batch-other-domain",
            self.with_fd(|fd| {
                Self::restrict(fd, d);
                let a = Self::vma(fd, 1);
                res(self.batch(fd, other, a, &ram[..1]).0)
            }),
        ));
        v.push((
            "restricted-batch-own-domain",
            self.with_fd(|fd| {
                Self::restrict(fd, d);
                let a = Self::vma(fd, 1);
                self.batch_res(fd, a, &ram[..1])
            }),
        ));
        v.push((
            "restricted-dm-op-other-domain",
            self.with_fd(|fd| {
                Self::restrict(fd, d);
                res(Self::dm_op(
                    fd,
                    other,
                    &[DmOpBuf {
                        uptr: buf as u64,
                        size: 8,
                    }],
                ))
            }),
        ));
        v.push((
            "restricted-resource-other-domain",
            self.with_fd(|fd| {
                Self::restrict(fd, d);
                res(Self::resource(fd, other, 0, 0).0)
            }),
        ));

        // DM_OP.
        let b = DmOpBuf {
            uptr: buf as u64,
            size: 8,
        };
        v.push((
            "dm-op-17-buffers",
            self.with_fd(|fd| res(Self::dm_op(fd, d, &[b; 17]))),
        ));
        v.push((
            "dm-op-buffer-4097-bytes",
            self.with_fd(|fd| {
                res(Self::dm_op(
                    fd,
                    d,
                    &[DmOpBuf {
                        uptr: buf as u64,
                        size: 4097,
                    }],
                ))
            }),
        ));
        v.push((
            "dm-op-no-buffers",
            self.with_fd(|fd| res(Self::dm_op(fd, d, &[]))),
        ));
        v.push((
            "dm-op-ubufs-unmapped",
            self.with_fd(|fd| {
                let op = DmOp {
                    dom: d,
                    num: 1,
                    ubufs: unmapped(),
                };
                res(ioctl(fd, DM_OP, &op))
            }),
        ));
        v.push((
            "dm-op-buffer-unmapped",
            self.with_fd(|fd| {
                res(Self::dm_op(
                    fd,
                    d,
                    &[DmOpBuf {
                        uptr: unmapped(),
                        size: 8,
                    }],
                ))
            }),
        ));
        v.push((
            "dm-op-buffer-kernel-pointer",
            self.with_fd(|fd| {
                res(Self::dm_op(
                    fd,
                    d,
                    &[DmOpBuf {
                        uptr: KERNEL,
                        size: 8,
                    }],
                ))
            }),
        ));
        v.push((
            "dm-op-unknown-op",
            self.with_fd(|fd| {
                // SAFETY: `buf` is 4 writable anonymous pages.
                unsafe { core::ptr::write_bytes(buf as *mut u8, 0xee, 64) };
                res(Self::dm_op(
                    fd,
                    d,
                    &[DmOpBuf {
                        uptr: buf as u64,
                        size: 64,
                    }],
                ))
            }),
        ));

        // MMAP_RESOURCE.
        v.push((
            "resource-addr-without-num",
            self.with_fd(|fd| {
                let a = Self::vma(fd, 1);
                res(Self::resource(fd, d, 0, a as u64).0)
            }),
        ));
        v.push((
            "resource-num-without-addr",
            self.with_fd(|fd| res(Self::resource(fd, d, 1, 0).0)),
        ));
        v.push((
            "resource-anonymous-vma",
            self.with_fd(|fd| res(Self::resource(fd, d, 1, buf as u64).0)),
        ));
        v.push((
            "resource-query-grant-table",
            self.with_fd(|fd| {
                let (r, n) = Self::resource(fd, d, 0, 0);
                if r < 0 {
                    errno_name(r)
                } else {
                    format!("ok frames={n}")
                }
            }),
        ));
        v.push((
            "resource-map-grant-table",
            self.with_fd(|fd| {
                let a = Self::vma(fd, 1);
                let r = res(Self::resource(fd, d, 1, a as u64).0);
                format!("{r}; {}", res(munmap(a, PAGE)))
            }),
        ));
        v.push((
            "resource-num-times-8-overflows",
            self.with_fd(|fd| {
                let a = Self::vma(fd, 1);
                res(Self::resource(fd, d, 1 << 61, a as u64).0)
            }),
        ));
        if rust_only {
            v.push((
                "resource-twice-same-vma",
                self.with_fd(|fd| {
                    let a = Self::vma(fd, 1);
                    let first = res(Self::resource(fd, d, 1, a as u64).0);
                    format!("{first}; {}", res(Self::resource(fd, d, 1, a as u64).0))
                }),
            ));
            v.push((
                "resource-past-vma-end",
                self.with_fd(|fd| {
                    let a = Self::vma(fd, 1);
                    res(Self::resource(fd, d, 2, a as u64).0)
                }),
            ));
        }

        // Not in this configuration.
        v.push((
            "irqfd",
            self.with_fd(|fd| res(ioctl_raw(fd, IRQFD, buf as u64))),
        ));
        v.push((
            "ioeventfd",
            self.with_fd(|fd| res(ioctl_raw(fd, IOEVENTFD, buf as u64))),
        ));
        v.push((
            "pcidev-get-gsi",
            self.with_fd(|fd| res(ioctl_raw(fd, PCIDEV_GET_GSI, buf as u64))),
        ));

        // mmap of the devices.
        v.push((
            "privcmd-mmap-private",
            self.with_fd(|fd| {
                let a = mmap(PAGE, MAP_PRIVATE, fd, 0);
                if a > 0 {
                    munmap(a, PAGE);
                }
                res(a)
            }),
        ));
        let hcall = |flags: u64| {
            let fd = open("/dev/xen/hypercall", O_RDWR);
            if fd < 0 {
                return errno_name(fd);
            }
            let a = mmap(2 * PAGE, flags, fd, 0);
            let r = if a > 0 {
                // SAFETY: `a` maps two writable pages of the hypercall buffer device.
                let z = unsafe { core::ptr::read_volatile((a + PAGE as i64) as *const u64) };
                // SAFETY: as above.
                unsafe { core::ptr::write_volatile(a as *mut u64, 0x1234) };
                munmap(a, 2 * PAGE);
                format!("ok zeroed={}", z == 0)
            } else {
                errno_name(a)
            };
            close(fd);
            r
        };
        v.push(("hypercall-buffer-mmap-private", hcall(MAP_PRIVATE)));
        v.push(("hypercall-buffer-mmap-shared", hcall(MAP_SHARED)));
        munmap(buf, 4 * PAGE);
        v
    }

    fn xenfs_cases(xenfs: &str) -> Vec<(&'static str, String)> {
        let mut v = Vec::new();
        let kva = format!("{xenfs}/xsd_kva");
        let map = |len: u64, off: u64| {
            let fd = open(&kva, O_RDWR);
            if fd < 0 {
                return errno_name(fd);
            }
            let a = mmap(len, MAP_SHARED, fd, off);
            close(fd);
            if a > 0 {
                munmap(a, len);
                "ok".into()
            } else {
                errno_name(a)
            }
        };
        v.push(("xsd-kva-one-page", map(PAGE, 0)));
        v.push(("xsd-kva-two-pages", map(2 * PAGE, 0)));
        v.push(("xsd-kva-offset-one-page", map(PAGE, PAGE)));
        for (name, file) in [
            ("write-capabilities", "capabilities"),
            ("write-xsd-port", "xsd_port"),
        ] {
            let fd = open(&format!("{xenfs}/{file}"), O_WRONLY);
            let r = if fd < 0 {
                errno_name(fd)
            } else {
                res(write(fd, b"1\n"))
            };
            if fd >= 0 {
                close(fd);
            }
            v.push((name, r));
        }
        let read = |file: &str| {
            std::fs::read_to_string(format!("{xenfs}/{file}")).map(|s| s.trim().to_string())
        };
        v.push((
            "read-capabilities",
            match read("capabilities") {
                Ok(s) => format!("ok {s}"),
                Err(e) => format!("E{}", e.raw_os_error().unwrap_or(0)),
            },
        ));
        v.push(("xenfs-privcmd-hypercall", {
            let fd = open(&format!("{xenfs}/privcmd"), O_RDONLY);
            if fd < 0 {
                errno_name(fd)
            } else {
                let r = Self::xen_version(fd);
                close(fd);
                res(r)
            }
        }));
        v
    }
}

/// Foreign mappings of 1, 64 and 1024 frames, and a trivial hypercall, per second.
fn bench(dom: u16, secs: f64) {
    let c = Check {
        dom,
        privcmd: "/dev/xen/privcmd".into(),
    };
    let fd = c.fd();
    for n in [1u64, 64, 1024] {
        let gfns: Vec<u64> = (0..n).map(|i| RAM + i).collect();
        let t = Instant::now();
        let mut ops = 0u64;
        while t.elapsed().as_secs_f64() < secs {
            let a = Check::vma(fd, n);
            let (r, err) = c.batch(fd, dom, a, &gfns);
            assert!(
                r == 0 && err.iter().all(|&e| e == 0),
                "MMAPBATCH_V2 of {n} frames: {r}"
            );
            munmap(a, n * PAGE);
            ops += 1;
        }
        println!(
            "XRS-BENCH-PRIVCMD: mmapbatch-{n} {:.0}",
            ops as f64 / t.elapsed().as_secs_f64()
        );
    }
    let t = Instant::now();
    let mut ops = 0u64;
    while t.elapsed().as_secs_f64() < secs {
        for _ in 0..100 {
            assert!(Check::xen_version(fd) > 0);
        }
        ops += 100;
    }
    println!(
        "XRS-BENCH-PRIVCMD: hypercall {:.0}",
        ops as f64 / t.elapsed().as_secs_f64()
    );
    close(fd);
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let dom: Option<u16> = args.get(2).and_then(|s| s.parse().ok());
    match (args.get(1).map(String::as_str), dom) {
        (Some("check"), Some(dom)) => {
            let xenfs = args.get(3).cloned().unwrap_or_else(|| "/proc/xen".into());
            let rust_only = args.get(4).map(String::as_str) == Some("rust-only");
            let c = Check {
                dom,
                privcmd: "/dev/xen/privcmd".into(),
            };
            for (name, r) in c
                .cases(rust_only)
                .into_iter()
                .chain(Check::xenfs_cases(&xenfs))
                .chain(gntdev::cases(dom, rust_only))
                .chain(gntalloc::cases())
            {
                println!("XRS-PARITY: case {name} = {r}");
            }
            println!("XRS-PARITY: done");
            ExitCode::SUCCESS
        }
        (Some("bench-grant"), _) => {
            let secs = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2.0);
            share::bench(secs);
            ExitCode::SUCCESS
        }
        (Some("share"), _) => {
            if share::run() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        (Some(m @ ("vchan-serve" | "vchan-client")), _) => {
            let n = match args.get(3).map(|s| s.parse()) {
                None => Some(vchan::DEFAULT_BYTES),
                Some(r) => r.ok(),
            };
            let (Some(path), Some(n)) = (args.get(2), n) else {
                eprintln!("usage: xen-check {m} SOCKET [BYTES]");
                return ExitCode::from(2);
            };
            let ok = if m == "vchan-serve" {
                vchan::serve(path, n)
            } else {
                vchan::client(path, n)
            };
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        (Some("bench"), Some(dom)) => {
            let secs = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(2.0);
            bench(dom, secs);
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!(
                "usage: xen-check check DOMID [XENFS_DIR [rust-only]] | bench DOMID [SECONDS]"
            );
            ExitCode::from(2)
        }
    }
}
