// SPDX-License-Identifier: GPL-2.0

//! `/dev/xen/gntdev`: the file operations and the mappings of grants.
//!
//! A file holds a list of grant mappings, sorted by their offset, under a mutex. Each
//! mapping is reference-counted ([`Arc`]): the list holds one reference, each VMA that
//! maps it another (taken at mmap, and by the VMA's `open` when it is split or copied on
//! fork). The last reference unmaps the grants (`xen::grant::Mapping::unmap`, which
//! waits until no one else holds the pages), clears the notification byte and signals
//! the notification event if asked to, and gives the pages back.
//!
//! Lock order: the address space's `mmap_lock` (mmap), then the file's list, then a
//! mapping's state. No path touches user memory while holding the list or a state: C's
//! gntdev copies to user space under its list lock in MAP_GRANT_REF, which lockdep
//! reports against mmap's order.
//!
//! C header: [`include/uapi/xen/gntdev.h`](srctree/include/uapi/xen/gntdev.h).

use core::mem::{
    size_of,     //
    MaybeUninit, //
};
use core::ptr;

use kernel::bindings;
use kernel::ffi::{
    c_int,   //
    c_long,  //
    c_uint,  //
    c_ulong, //
};
use kernel::new_mutex;
use kernel::page::PAGE_SHIFT;
use kernel::prelude::*;
use kernel::sync::{
    Arc,   //
    Mutex, //
};
use kernel::transmute::FromBytes;
use kernel::uaccess::{
    UserPtr,   //
    UserSlice, //
};
use xen::bindings as xb;
use xen::domid::DomId;
use xen::evtchn::PortRef;
use xen::grant::{
    Access,     //
    GrantPages, //
    GrantRef,   //
    Mapping,    //
};
use xen::misc::StaticFops;
use xen::user::{
    read,  //
    write, //
};

use crate::abi::{
    self, //
    Cmd,  //
};

// SAFETY: plain old data of the uapi: any bytes are a value.
unsafe impl FromBytes for abi::MapGrantRef {}
// SAFETY: as above.
unsafe impl FromBytes for abi::GrantRef {}
// SAFETY: as above.
unsafe impl FromBytes for abi::UnmapGrantRef {}
// SAFETY: as above.
unsafe impl FromBytes for abi::GetOffsetForVaddr {}
// SAFETY: as above.
unsafe impl FromBytes for abi::GrantCopy {}
// SAFETY: as above.
unsafe impl FromBytes for abi::CopySegment {}
// SAFETY: as above, without padding: two `u64`, two `u32`.
unsafe impl kernel::transmute::AsBytes for abi::MapGrantRef {}
// SAFETY: as above, without padding.
unsafe impl kernel::transmute::AsBytes for abi::GetOffsetForVaddr {}

/// `abi::Errno` as an [`Error`].
fn err(e: abi::Errno) -> Error {
    Error::from_errno(-e)
}

/// What a mapping's notification asks for when it goes away.
#[derive(Default)]
struct Notify {
    /// `UNMAP_NOTIFY_*`.
    flags: u32,
    /// The byte to clear, as an offset into the mapping.
    addr: u64,
    /// The event channel to signal, referenced.
    event: Option<PortRef>,
}

/// A mapping's state.
struct MapState {
    /// The pages the grants are mapped into; `None` once given up on (an unmap failed:
    /// they are leaked rather than given back while Xen may still map them).
    pages: Option<GrantPages>,
    mapping: Mapping,
    /// Set by the first mmap: read-only unless that mmap was writable.
    access: Option<Access>,
    /// Mapped by a VMA already (a mapping can be mmapped once, as in C).
    in_use: bool,
    notify: Notify,
}

/// A batch of grants `MAP_GRANT_REF` took, at an offset of the file's mappings.
#[pin_data(PinnedDrop)]
struct GrantMap {
    /// The offset, in pages.
    index: u64,
    /// How many grants (and pages).
    count: usize,
    #[pin]
    state: Mutex<MapState>,
}

#[pinned_drop]
impl PinnedDrop for GrantMap {
    fn drop(self: Pin<&mut Self>) {
        let mut s = self.state.lock();
        let s = &mut *s;
        if let Some(pages) = &s.pages {
            if s.mapping.live() > 0 {
                // Only through a writable mapping: CLEAR_BYTE set before a read-only
                // mmap would have the kernel write to a page Xen maps read-only (C
                // does, and faults).
                if s.notify.flags & abi::UNMAP_NOTIFY_CLEAR_BYTE != 0
                    && s.access == Some(Access::ReadWrite)
                {
                    let page = (s.notify.addr >> PAGE_SHIFT) as usize;
                    let off = (s.notify.addr & (kernel::page::PAGE_SIZE as u64 - 1)) as usize;
                    if page < pages.len() {
                        // SAFETY: a byte of a page of the mapping, in the linear map,
                        // still mapping the grant (live) writable.
                        unsafe { pages.address(page).add(off).write_volatile(0) };
                    }
                }
                if let Err(e) = s.mapping.unmap(pages) {
                    pr_err!(
                        "cannot unmap {} grants: leaking their pages ({:?})\n",
                        self.count,
                        e
                    );
                    core::mem::forget(s.pages.take());
                }
            }
        }
        if s.notify.flags & abi::UNMAP_NOTIFY_SEND_EVENT != 0 {
            if let Some(ev) = &s.notify.event {
                ev.notify();
            }
        }
        // The event's reference and the pages go with the state.
    }
}

/// What a file of the device holds.
#[pin_data]
struct GntdevFile {
    /// The file's mappings, sorted by offset.
    #[pin]
    maps: Mutex<KVec<Arc<GrantMap>>>,
}

static FOPS: StaticFops = StaticFops(bindings::file_operations {
    owner: kernel::module::this_module::<crate::XenGntdev>().as_ptr(),
    open: Some(open),
    release: Some(release),
    unlocked_ioctl: Some(ioctl),
    mmap: Some(mmap),
    ..pin_init::zeroed()
});

/// The file operations of `/dev/xen/gntdev`.
pub fn fops() -> &'static bindings::file_operations {
    FOPS.get()
}

/// `open`: a new file, with no mappings.
///
/// # Safety
///
/// Called by the VFS with a file being opened.
unsafe extern "C" fn open(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    let f = KBox::pin_init(
        pin_init!(GntdevFile {
            maps <- new_mutex!(KVec::new()),
        }),
        GFP_KERNEL,
    );
    match f {
        Ok(f) => {
            // SAFETY: the value stays where it is until `release` rebuilds the box.
            let raw = KBox::into_raw(unsafe { Pin::into_inner_unchecked(f) });
            // SAFETY: the file being opened is ours to set up.
            unsafe { (*file).private_data = raw.cast() };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// `release`: drops the file's references on its mappings; those still mapped by a VMA
/// live on until it goes.
///
/// # Safety
///
/// Called by the VFS with a file `open` set up, once.
unsafe extern "C" fn release(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: `open` put a pinned `KBox<GntdevFile>` there; this is the last use of it.
    let f = unsafe { KBox::from_raw((*file).private_data.cast::<GntdevFile>()) };
    let maps = core::mem::take(&mut *f.maps.lock());
    drop(maps);
    drop(f);
    0
}

/// `unlocked_ioctl`.
///
/// # Safety
///
/// Called by the VFS with a file `open` set up.
unsafe extern "C" fn ioctl(file: *mut bindings::file, cmd: c_uint, arg: c_ulong) -> c_long {
    // SAFETY: `open` put a `GntdevFile` there, alive until `release`.
    let f = unsafe { &*(*file).private_data.cast::<GntdevFile>() };
    let arg = arg as u64;
    let r = match Cmd::from_number(cmd) {
        Some(Cmd::MapGrantRef) => map_grant_ref(f, arg),
        Some(Cmd::UnmapGrantRef) => unmap_grant_ref(f, arg),
        Some(Cmd::GetOffsetForVaddr) => get_offset_for_vaddr(arg),
        Some(Cmd::SetUnmapNotify) => set_unmap_notify(f, arg),
        Some(Cmd::GrantCopy) => grant_copy(arg),
        None => Err(ENOTTY),
    };
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno() as c_long,
    }
}

/// `IOCTL_GNTDEV_MAP_GRANT_REF`: takes pages for `count` grants and puts them at a free
/// offset of the file, for mmap to map them.
fn map_grant_ref(f: &GntdevFile, arg: u64) -> Result {
    let op: abi::MapGrantRef = read(arg)?;
    let count = abi::check_count(op.count, crate::limit()).map_err(err)?;
    // As C: the pages first (ENOMEM), then the grants (EFAULT).
    let pages = GrantPages::alloc(count)?;
    let mut mapping = Mapping::with_capacity(count)?;
    let mut reader = UserSlice::new(
        UserPtr::from_addr((arg + abi::MAP_GRANT_REF_REFS) as usize),
        count * size_of::<abi::GrantRef>(),
    )
    .reader();
    // Copied 32 at a time through the stack (one copy for a small batch, as C's).
    let mut chunk = [MaybeUninit::<abi::GrantRef>::uninit(); 32];
    let mut left = count;
    while left > 0 {
        let n = left.min(chunk.len());
        // SAFETY: `n` uninitialised grant structures, seen as their bytes.
        let raw = unsafe {
            core::slice::from_raw_parts_mut(
                chunk.as_mut_ptr().cast::<MaybeUninit<u8>>(),
                n * size_of::<abi::GrantRef>(),
            )
        };
        reader.read_raw(raw)?;
        for c in &chunk[..n] {
            // SAFETY: initialised by the copy; any bytes are a grant structure.
            let g = unsafe { c.assume_init() };
            // `domid_t` is 16 bits: C truncates the same way.
            mapping.push(DomId::new(g.domid as u16), GrantRef::new(g.gref))?;
        }
        left -= n;
    }
    let state = MapState {
        pages: Some(pages),
        mapping,
        access: None,
        in_use: false,
        notify: Notify::default(),
    };
    let index = {
        let mut maps = f.maps.lock();
        let (pos, index) = abi::place(maps.iter().map(|m| (m.index, m.count as u64)), count as u64);
        let map = Arc::pin_init(
            pin_init!(GrantMap {
                index,
                count,
                state <- new_mutex!(state),
            }),
            GFP_KERNEL,
        )?;
        maps.reserve(1, GFP_KERNEL)?;
        maps.insert_within_capacity(pos, map).map_err(|_| EINVAL)?;
        index
    };
    // Written back with the list unlocked (mmap takes the list under `mmap_lock`).
    let out = abi::MapGrantRef {
        index: index << PAGE_SHIFT,
        ..op
    };
    if let Err(e) = write(arg, &out) {
        let removed = remove(f, index, count as u32);
        drop(removed);
        return Err(e);
    }
    Ok(())
}

/// Takes the mapping at `index` (pages) with `count` grants (0: any) out of the file's
/// list; the caller drops it with the list unlocked.
fn remove(f: &GntdevFile, index: u64, count: u32) -> Option<Arc<GrantMap>> {
    let mut maps = f.maps.lock();
    let pos = maps
        .iter()
        .position(|m| m.index == index && (count == 0 || m.count == count as usize))?;
    maps.remove(pos).ok()
}

/// `IOCTL_GNTDEV_UNMAP_GRANT_REF`: the file lets go of a mapping; `ENOENT` if there is
/// none at that offset with that count. A VMA that maps it keeps it until it goes.
fn unmap_grant_ref(f: &GntdevFile, arg: u64) -> Result {
    let op: abi::UnmapGrantRef = read(arg)?;
    let map = remove(f, op.index >> PAGE_SHIFT, op.count).ok_or(err(abi::ENOENT))?;
    drop(map);
    Ok(())
}

/// `IOCTL_GNTDEV_GET_OFFSET_FOR_VADDR`: the offset and count of the mapping a VMA of
/// this device at `vaddr` maps; `EINVAL` if there is none.
fn get_offset_for_vaddr(arg: u64) -> Result {
    let mut op: abi::GetOffsetForVaddr = read(arg)?;
    // SAFETY: reads the calling task's own field.
    let mm = unsafe { xen::ffi::current_mm() };
    if mm.is_null() {
        return Err(EINVAL);
    }
    // SAFETY: the calling task's address space, alive while it runs.
    unsafe { bindings::mmap_read_lock(mm) };
    // SAFETY: the lock is held.
    let vma = unsafe { bindings::find_vma(mm, op.vaddr as c_ulong) };
    // SAFETY: a VMA of this address space, stable under the lock; a VMA with our
    // operations holds a reference on its mapping in `vm_private_data`.
    let found = unsafe {
        if !vma.is_null() && ptr::eq((*vma).vm_ops, &VM_OPS) && !(*vma).vm_private_data.is_null() {
            let m = xen::vma::get::<GrantMap>(vma);
            Some((m.index, m.count))
        } else {
            None
        }
    };
    // SAFETY: locked above.
    unsafe { bindings::mmap_read_unlock(mm) };
    let (index, count) = found.ok_or(EINVAL)?;
    op.offset = index << PAGE_SHIFT;
    op.count = count as u32;
    write(arg, &op)
}

/// `IOCTL_GNTDEV_SET_UNMAP_NOTIFY`: what to do when the mapping holding the byte at
/// `index` goes away: clear that byte, signal an event channel, or both.
fn set_unmap_notify(f: &GntdevFile, arg: u64) -> Result {
    let op: abi::UnmapNotify = read(arg)?;
    abi::check_notify_action(op.action).map_err(err)?;
    // The new event's reference first, so that replacing the old one cannot drop the
    // last reference of a port both name.
    let event = if op.action & abi::UNMAP_NOTIFY_SEND_EVENT != 0 {
        Some(PortRef::get(op.event_channel_port)?)
    } else {
        None
    };
    let old = {
        let maps = f.maps.lock();
        let map = maps
            .iter()
            .find(|m| {
                let begin = m.index << PAGE_SHIFT;
                let end = (m.index + m.count as u64) << PAGE_SHIFT;
                op.index >= begin && op.index < end
            })
            .ok_or(err(abi::ENOENT))?;
        let mut s = map.state.lock();
        if op.action & abi::UNMAP_NOTIFY_CLEAR_BYTE != 0 && s.access == Some(Access::ReadOnly) {
            return Err(EINVAL);
        }
        s.notify.flags = op.action;
        s.notify.addr = op.index - (map.index << PAGE_SHIFT);
        core::mem::replace(&mut s.notify.event, event)
    };
    drop(old);
    Ok(())
}

/// Grant copies issued to Xen at once (C's `GNTDEV_COPY_BATCH`).
const COPY_BATCH: usize = 16;

/// A batch of grant copies and the user pages they pin.
struct CopyBatch {
    ops: KVec<xb::gnttab_copy>,
    /// Each op's segment status, as a user address.
    status: KVec<u64>,
    /// Pinned pages, and whether Xen writes them.
    pages: KVec<(*mut bindings::page, bool)>,
}

impl CopyBatch {
    /// Pins the user page at `addr`; its frame number and offset for Xen.
    fn pin(&mut self, addr: u64, write: bool) -> Result<(u64, u16)> {
        let mut page = MaybeUninit::<*mut bindings::page>::uninit();
        let flags = if write { bindings::FOLL_WRITE } else { 0 };
        // SAFETY: one page of the caller's memory, pinned into `page`.
        let n =
            unsafe { bindings::pin_user_pages_fast(addr as c_ulong, 1, flags, page.as_mut_ptr()) };
        if n < 0 {
            return Err(Error::from_errno(n));
        }
        if n == 0 {
            return Err(EFAULT);
        }
        // SAFETY: set by the call.
        let page = unsafe { page.assume_init() };
        self.pages.push((page, write), GFP_KERNEL)?;
        // SAFETY: a pinned page. An auto-translated guest's frame numbers are its own.
        let pfn = unsafe { xen::ffi::page_to_pfn(page) } as u64;
        let xen_pfn =
            (pfn << (PAGE_SHIFT - 12)) + ((addr & (kernel::page::PAGE_SIZE as u64 - 1)) >> 12);
        Ok((xen_pfn, (addr & 0xfff) as u16))
    }

    fn unpin(&mut self) {
        for (mut page, dirty) in self.pages.drain_all() {
            // SAFETY: a page `pin` pinned, once.
            unsafe { bindings::unpin_user_pages_dirty_lock(&mut page, 1, dirty) };
        }
    }

    /// Issues the batch, unpins its pages, and reports each failed op's status into its
    /// segment unless an earlier op of that segment failed already.
    fn flush(&mut self) -> Result {
        // SAFETY: `ops.len()` copy operations, their local frames pinned until below.
        unsafe { xb::gnttab_batch_copy(self.ops.as_mut_ptr(), self.ops.len() as c_uint) };
        self.unpin();
        let mut r = Ok(());
        for (op, &at) in self.ops.iter().zip(self.status.iter()) {
            if op.status == xb::GNTST_okay as i16 {
                continue;
            }
            match read::<i16>(at) {
                Ok(old) if old == xb::GNTST_okay as i16 => {
                    if let Err(e) = write(at, &op.status) {
                        r = Err(e);
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    r = Err(e);
                    break;
                }
            }
        }
        self.ops.clear();
        self.status.clear();
        r
    }
}

impl Drop for CopyBatch {
    fn drop(&mut self) {
        self.unpin();
    }
}

/// `IOCTL_GNTDEV_GRANT_COPY`: copies between granted pages and the caller's memory,
/// segment by segment, each piece within one Xen page; each segment's status is set to
/// the first failure of its pieces.
fn grant_copy(arg: u64) -> Result {
    let op: abi::GrantCopy = read(arg)?;
    let mut b = CopyBatch {
        ops: KVec::with_capacity(COPY_BATCH, GFP_KERNEL)?,
        status: KVec::with_capacity(COPY_BATCH, GFP_KERNEL)?,
        pages: KVec::with_capacity(2 * COPY_BATCH, GFP_KERNEL)?,
    };
    const SEG: u64 = size_of::<abi::CopySegment>() as u64;
    for i in 0..u64::from(op.count) {
        let at = op.segments.wrapping_add(i * SEG);
        let seg: abi::CopySegment = read(at)?;
        abi::check_segment(&seg, 4096).map_err(err)?;
        let status = at + abi::COPY_SEGMENT_STATUS;
        write(status, &(xb::GNTST_okay as i16))?;
        let mut copied: u16 = 0;
        while copied < seg.len {
            if b.ops.len() >= COPY_BATCH {
                b.flush()?;
            }
            let mut x = xb::gnttab_copy::default();
            let mut len = seg.len - copied;
            if seg.flags & abi::GNTCOPY_SOURCE_GREF != 0 {
                x.source.u.ref_ = seg.source.gref();
                x.source.domid = seg.source.domid();
                x.source.offset = seg.source.offset() + copied;
                x.flags |= abi::GNTCOPY_SOURCE_GREF;
            } else {
                let (addr, n) = abi::local_piece(seg.source.virt(), copied, seg.len, 4096);
                len = len.min(n);
                let (gmfn, off) = b.pin(addr, false)?;
                x.source.u.gmfn = gmfn;
                x.source.domid = xb::DOMID_SELF as u16;
                x.source.offset = off;
            }
            if seg.flags & abi::GNTCOPY_DEST_GREF != 0 {
                x.dest.u.ref_ = seg.dest.gref();
                x.dest.domid = seg.dest.domid();
                x.dest.offset = seg.dest.offset() + copied;
                x.flags |= abi::GNTCOPY_DEST_GREF;
            } else {
                let (addr, n) = abi::local_piece(seg.dest.virt(), copied, seg.len, 4096);
                len = len.min(n);
                let (gmfn, off) = b.pin(addr, true)?;
                x.dest.u.gmfn = gmfn;
                x.dest.domid = xb::DOMID_SELF as u16;
                x.dest.offset = off;
            }
            x.len = len;
            copied += len;
            b.ops.push(x, GFP_KERNEL)?;
            b.status.push(status, GFP_KERNEL)?;
        }
    }
    if !b.ops.is_empty() {
        b.flush()?;
    }
    Ok(())
}

/// The VMA operations of a mapping of this device.
static VM_OPS: bindings::vm_operations_struct = bindings::vm_operations_struct {
    open: Some(xen::vma::arc_open::<GrantMap>),
    close: Some(xen::vma::arc_close::<GrantMap>),
    ..pin_init::zeroed()
};

/// `mmap`: maps the grants of the file's mapping at the VMA's offset, with as many
/// pages as the VMA. `EINVAL` for a writable private mapping, for no mapping of that
/// offset and size, for a mapping mmapped before, and for a writable mmap of grants
/// mapped read-only.
///
/// # Safety
///
/// Called by the VFS with a VMA being set up.
unsafe extern "C" fn mmap(file: *mut bindings::file, vma: *mut bindings::vm_area_struct) -> c_int {
    // SAFETY: `open` put a `GntdevFile` there, alive while the file is.
    let f = unsafe { &*(*file).private_data.cast::<GntdevFile>() };
    // SAFETY: the VMA is being set up: ours to read and change, not shared yet.
    let v = unsafe { kernel::mm::virt::VmaRef::from_raw(vma) };
    let (flags, pages) = (v.flags(), (v.end() - v.start()) >> PAGE_SHIFT);
    // SAFETY: as above (`VmaRef` has no `vm_pgoff`).
    let pgoff = unsafe { (*vma).vm_pgoff } as u64;
    let write = flags & bindings::VM_WRITE != 0;
    if write && flags & bindings::VM_SHARED == 0 {
        return EINVAL.to_errno();
    }
    if flags & bindings::VM_SHARED == 0 {
        // A private mapping of granted pages must never become writable (COW).
        // SAFETY: as above.
        unsafe { (*vma).__bindgen_anon_2.vm_flags &= !bindings::VM_MAYWRITE };
    }
    let map = {
        let maps = f.maps.lock();
        match maps.iter().find(|m| m.index == pgoff && m.count == pages) {
            Some(m) => m.clone(),
            None => return EINVAL.to_errno(),
        }
    };
    {
        let mut s = map.state.lock();
        let s = &mut *s;
        if s.in_use {
            return EINVAL.to_errno();
        }
        let access = match s.access {
            Some(Access::ReadOnly) if write => return EINVAL.to_errno(),
            Some(a) => a,
            None if write => Access::ReadWrite,
            None => Access::ReadOnly,
        };
        s.access = Some(access);
        // One mmap per mapping, whatever happens next, as in C: after a failed map the
        // pages of the grants that did not map must never reach a VMA.
        s.in_use = true;
        let Some(p) = &s.pages else {
            return EINVAL.to_errno();
        };
        if s.mapping.live() == 0 {
            if let Err(e) = s.mapping.map(p, access) {
                // Grants that did map stay so until the mapping goes, as in C.
                return e.to_errno();
            }
        }
        // SAFETY: the VMA is being set up; MIXEDMAP before inserting pages (their
        // `struct page`s are the kernel's), the pages the grants are mapped into.
        let ret = unsafe {
            (*vma).__bindgen_anon_2.vm_flags |=
                bindings::VM_DONTEXPAND | bindings::VM_DONTDUMP | bindings::VM_MIXEDMAP;
            bindings::vm_map_pages_zero(vma, p.as_slice().as_ptr().cast_mut(), pages as c_ulong)
        };
        if ret != 0 {
            return ret;
        }
    }
    // SAFETY: as above; the operations are `xen::vma`'s for a `GrantMap`.
    unsafe {
        (*vma).vm_ops = &VM_OPS;
        xen::vma::set_arc(vma, map);
    }
    0
}
