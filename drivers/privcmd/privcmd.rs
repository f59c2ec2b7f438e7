// SPDX-License-Identifier: GPL-2.0

//! `/dev/xen/privcmd`: hypercalls on behalf of the toolstack, and mappings of other
//! domains' frames into its address space.
//!
//! A file may be restricted to one domain (`IOCTL_PRIVCMD_RESTRICT`); every later
//! operation naming another domain is refused, and arbitrary hypercalls altogether. A
//! mapping is a VMA of this file: `IOCTL_PRIVCMD_MMAPBATCH(_V2)` and
//! `IOCTL_PRIVCMD_MMAP_RESOURCE` back it with ballooned pages (frames this domain gives
//! up, so that Xen can put the foreign frames at their physical addresses) and map those;
//! closing the VMA unmaps the frames and returns the pages to the balloon.
//!
//! The checks of what user space passes are the pure functions of [`crate::abi`].
//!
//! C header: [`include/uapi/xen/privcmd.h`](srctree/include/uapi/xen/privcmd.h).

use core::mem::{
    size_of,     //
    size_of_val, //
    MaybeUninit, //
};
use core::ptr;

use kernel::bindings;
use kernel::ffi::{
    c_int,   //
    c_long,  //
    c_uint,  //
    c_ulong, //
    c_void,  //
};
use kernel::page::PAGE_SHIFT;
use kernel::prelude::*;
use kernel::sync::atomic::{
    Atomic,  //
    Relaxed, //
};
use kernel::transmute::FromBytes;
use kernel::uaccess::{
    UserPtr,   //
    UserSlice, //
};
use xen::bindings as xb;
use xen::hypercall;
use xen::misc::StaticFops;
use xen::user::read;

use crate::abi::{
    self,         //
    Batch,        //
    BatchOutcome, //
    Cmd,          //
    Restriction,  //
    XenPfn,       //
};
use crate::DomId;

// SAFETY: plain integers: any bytes are a value.
unsafe impl FromBytes for abi::Hypercall {}
// SAFETY: as above (padding bytes included).
unsafe impl FromBytes for abi::MmapBatch {}
// SAFETY: as above.
unsafe impl FromBytes for abi::MmapBatchV2 {}
// SAFETY: as above.
unsafe impl FromBytes for abi::DmOp {}
// SAFETY: as above.
unsafe impl FromBytes for abi::DmOpBuf {}
// SAFETY: as above.
unsafe impl FromBytes for abi::MmapResource {}

/// Xen frames per Linux page (`XEN_PFN_PER_PAGE`).
const XEN_PFNS_PER_PAGE: u64 = 1 << (PAGE_SHIFT - 12);

/// Frames a remap call maps at most: a page of frame numbers, as C's chunks.
const CHUNK: usize = kernel::page::PAGE_SIZE / size_of::<XenPfn>();

/// An errno of [`crate::abi`] as an [`Error`].
fn err(e: abi::Errno) -> Error {
    Error::from_errno(-e)
}

/// What a file of the device holds: its restriction.
struct PrivcmdFile {
    /// The domain the file is restricted to, as a raw `domid_t`.
    restriction: Atomic<u32>,
}

impl PrivcmdFile {
    fn restriction(&self) -> Restriction {
        Restriction(DomId::new(self.restriction.load(Relaxed) as u16))
    }
}

static FOPS: StaticFops = StaticFops(bindings::file_operations {
    owner: kernel::module::this_module::<crate::XenPrivcmd>().as_ptr(),
    open: Some(open),
    release: Some(release),
    unlocked_ioctl: Some(ioctl),
    mmap: Some(mmap),
    ..pin_init::zeroed()
});

/// The file operations of `/dev/xen/privcmd`, which xenfs serves as `privcmd` too.
pub fn fops() -> &'static bindings::file_operations {
    FOPS.get()
}

/// `open`: a new file, unrestricted.
///
/// # Safety
///
/// Called by the VFS with a file being opened.
unsafe extern "C" fn open(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    let data = PrivcmdFile {
        restriction: Atomic::new(u32::from(DomId::INVALID.as_u16())),
    };
    match KBox::new(data, GFP_KERNEL) {
        Ok(b) => {
            // SAFETY: the file being opened is ours to set up; `release` takes it back.
            unsafe { (*file).private_data = KBox::into_raw(b).cast() };
            0
        }
        Err(_) => ENOMEM.to_errno(),
    }
}

/// `release`.
///
/// # Safety
///
/// Called by the VFS with a file `open` set up, once.
unsafe extern "C" fn release(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: `open` put a `KBox<PrivcmdFile>` there; this is the last use of the file.
    drop(unsafe { KBox::from_raw((*file).private_data.cast::<PrivcmdFile>()) });
    0
}

/// `unlocked_ioctl`.
///
/// # Safety
///
/// Called by the VFS with a file `open` set up.
unsafe extern "C" fn ioctl(file: *mut bindings::file, cmd: c_uint, arg: c_ulong) -> c_long {
    // SAFETY: `open` put a `PrivcmdFile` there, alive until `release`.
    let f = unsafe { &*(*file).private_data.cast::<PrivcmdFile>() };
    // The handlers but HYPERCALL's are `#[inline(never)]`: this stays a small
    // dispatcher, without the stack frame of the paths it does not take.
    let r = match Cmd::from_number(cmd) {
        Some(Cmd::Hypercall) => privcmd_hypercall(f, arg),
        // PV only (C's check comes first, before the argument is read).
        Some(Cmd::Mmap) => Err(ENOSYS),
        Some(Cmd::MmapBatch) => mmap_batch(f, arg, 1),
        Some(Cmd::MmapBatchV2) => mmap_batch(f, arg, 2),
        Some(Cmd::DmOp) => dm_op(f, arg),
        Some(Cmd::Restrict) => restrict(f, arg),
        Some(Cmd::MmapResource) => mmap_resource(f, arg),
        // XEN_PRIVCMD_EVENTFD is off in this kernel (it needs XEN_VIRTIO), as C answers.
        Some(Cmd::Irqfd | Cmd::Ioeventfd) => Err(EOPNOTSUPP),
        // XEN_ACPI is x86's: C answers EINVAL.
        Some(Cmd::PcidevGetGsi) => Err(EINVAL),
        None => Err(ENOTTY),
    };
    r.unwrap_or_else(|e| e.to_errno() as c_long)
}

/// `n` values of `T` read from user address `arg`, `CHUNK` at a time: the buffer grows
/// only as far as the user memory it copies from, so an `n` larger than the caller's
/// array fails with `EFAULT` (as C's page-by-page `gather_array()` does) rather than
/// `ENOMEM` from one huge allocation. The vector has room for `extra` more values.
fn read_array<T: FromBytes>(arg: u64, n: usize, extra: usize) -> Result<KVVec<T>> {
    let mut v = KVVec::<T>::new();
    let mut reader = UserSlice::new(
        UserPtr::from_addr(arg as usize),
        n.saturating_mul(size_of::<T>()),
    )
    .reader();
    while v.len() < n {
        let step = (n - v.len()).min(CHUNK);
        // The last chunk makes room for the extra values too: one allocation for a
        // batch of up to `CHUNK` values.
        let more = if v.len() + step == n {
            step + extra
        } else {
            step
        };
        v.reserve(more, GFP_KERNEL)?;
        let spare = &mut v.spare_capacity_mut()[..step];
        let bytes = size_of_val(spare);
        // SAFETY: `spare` is `step` uninitialised `T`s, `bytes` bytes.
        let raw = unsafe {
            core::slice::from_raw_parts_mut(spare.as_mut_ptr().cast::<MaybeUninit<u8>>(), bytes)
        };
        reader.read_raw(raw)?;
        // SAFETY: the copy initialised `step` more elements, and any bytes are a `T`.
        unsafe { v.inc_len(step) };
    }
    v.reserve(extra, GFP_KERNEL)?;
    Ok(v)
}

/// Zeroes `n` values of `T` at user address `arg` (C's `clear_user()`), a page at a time.
fn clear_array<T>(arg: u64, n: usize) -> Result {
    static ZEROS: [u8; 4096] = [0; 4096];
    let mut left = n.saturating_mul(size_of::<T>());
    let mut writer = UserSlice::new(UserPtr::from_addr(arg as usize), left).writer();
    while left > 0 {
        let step = left.min(ZEROS.len());
        writer.write_slice(&ZEROS[..step])?;
        left -= step;
    }
    Ok(())
}

/// Writes `v` to user address `arg`.
fn write_array<T: kernel::transmute::AsBytes>(arg: u64, v: &[T]) -> Result {
    let bytes = core::mem::size_of_val(v);
    // SAFETY: `v` is `bytes` initialised bytes of values without padding (`AsBytes`).
    let raw = unsafe { core::slice::from_raw_parts(v.as_ptr().cast::<u8>(), bytes) };
    UserSlice::new(UserPtr::from_addr(arg as usize), bytes)
        .writer()
        .write_slice(raw)
}

/// `access_ok()`.
fn access_ok(addr: u64, size: u64) -> bool {
    // SAFETY: a check of the range's bounds only.
    unsafe { xen::ffi::access_ok(addr as usize as *const c_void, size as c_ulong) }
}

/// `IOCTL_PRIVCMD_HYPERCALL`: Xen's result, as C returns it. Inlined into `ioctl`: the
/// hot path of libxencall.
#[inline]
fn privcmd_hypercall(f: &PrivcmdFile, arg: c_ulong) -> Result<c_long> {
    f.restriction().allows_hypercall().map_err(err)?;
    let h: abi::Hypercall = read(arg as u64)?;
    // SAFETY: the caller holds an unrestricted privcmd file (checked above); the
    // arguments are its own, their pointers into its own memory.
    Ok(unsafe { hypercall::privcmd::call(h.op, &h.arg) } as c_long)
}

/// `IOCTL_PRIVCMD_RESTRICT`.
#[inline(never)]
fn restrict(f: &PrivcmdFile, arg: c_ulong) -> Result<c_long> {
    let dom = DomId::new(read::<u16>(arg as u64)?);
    loop {
        let cur = f.restriction.load(Relaxed);
        let new = Restriction(DomId::new(cur as u16))
            .restrict(dom)
            .map_err(err)?;
        let new = u32::from(new.0.as_u16());
        if new == cur || f.restriction.cmpxchg(cur, new, Relaxed).is_ok() {
            return Ok(0);
        }
    }
}

/// User pages pinned for a hypercall, unpinned (and marked dirty) on drop.
struct Pinned {
    pages: KVec<*mut bindings::page>,
}

impl Drop for Pinned {
    fn drop(&mut self) {
        // SAFETY: pages this value pinned with `pin_user_pages_fast()`.
        unsafe {
            bindings::unpin_user_pages_dirty_lock(
                self.pages.as_mut_ptr(),
                self.pages.len() as c_ulong,
                true,
            )
        };
    }
}

/// Pins the pages of `bufs`, `nr_pages` in all, as C's `lock_pages()`: a buffer whose
/// pages cannot all be pinned at once is pinned in several calls.
fn pin(bufs: &[abi::DmOpBuf], nr_pages: usize) -> Result<Pinned> {
    let page = kernel::page::PAGE_SIZE as u64;
    let mut pinned = Pinned {
        pages: KVec::with_capacity(nr_pages, GFP_KERNEL)?,
    };
    let (mut i, mut off) = (0, 0u64);
    while i < bufs.len() {
        let b = bufs[i];
        let requested = ((b.uptr & (page - 1)) + b.size).div_ceil(page) - off;
        let room = (nr_pages - pinned.pages.len()) as u64;
        if requested > room {
            return Err(ENOSPC);
        }
        let spare = pinned.pages.spare_capacity_mut();
        // SAFETY: `requested` fits the spare capacity (checked above), which the call
        // fills with the pages it pinned.
        let n = unsafe {
            bindings::pin_user_pages_fast(
                (b.uptr + off * page) as c_ulong,
                requested as c_int,
                bindings::FOLL_WRITE,
                spare.as_mut_ptr().cast(),
            )
        };
        if n <= 0 {
            // Nothing pinned: C's answer for a buffer of no page too.
            return Err(if n == 0 { EFAULT } else { Error::from_errno(n) });
        }
        // SAFETY: the call initialised `n` entries of the spare capacity.
        unsafe { pinned.pages.inc_len(n as usize) };
        off = if requested == n as u64 {
            0
        } else {
            off + n as u64
        };
        i += usize::from(off == 0);
    }
    Ok(pinned)
}

/// `IOCTL_PRIVCMD_DM_OP`: Xen's result.
#[inline(never)]
fn dm_op(f: &PrivcmdFile, arg: c_ulong) -> Result<c_long> {
    let op: abi::DmOp = read(arg as u64)?;
    let limits = crate::dm_op_limits();
    let Some(n) = abi::dm_op_header(&op, f.restriction(), limits).map_err(err)? else {
        return Ok(0);
    };
    let bufs = read_array::<abi::DmOpBuf>(op.ubufs, n, 0)?;
    let nr_pages = abi::dm_op_pages(&bufs, limits, PAGE_SHIFT as u32, access_ok).map_err(err)?;
    let mut xbufs = KVec::with_capacity(n, GFP_KERNEL)?;
    let _pinned = pin(&bufs, nr_pages as usize)?;
    for b in bufs.iter() {
        xbufs.push(hypercall::dm_op::buf(b.uptr, b.size), GFP_KERNEL)?;
    }
    // SAFETY: the buffers are the caller's memory, pinned until `_pinned` drops.
    Ok(unsafe { hypercall::dm_op::call(DomId::new(op.dom), &mut xbufs) } as c_long)
}

/// The current task's address space, write-locked (`mmap_write_lock()`).
struct MmapWrite(*mut bindings::mm_struct);

impl MmapWrite {
    /// Locks the address space of the calling process; `EINVAL` for a kernel thread.
    ///
    /// The address space is `current->mm` read by C (`xen::ffi::current_mm()`), not the
    /// kernel crate's `CurrentTask::mm()`, which reads another field in this kernel. It
    /// lives as long as the task that makes this call, as in C.
    fn lock() -> Result<Self> {
        // SAFETY: reads the calling task's own field.
        let mm = unsafe { xen::ffi::current_mm() };
        if mm.is_null() {
            return Err(EINVAL);
        }
        // SAFETY: the calling task's address space, alive while it runs.
        unsafe { xen::ffi::mmap_write_lock(mm) };
        Ok(Self(mm))
    }

    /// The VMA of this device that contains `addr`, if there is one.
    fn privcmd_vma(&self, addr: u64) -> Option<*mut bindings::vm_area_struct> {
        // SAFETY: the lock is held.
        let vma = unsafe { bindings::find_vma(self.0, addr as c_ulong) };
        // SAFETY: a VMA of this address space, stable under the lock.
        (!vma.is_null() && unsafe { ptr::eq((*vma).vm_ops, &VM_OPS) }).then_some(vma)
    }
}

impl Drop for MmapWrite {
    fn drop(&mut self) {
        // SAFETY: locked in `lock`.
        unsafe { xen::ffi::mmap_write_unlock(self.0) };
    }
}

/// The first address of `vma` and the end of it.
fn vma_range(vma: *mut bindings::vm_area_struct) -> (usize, usize) {
    // SAFETY: callers pass a VMA found under the address space's lock, which they hold.
    let v = unsafe { kernel::mm::virt::VmaRef::from_raw(vma) };
    (v.start(), v.end())
}

/// The pages of this domain behind a mapping of foreign frames, one per page of the VMA:
/// taken out of the physmap (ballooned) so that Xen puts the foreign frames at their
/// addresses. The VMA owns them until it is closed. Their array is the VMA's
/// `vm_private_data`, as the kernel's `xen_remap_vma_range()` reads it there; its length
/// is the VMA's (the ioctls fill whole VMAs).
struct Backing(KVVec<*mut bindings::page>);

impl Backing {
    /// `n` ballooned pages.
    fn alloc(n: usize) -> Result<Self> {
        let mut pages = KVVec::with_capacity(n, GFP_KERNEL)?;
        pages.resize(n, ptr::null_mut(), GFP_KERNEL)?;
        // SAFETY: `pages` has room for `n` page pointers, which the call fills.
        let rc = unsafe { xb::xen_alloc_ballooned_pages(n as c_uint, pages.as_mut_ptr()) };
        if rc != 0 {
            pr_warn!("cannot take {} pages from the balloon: {}\n", n, rc);
            return Err(ENOMEM);
        }
        Ok(Self(pages))
    }

    /// The Xen frame number of Xen frame `i` of the pages.
    #[allow(clippy::modulo_one, reason = "one Xen frame per page with 4 KiB pages")]
    fn xen_pfn(&self, i: usize) -> XenPfn {
        let page = self.0[i / XEN_PFNS_PER_PAGE as usize];
        // SAFETY: one of our pages.
        let pfn = unsafe { xen::ffi::page_to_pfn(page) } as u64;
        (pfn << (PAGE_SHIFT - 12)) + (i as u64 % XEN_PFNS_PER_PAGE)
    }

    /// Gives the pages to `vma`.
    ///
    /// # Safety
    ///
    /// `vma` is a VMA of this device with no pages yet, its address space locked, and as
    /// many pages as the VMA.
    unsafe fn give(self, vma: *mut bindings::vm_area_struct) {
        let (ptr, len, cap) = self.0.into_raw_parts();
        debug_assert_eq!(len, cap);
        // SAFETY: per this function's requirements; `close` takes the array back.
        unsafe { (*vma).vm_private_data = ptr.cast() };
    }

    /// The pages of `vma`, if it has any yet.
    ///
    /// # Safety
    ///
    /// `vma` is a VMA of this device, its address space locked.
    unsafe fn of<'a>(vma: *mut bindings::vm_area_struct) -> Option<&'a mut [*mut bindings::page]> {
        // SAFETY: `mmap` left it null; only `give` sets it, to an array of the VMA's
        // length.
        let p = unsafe { (*vma).vm_private_data.cast::<*mut bindings::page>() };
        let (start, end) = vma_range(vma);
        let n = (end - start) >> PAGE_SHIFT;
        // SAFETY: as above.
        (!p.is_null()).then(|| unsafe { core::slice::from_raw_parts_mut(p, n) })
    }

    /// Takes the pages back from `vma`, which goes away.
    ///
    /// # Safety
    ///
    /// As [`Self::of`]; the VMA's pages are not used after this.
    unsafe fn take(vma: *mut bindings::vm_area_struct) -> Option<Self> {
        // SAFETY: per this function's requirements.
        let pages = unsafe { Self::of(vma) }?;
        let n = pages.len();
        // SAFETY: `give` left the array of a vector of `n` elements and capacity there.
        let v = unsafe { KVVec::from_raw_parts(pages.as_mut_ptr(), n, n) };
        // SAFETY: as above.
        unsafe { (*vma).vm_private_data = ptr::null_mut() };
        Some(Self(v))
    }
}

/// `apply_to_page_range()` callback: `EBUSY` at the first page table entry in use.
///
/// # Safety
///
/// Called by `apply_to_page_range()` with a page table entry.
unsafe extern "C" fn is_mapped(
    pte: *mut bindings::pte_t,
    _addr: c_ulong,
    _data: *mut c_void,
) -> c_int {
    // SAFETY: the entry the walk hands over.
    if unsafe { xen::ffi::pte_none(xen::ffi::ptep_get(pte)) } != 0 {
        0
    } else {
        EBUSY.to_errno()
    }
}

/// A batch's frame numbers and, in the same allocation after them, its per-frame
/// results (C keeps its results in the frame list's pages too).
struct Frames {
    buf: KVVec<XenPfn>,
    num: usize,
}

impl Frames {
    /// A frame whose remap call did not reach it.
    const PENDING: i32 = i32::MIN;

    /// Reads `num` frame numbers from user address `arr`; every result starts
    /// [`Self::PENDING`].
    fn read(arr: u64, num: usize) -> Result<Self> {
        let slots = num.div_ceil(2);
        let mut buf = read_array::<XenPfn>(arr, num, slots)?;
        let pending = u64::from(Self::PENDING as u32);
        for s in &mut buf.spare_capacity_mut()[..slots] {
            s.write(pending << 32 | pending);
        }
        Ok(Self { buf, num })
    }

    /// The frame numbers, and the results.
    fn parts(&mut self) -> (&[XenPfn], &mut [i32]) {
        let ptr = self.buf.as_mut_ptr();
        // SAFETY: the buffer holds `num` frame numbers and, in its spare capacity after
        // them, `num.div_ceil(2)` initialised `u64`s (`read`): room for `num` `i32`s,
        // aligned (4 divides 8). The two slices do not overlap, and live as long as the
        // borrow of `self`.
        unsafe {
            (
                core::slice::from_raw_parts(ptr, self.num),
                core::slice::from_raw_parts_mut(ptr.add(self.num).cast::<i32>(), self.num),
            )
        }
    }
}

/// `IOCTL_PRIVCMD_MMAPBATCH` (`version` 1) and `_V2` (2).
#[inline(never)]
fn mmap_batch(f: &PrivcmdFile, arg: c_ulong, version: u8) -> Result<c_long> {
    let b = if version == 1 {
        Batch::v1(&read::<abi::MmapBatch>(arg as u64)?)
    } else {
        Batch::v2(&read::<abi::MmapBatchV2>(arg as u64)?)
    };
    let pages = b
        .check(
            f.restriction(),
            PAGE_SHIFT as u32,
            XEN_PFNS_PER_PAGE,
            access_ok,
        )
        .map_err(err)?;
    let num = b.num as usize;
    let mut frames = Frames::read(b.arr, num)?;
    if version == 2 {
        // Zeroed now, so that a failure can write back the errors alone.
        clear_array::<i32>(b.err, num)?;
    }
    let mut outcome = BatchOutcome::default();
    {
        let mm = MmapWrite::lock()?;
        let vma = mm.privcmd_vma(b.addr).ok_or(EINVAL)?;
        let (start, end) = vma_range(vma);
        // SAFETY: a VMA of this device, the address space locked.
        let before = unsafe { Backing::of(vma) }.is_some();
        let first = abi::batch_range(
            start as u64,
            end as u64,
            before,
            b.addr,
            pages,
            PAGE_SHIFT as u32,
        )
        .map_err(err)?;
        if before {
            let len = (pages << PAGE_SHIFT) as c_ulong;
            // SAFETY: the range lies in the VMA (checked above), the address space
            // locked.
            let busy = unsafe {
                bindings::apply_to_page_range(
                    (*vma).vm_mm,
                    b.addr as c_ulong,
                    len,
                    Some(is_mapped),
                    ptr::null_mut(),
                )
            };
            if busy != 0 {
                return Err(EINVAL);
            }
        } else {
            // SAFETY: as above; the VMA has no pages yet, and `pages` is its size
            // (checked by `batch_range`).
            unsafe { Backing::alloc(pages as usize)?.give(vma) };
        }
        // SAFETY: given just above or before.
        let backing = unsafe { Backing::of(vma) }.ok_or(EINVAL)?;
        // SAFETY: a VMA of this device.
        let prot = unsafe { (*vma).vm_page_prot };
        let mut va = b.addr & !((kernel::page::PAGE_SIZE as u64) - 1);
        let mut index = first as usize;
        let (gfns, errs) = frames.parts();
        for (g, e) in gfns.chunks(CHUNK).zip(errs.chunks_mut(CHUNK)) {
            let nr = g.len();
            // SAFETY: the VMA is this device's (VM_IO | VM_PFNMAP), locked; `g` and `e`
            // hold `nr` frames and results; the backing pages from `index` on are the
            // VMA's, for its pages from `va` on.
            let ret = unsafe {
                xb::xen_xlate_remap_gfn_array(
                    vma,
                    va as c_ulong,
                    g.as_ptr().cast_mut(),
                    nr as c_int,
                    e.as_mut_ptr(),
                    prot,
                    c_uint::from(b.dom.as_u16()),
                    backing.as_mut_ptr().add(index),
                )
            };
            // A whole chunk refused leaves its frames unreached: they get its error (C
            // reports whatever the frame array held there).
            for x in e.iter_mut().filter(|x| **x == Frames::PENDING) {
                *x = if ret < 0 { ret } else { EINVAL.to_errno() };
            }
            outcome.add(nr as i64, i64::from(ret));
            va += 4096 * nr as u64;
            index += nr / XEN_PFNS_PER_PAGE as usize;
        }
    }
    if outcome.any_error {
        let (_, errs) = frames.parts();
        if version == 2 {
            write_array(b.err, errs)?;
        } else {
            for (i, &e) in errs.iter().enumerate().filter(|(_, e)| **e != 0) {
                let at = b.arr + (i * size_of::<XenPfn>()) as u64;
                let gfn = read::<XenPfn>(at)?;
                write_array(at, &[abi::v1_error(gfn, e)])?;
            }
        }
    }
    outcome.result().map_err(err)?;
    Ok(0)
}

/// `IOCTL_PRIVCMD_MMAP_RESOURCE`.
#[inline(never)]
fn mmap_resource(f: &PrivcmdFile, arg: c_ulong) -> Result<c_long> {
    let m: abi::MmapResource = read(arg as u64)?;
    let req = abi::resource_request(&m, f.restriction()).map_err(err)?;
    let mut x = hypercall::memory::AcquireResource {
        domid: m.dom,
        // The ABI's `__u32 type` goes into Xen's 16 bits, as in C.
        type_: m.type_ as u16,
        id: m.id,
        ..Default::default()
    };
    if req == abi::ResourceRequest::Size {
        // SAFETY: no frame list: a query.
        let rc = unsafe { hypercall::memory::acquire_resource(&mut x) };
        if rc != 0 {
            return Ok(rc as c_long);
        }
        let at = arg as u64 + core::mem::offset_of!(abi::MmapResource, num) as u64;
        write_array(at, &[u64::from(x.nr_frames)])?;
        return Ok(0);
    }
    let mm = MmapWrite::lock()?;
    let vma = mm.privcmd_vma(m.addr).ok_or(EINVAL)?;
    let (start, end) = vma_range(vma);
    // SAFETY: a VMA of this device, the address space locked.
    let before = unsafe { Backing::of(vma) }.is_some();
    let pages = abi::resource_range(
        start as u64,
        end as u64,
        before,
        m.addr,
        m.num,
        PAGE_SHIFT as u32,
        XEN_PFNS_PER_PAGE,
    )
    .map_err(err)?;
    let backing = Backing::alloc(pages as usize)?;
    let mut pfns = KVVec::with_capacity(m.num as usize, GFP_KERNEL)?;
    for i in 0..m.num as usize {
        pfns.push(backing.xen_pfn(i), GFP_KERNEL)?;
    }
    // SAFETY: as above; the VMA has no pages yet, and `pages` is its size (both checked
    // by `resource_range`).
    unsafe { backing.give(vma) };
    x.frame = u64::from(m.idx);
    x.nr_frames = m.num as u32;
    x.frame_list.__bindgen_anon_1.q = pfns.as_mut_ptr() as u64;
    // SAFETY: the frame list names the VMA's ballooned pages, kernel memory.
    let rc = unsafe { hypercall::memory::acquire_resource(&mut x) };
    if rc != 0 {
        // The pages stay with the VMA, returned when it closes, as in C.
        return Ok(rc as c_long);
    }
    // SAFETY: the VMA's pages now hold the resource's frames; the range is the VMA.
    let rc = unsafe {
        xb::xen_remap_vma_range(vma, m.addr as c_ulong, (pages << PAGE_SHIFT) as c_ulong)
    };
    Ok(rc as c_long)
}

/// The VMA operations of a mapping of this device.
static VM_OPS: bindings::vm_operations_struct = bindings::vm_operations_struct {
    close: Some(vma_close),
    may_split: Some(vma_may_split),
    fault: Some(vma_fault),
    ..pin_init::zeroed()
};

/// `mmap`: an empty mapping, for the batch and resource ioctls to fill.
///
/// # Safety
///
/// Called by the VFS with a VMA being set up.
unsafe extern "C" fn mmap(_file: *mut bindings::file, vma: *mut bindings::vm_area_struct) -> c_int {
    // SAFETY: the VMA is being set up and not shared yet. DONTCOPY: a fork could not
    // recreate these mappings.
    unsafe {
        (*vma).__bindgen_anon_2.vm_flags |= bindings::VM_IO
            | bindings::VM_PFNMAP
            | bindings::VM_DONTCOPY
            | bindings::VM_DONTEXPAND
            | bindings::VM_DONTDUMP;
        (*vma).vm_ops = &VM_OPS;
        (*vma).vm_private_data = ptr::null_mut();
    }
    0
}

/// `close`: unmaps the foreign frames and returns the pages to the balloon.
///
/// # Safety
///
/// Called by the mm with a VMA of this device that goes away.
unsafe extern "C" fn vma_close(vma: *mut bindings::vm_area_struct) {
    // SAFETY: a VMA of this device, which goes away (the mm holds its lock).
    let Some(mut p) = (unsafe { Backing::take(vma) }) else {
        return;
    };
    let n = p.0.len();
    // SAFETY: the VMA and the pages that back it.
    let rc = unsafe {
        xb::xen_unmap_domain_gfn_range(
            vma,
            (n as u64 * XEN_PFNS_PER_PAGE) as c_int,
            p.0.as_mut_ptr(),
        )
    };
    if rc == 0 {
        // SAFETY: ballooned pages of ours, mapped nowhere any more.
        unsafe { xb::xen_free_ballooned_pages(n as c_uint, p.0.as_mut_ptr()) };
    } else {
        pr_crit!(
            "cannot unmap foreign frames: leaking {} pages ({})\n",
            n,
            rc
        );
    }
}

/// `may_split`: never (a split would free the pages twice).
///
/// # Safety
///
/// Called by the mm.
unsafe extern "C" fn vma_may_split(_vma: *mut bindings::vm_area_struct, _addr: c_ulong) -> c_int {
    EINVAL.to_errno()
}

/// `fault`: nothing is mapped there.
///
/// # Safety
///
/// Called by the mm.
unsafe extern "C" fn vma_fault(_vmf: *mut bindings::vm_fault) -> bindings::vm_fault_t {
    bindings::vm_fault_reason_VM_FAULT_SIGBUS as bindings::vm_fault_t
}
