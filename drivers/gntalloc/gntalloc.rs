// SPDX-License-Identifier: GPL-2.0

//! `/dev/xen/gntalloc`: the file operations and the granted pages.
//!
//! Each page a file allocates is a [`Gref`]: a page granted to the other domain
//! (`xen::grant::Grant`) and its unmap notification, reference-counted: the file's list
//! holds one reference until DEALLOC_GREF or release, each VMA mapping it another (taken
//! at mmap, and by the VMA's `open` when a split or a fork copies it). The last
//! reference clears the notification byte, signals the event, and ends the grant: the
//! kernel frees the page once the other domain no longer maps it. libxengntshr
//! deallocates right after mmap, so the VMA's references are what keep the pages.
//!
//! All files together hold at most `limit` pages (`ENOSPC`), counted by [`GREFS`].
//!
//! C header: [`include/uapi/xen/gntalloc.h`](srctree/include/uapi/xen/gntalloc.h).

use core::cell::UnsafeCell;
use core::mem::size_of;

use kernel::bindings;
use kernel::ffi::{
    c_int,   //
    c_long,  //
    c_uint,  //
    c_ulong, //
};
use kernel::new_mutex;
use kernel::page::{
    PAGE_SHIFT, //
    PAGE_SIZE,  //
};
use kernel::prelude::*;
use kernel::sync::atomic::{
    Atomic,  //
    Relaxed, //
};
use kernel::sync::{
    Arc,   //
    Mutex, //
};
use kernel::transmute::{
    AsBytes,   //
    FromBytes, //
};
use kernel::uaccess::{
    UserPtr,   //
    UserSlice, //
};
use xen::domid::DomId;
use xen::evtchn::PortRef;
use xen::grant::Grant;
use xen::misc::StaticFops;
use xen::user::read;

use crate::abi::{
    self, //
    Cmd,  //
};

// SAFETY: plain old data of the uapi: any bytes are a value.
unsafe impl FromBytes for abi::AllocGref {}
// SAFETY: as above.
unsafe impl FromBytes for abi::DeallocGref {}
// SAFETY: as above, without padding.
unsafe impl AsBytes for abi::AllocGref {}

/// `abi::Errno` as an [`Error`].
fn err(e: abi::Errno) -> Error {
    Error::from_errno(-e)
}

/// Pages allocated by all files (C's `gref_size`).
static GREFS: Atomic<u32> = Atomic::new(0);

/// Takes `count` of the `limit` pages, or `ENOSPC`.
fn reserve(count: u32) -> Result {
    let mut used = GREFS.load(Relaxed);
    loop {
        abi::check_limit(used, count, crate::limit()).map_err(err)?;
        match GREFS.cmpxchg(used, used + count, Relaxed) {
            Ok(_) => return Ok(()),
            Err(now) => used = now,
        }
    }
}

/// Gives `count` pages back to the limit.
fn release(count: u32) {
    GREFS.fetch_sub(count, Relaxed);
}

/// What a page's notification asks for when its last user goes.
#[derive(Default)]
struct Notify {
    /// `UNMAP_NOTIFY_*`.
    flags: u32,
    /// The byte to clear, in the page.
    pgoff: usize,
    /// The event channel to signal, referenced.
    event: Option<PortRef>,
}

/// A granted page of a file, at an offset of the file's pages; it holds one unit of
/// the limit.
///
/// # Invariants
///
/// `notify` is written only by [`set_unmap_notify`], with the lock of the file whose
/// list holds the page taken (so by one thread at a time, through a reference of that
/// list), and read only by `drop`, when no other reference exists. C keeps the
/// notification the same way, under its one global lock; a lock of its own per page
/// cost the allocation path 8 % against C (`make bench`, grant-end).
struct Gref {
    /// The offset, in bytes.
    index: u64,
    grant: Grant,
    notify: UnsafeCell<Notify>,
}

// SAFETY: `notify` is written by one thread at a time, under its file's lock, and read
// only when the value is no longer shared (type invariant); `index` and `grant` are
// read-only and `Sync`.
unsafe impl Sync for Gref {}

impl Drop for Gref {
    fn drop(&mut self) {
        let n = self.notify.get_mut();
        if n.flags & abi::UNMAP_NOTIFY_CLEAR_BYTE != 0 {
            // SAFETY: a byte of the granted page (`pgoff` < PAGE_SIZE), still ours until
            // the grant ends below.
            unsafe { self.grant.address().add(n.pgoff).write_volatile(0) };
        }
        if n.flags & abi::UNMAP_NOTIFY_SEND_EVENT != 0 {
            if let Some(ev) = &n.event {
                ev.notify();
            }
        }
        release(1);
        // The grant ends when `grant` drops, after this.
    }
}

/// The pages a VMA maps.
struct VmaGrefs(KVec<Arc<Gref>>);

/// What a file holds.
struct FileState {
    /// Its pages, by offset.
    grefs: KVec<Arc<Gref>>,
    /// The offset of the next allocation (C's `priv->index`).
    next_index: u64,
}

/// A file of the device.
#[pin_data]
struct AllocFile {
    #[pin]
    state: Mutex<FileState>,
}

static FOPS: StaticFops = StaticFops(bindings::file_operations {
    owner: kernel::module::this_module::<crate::XenGntalloc>().as_ptr(),
    open: Some(open),
    release: Some(release_file),
    unlocked_ioctl: Some(ioctl),
    mmap: Some(mmap),
    ..pin_init::zeroed()
});

/// The file operations of `/dev/xen/gntalloc`.
pub fn fops() -> &'static bindings::file_operations {
    FOPS.get()
}

/// `open`: a new file, with no pages.
///
/// # Safety
///
/// Called by the VFS with a file being opened.
unsafe extern "C" fn open(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    let f = KBox::pin_init(
        pin_init!(AllocFile {
            state <- new_mutex!(FileState {
                grefs: KVec::new(),
                next_index: 0,
            }),
        }),
        GFP_KERNEL,
    );
    match f {
        Ok(f) => {
            // SAFETY: the value stays where it is until `release_file` rebuilds the box.
            let raw = KBox::into_raw(unsafe { Pin::into_inner_unchecked(f) });
            // SAFETY: the file being opened is ours to set up.
            unsafe { (*file).private_data = raw.cast() };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// `release`: the file lets go of its pages; those a VMA maps live on with it.
///
/// # Safety
///
/// Called by the VFS with a file `open` set up, once.
unsafe extern "C" fn release_file(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: `open` put a pinned `KBox<AllocFile>` there; this is the last use of it.
    let f = unsafe { KBox::from_raw((*file).private_data.cast::<AllocFile>()) };
    let grefs = core::mem::take(&mut f.state.lock().grefs);
    drop(grefs);
    drop(f);
    0
}

/// `unlocked_ioctl`.
///
/// # Safety
///
/// Called by the VFS with a file `open` set up.
unsafe extern "C" fn ioctl(file: *mut bindings::file, cmd: c_uint, arg: c_ulong) -> c_long {
    // SAFETY: `open` put an `AllocFile` there, alive until `release_file`.
    let f = unsafe { &*(*file).private_data.cast::<AllocFile>() };
    let arg = arg as u64;
    let r = match Cmd::from_number(cmd) {
        Some(Cmd::AllocGref) => alloc_gref(f, arg),
        Some(Cmd::DeallocGref) => dealloc_gref(f, arg),
        Some(Cmd::SetUnmapNotify) => set_unmap_notify(f, arg),
        None => Err(ENOTTY),
    };
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno() as c_long,
    }
}

/// `IOCTL_GNTALLOC_ALLOC_GREF`: `count` zeroed pages granted to `domid`, at the file's
/// next offset; their grant references are written back after the header.
fn alloc_gref(f: &AllocFile, arg: u64) -> Result {
    let mut op: abi::AllocGref = read(arg)?;
    if op.count > crate::limit() {
        return Err(err(abi::ENOSPC));
    }
    let count = op.count as usize;
    // The references to write back: on the stack for a few pages (the common case, one
    // page at a time), else allocated.
    let (mut few, mut many) = ([0u32; IDS_ON_STACK], KVec::<u32>::new());
    let ids: &mut [u32] = if count <= IDS_ON_STACK {
        &mut few[..count]
    } else {
        many.resize(count, 0, GFP_KERNEL)?;
        &mut many[..]
    };
    reserve(op.count)?;
    let writable = op.flags & abi::FLAG_WRITABLE != 0;
    let index = {
        // The pages go into the file's list as they are made: the lock is held across
        // allocations (no user memory), so that a failure can take them out again.
        let mut s = f.state.lock();
        let index = s.next_index;
        s.next_index += u64::from(op.count) * PAGE_SIZE as u64;
        if let Err(e) = s.grefs.reserve(count, GFP_KERNEL) {
            release(op.count);
            return Err(e.into());
        }
        for (i, id) in ids.iter_mut().enumerate() {
            let r = Grant::new(DomId::new(op.domid), writable).and_then(|grant| {
                Ok(Arc::new(
                    Gref {
                        index: index + (i * PAGE_SIZE) as u64,
                        grant,
                        notify: UnsafeCell::new(Notify::default()),
                    },
                    GFP_KERNEL,
                )?)
            });
            match r {
                Ok(g) => {
                    *id = g.grant.gref().as_u32();
                    // Within the capacity reserved above: this cannot fail.
                    s.grefs.push(g, GFP_KERNEL)?;
                }
                Err(e) => {
                    // Those made so far give their units back as they drop.
                    release((count - i) as u32);
                    let keep = s.grefs.len() - i;
                    s.grefs.truncate(keep);
                    return Err(e);
                }
            }
        }
        index
    };
    // Written back with the file unlocked; on a fault the pages stay allocated, as in C
    // (the caller can only close the file to free them).
    op.index = index;
    let mut w = UserSlice::new(
        UserPtr::from_addr(arg as usize),
        abi::ALLOC_GREF_IDS as usize + count * size_of::<u32>(),
    )
    .writer();
    w.write(&op)?;
    w.write_slice(AsBytes::as_bytes(&*ids))
}

/// How many grant references ALLOC_GREF collects on the stack.
const IDS_ON_STACK: usize = 16;

/// Where in a file's pages `count` pages from offset `index` are, one after the other.
fn find_run(grefs: &[Arc<Gref>], index: u64, count: u32) -> Option<usize> {
    abi::find_run_by(
        grefs.len(),
        |i| grefs[i].index,
        index,
        count,
        PAGE_SIZE as u64,
    )
}

/// `IOCTL_GNTALLOC_DEALLOC_GREF`: the file lets go of `count` pages from `index`
/// (`EINVAL` unless it has them all, one after the other); a VMA that maps them keeps
/// them until it goes.
fn dealloc_gref(f: &AllocFile, arg: u64) -> Result {
    let op: abi::DeallocGref = read(arg)?;
    let mut s = f.state.lock();
    let pos = find_run(&s.grefs, op.index, op.count).ok_or(err(abi::EINVAL))?;
    for _ in 0..op.count {
        // Dropped here, under the file's lock: a page's end touches no user memory.
        drop(s.grefs.remove(pos).map_err(|_| EINVAL)?);
    }
    Ok(())
}

/// `IOCTL_GNTALLOC_SET_UNMAP_NOTIFY`: what to do when the page holding the byte at
/// `index` goes: clear that byte, signal an event channel, or both.
fn set_unmap_notify(f: &AllocFile, arg: u64) -> Result {
    let op: abi::UnmapNotify = read(arg)?;
    let page = op.index & !(PAGE_SIZE as u64 - 1);
    let old = {
        let s = f.state.lock();
        // C's order: the page first (ENOENT), then the action (EINVAL).
        let g = s
            .grefs
            .iter()
            .find(|g| g.index == page)
            .ok_or(err(abi::ENOENT))?;
        abi::check_notify_action(op.action).map_err(err)?;
        let event = if op.action & abi::UNMAP_NOTIFY_SEND_EVENT != 0 {
            Some(PortRef::get(op.event_channel_port)?)
        } else {
            None
        };
        // SAFETY: the file's lock is held and `g` is on its list (`Gref`'s invariant).
        let n = unsafe { &mut *g.notify.get() };
        n.flags = op.action;
        n.pgoff = (op.index - page) as usize;
        core::mem::replace(&mut n.event, event)
    };
    drop(old);
    Ok(())
}

/// The VMA operations of a mapping of this device.
static VM_OPS: bindings::vm_operations_struct = bindings::vm_operations_struct {
    open: Some(xen::vma::arc_open::<VmaGrefs>),
    close: Some(xen::vma::arc_close::<VmaGrefs>),
    ..pin_init::zeroed()
};

/// `mmap`: the file's pages from the VMA's offset, as many as the VMA has. `EINVAL`
/// unless shared, `ENOENT` unless the file has them all.
///
/// # Safety
///
/// Called by the VFS with a VMA being set up.
unsafe extern "C" fn mmap(file: *mut bindings::file, vma: *mut bindings::vm_area_struct) -> c_int {
    // SAFETY: `open` put an `AllocFile` there, alive while the file is.
    let f = unsafe { &*(*file).private_data.cast::<AllocFile>() };
    // SAFETY: the VMA is being set up: ours to read and change, not shared yet.
    let v = unsafe { kernel::mm::virt::VmaRef::from_raw(vma) };
    if v.flags() & bindings::VM_SHARED == 0 {
        return EINVAL.to_errno();
    }
    let (start, count) = (v.start(), (v.end() - v.start()) >> PAGE_SHIFT);
    // SAFETY: as above (`VmaRef` has no `vm_pgoff`).
    let index = (unsafe { (*vma).vm_pgoff } as u64) << PAGE_SHIFT;
    let grefs = (|| -> Result<Arc<VmaGrefs>> {
        let s = f.state.lock();
        let pos = find_run(&s.grefs, index, count as u32).ok_or(err(abi::ENOENT))?;
        let mut v = KVec::with_capacity(count, GFP_KERNEL)?;
        for g in &s.grefs[pos..pos + count] {
            v.push(g.clone(), GFP_KERNEL)?;
        }
        Ok(Arc::new(VmaGrefs(v), GFP_KERNEL)?)
    })();
    let grefs = match grefs {
        Ok(g) => g,
        Err(e) => return e.to_errno(),
    };
    // SAFETY: as above. MIXEDMAP before inserting (the pages are the kernel's).
    unsafe {
        (*vma).__bindgen_anon_2.vm_flags |=
            bindings::VM_DONTEXPAND | bindings::VM_DONTDUMP | bindings::VM_MIXEDMAP;
    }
    for (i, g) in grefs.0.iter().enumerate() {
        // SAFETY: the VMA being set up, an address inside it, a page this mapping keeps
        // alive (the VMA's references).
        let r = unsafe {
            bindings::vm_insert_page(vma, (start + i * PAGE_SIZE) as c_ulong, g.grant.page())
        };
        if r != 0 {
            return r;
        }
    }
    // SAFETY: as above; the operations are `xen::vma`'s for a `VmaGrefs`.
    unsafe {
        (*vma).vm_ops = &VM_OPS;
        xen::vma::set_arc(vma, grefs);
    }
    0
}
