// SPDX-License-Identifier: GPL-2.0

//! xenfs in Rust: the filesystem Xen's toolstack mounts at `/proc/xen`
//! (drivers/xen/xenfs/super.c, xenstored.c).
//!
//! Files: `xenbus` (the kernel's xenbus device, `xen_xenbus_fops`), `capabilities`
//! (`control_d` in the initial domain), `privcmd` (the Rust privcmd's file operations,
//! from its crate), and in the initial domain `xsd_kva` (the xenstore ring page, to map)
//! and `xsd_port` (its event channel), which C xenstored needs to start.
//!
//! The kernel has no `XEN_COMPAT_XENFS` here, so nothing else creates `/proc/xen`: the
//! module creates it as a mount point, and removes it when unloaded.

use core::cell::UnsafeCell;
use core::ptr;

use kernel::bindings;
use kernel::ffi::{
    c_char,  //
    c_int,   //
    c_ulong, //
    c_void,  //
};
use kernel::prelude::*;
use xen::bindings as xb;
use xen::misc::StaticFops;

module! {
    type: XenFs,
    name: "xen_xenfs_rs",
    authors: ["The Rust Xen stack developers"],
    description: "Xen filesystem (xenfs), in Rust",
    license: "GPL",
    alias: ["fs-xenfs"],
}

/// `XENFS_SUPER_MAGIC` (include/uapi/linux/magic.h).
const XENFS_SUPER_MAGIC: c_ulong = 0xabba_1974;

/// The filesystem type, which the VFS links into its list: a static (its lockdep keys
/// must be), written by the kernel once registered.
struct FsType(UnsafeCell<bindings::file_system_type>);

// SAFETY: the kernel serialises its writes to a registered type (`file_systems_lock`);
// this module only passes its address.
unsafe impl Sync for FsType {}

static FS_TYPE: FsType = FsType(UnsafeCell::new(bindings::file_system_type {
    owner: kernel::module::this_module::<XenFs>().as_ptr(),
    name: kernel::str::as_char_ptr_in_const_context(c"xenfs"),
    init_fs_context: Some(init_fs_context),
    kill_sb: Some(bindings::kill_anon_super),
    ..pin_init::zeroed()
}));

/// `fs_context_operations` of a mount.
static CONTEXT_OPS: xb::fs_context_operations = xb::fs_context_operations {
    get_tree: Some(get_tree),
    ..pin_init::zeroed()
};

/// `init_fs_context`.
///
/// # Safety
///
/// Called by the VFS with a context being set up for this type.
unsafe extern "C" fn init_fs_context(fc: *mut bindings::fs_context) -> c_int {
    // SAFETY: the context being set up; `bindings::fs_context` is opaque in the kernel's
    // bindings, the core's has its fields.
    unsafe { (*fc.cast::<xb::fs_context>()).ops = &CONTEXT_OPS };
    0
}

/// `get_tree`: one superblock for every mount, as C's.
///
/// # Safety
///
/// Called by the VFS with a context of this type.
unsafe extern "C" fn get_tree(fc: *mut xb::fs_context) -> c_int {
    // SAFETY: per this function's requirements.
    unsafe { xb::get_tree_single(fc, Some(fill_super)) }
}

/// An entry of `simple_fill_super()`'s table.
fn file(
    name: &'static CStr,
    ops: *const bindings::file_operations,
    mode: u32,
) -> bindings::tree_descr {
    bindings::tree_descr {
        name: kernel::str::as_char_ptr_in_const_context(name),
        ops,
        mode: mode as c_int,
    }
}

/// `fill_super`: the files, by `simple_fill_super()`, whose table starts at index 2 (the
/// inode numbers of `.` and `..`).
///
/// # Safety
///
/// Called by `get_tree_single()` with a superblock being set up.
unsafe extern "C" fn fill_super(sb: *mut bindings::super_block, _fc: *mut xb::fs_context) -> c_int {
    let (rw, r) = (bindings::S_IRUSR | bindings::S_IWUSR, bindings::S_IRUGO);
    let none = bindings::tree_descr {
        name: ptr::null(),
        ops: ptr::null(),
        mode: 0,
    };
    let end = file(c"", ptr::null(), 0);
    let mut files = [
        none,
        none,
        // The address of the xenbus device's operations, a static of the kernel.
        file(c"xenbus", &raw const xb::xen_xenbus_fops, rw),
        file(c"capabilities", CAPABILITIES.get(), r),
        file(c"privcmd", xen_privcmd::privcmd::fops(), rw),
        end,
        end,
        end,
    ];
    if xen::domain::xen_initial_domain() {
        files[5] = file(c"xsd_kva", XSD_KVA.get(), rw);
        files[6] = file(c"xsd_port", XSD_PORT.get(), rw);
    }
    // SAFETY: a superblock being set up; the table ends with an empty name, and its names
    // and operations are statics.
    unsafe { bindings::simple_fill_super(sb, XENFS_SUPER_MAGIC, files.as_ptr()) }
}

static CAPABILITIES: StaticFops = StaticFops(bindings::file_operations {
    owner: kernel::module::this_module::<XenFs>().as_ptr(),
    read: Some(capabilities_read),
    llseek: Some(bindings::default_llseek),
    ..pin_init::zeroed()
});

/// `read` of `capabilities`.
///
/// # Safety
///
/// Called by the VFS with a user buffer of `size` bytes and the file position.
unsafe extern "C" fn capabilities_read(
    _file: *mut bindings::file,
    buf: *mut c_char,
    size: usize,
    off: *mut bindings::loff_t,
) -> isize {
    let s: &[u8] = if xen::domain::xen_initial_domain() {
        b"control_d\n"
    } else {
        b""
    };
    // SAFETY: per this function's requirements; `s` is `s.len()` bytes.
    unsafe { bindings::simple_read_from_buffer(buf.cast(), size, off, s.as_ptr().cast(), s.len()) }
}

static XSD_KVA: StaticFops = StaticFops(bindings::file_operations {
    owner: kernel::module::this_module::<XenFs>().as_ptr(),
    open: Some(xsd_kva_open),
    mmap: Some(xsd_kva_mmap),
    read: Some(xsd_read),
    release: Some(xsd_release),
    ..pin_init::zeroed()
});

static XSD_PORT: StaticFops = StaticFops(bindings::file_operations {
    owner: kernel::module::this_module::<XenFs>().as_ptr(),
    open: Some(xsd_port_open),
    read: Some(xsd_read),
    release: Some(xsd_release),
    ..pin_init::zeroed()
});

/// Gives `file` the text its reads return, formatted by `snprintf` (`%p` hashes the
/// pointer as in C).
///
/// # Safety
///
/// `file` is being opened; `fmt` formats `arg` with one conversion.
unsafe fn set_text(file: *mut bindings::file, fmt: &CStr, arg: *const c_void, int: c_int) -> c_int {
    let mut buf = match KVec::<u8>::from_elem(0, 32, GFP_KERNEL) {
        Ok(b) => b,
        Err(_) => return ENOMEM.to_errno(),
    };
    // SAFETY: `buf` holds 32 bytes; `fmt` takes a pointer or an int, both passed (the
    // unused one is ignored by the conversion).
    unsafe {
        if arg.is_null() {
            bindings::snprintf(buf.as_mut_ptr().cast(), buf.len(), fmt.as_char_ptr(), int)
        } else {
            bindings::snprintf(buf.as_mut_ptr().cast(), buf.len(), fmt.as_char_ptr(), arg)
        }
    };
    match KBox::new(buf, GFP_KERNEL) {
        Ok(b) => {
            // SAFETY: the file being opened; `xsd_release` takes the box back.
            unsafe { (*file).private_data = KBox::into_raw(b).cast() };
            0
        }
        Err(_) => ENOMEM.to_errno(),
    }
}

/// `open` of `xsd_kva`: its text is the ring's kernel address, hashed (`0x%p`), as C's.
///
/// # Safety
///
/// Called by the VFS with a file being opened.
unsafe extern "C" fn xsd_kva_open(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: the xenstore ring's address, set once xenbus initialised (before any module).
    let kva = unsafe { xb::xen_store_interface }
        .cast::<c_void>()
        .cast_const();
    // SAFETY: per this function's requirements; a non-null pointer for `%p`.
    unsafe {
        set_text(
            file,
            c"0x%p",
            if kva.is_null() { ptr::dangling() } else { kva },
            0,
        )
    }
}

/// `open` of `xsd_port`: its text is the store's event channel (`%d`).
///
/// # Safety
///
/// Called by the VFS with a file being opened.
unsafe extern "C" fn xsd_port_open(
    _inode: *mut bindings::inode,
    file: *mut bindings::file,
) -> c_int {
    // SAFETY: set once xenbus initialised, before any module.
    let port = unsafe { xb::xen_store_evtchn };
    // SAFETY: per this function's requirements; an int for `%d`.
    unsafe { set_text(file, c"%d", ptr::null(), port) }
}

/// `read` of `xsd_kva` and `xsd_port`.
///
/// # Safety
///
/// Called by the VFS with a file one of the `open`s above set up.
unsafe extern "C" fn xsd_read(
    file: *mut bindings::file,
    buf: *mut c_char,
    size: usize,
    off: *mut bindings::loff_t,
) -> isize {
    // SAFETY: the open put a `KVec<u8>` there, NUL-terminated by `snprintf`.
    let text = unsafe { &*(*file).private_data.cast::<KVec<u8>>() };
    let len = text.iter().position(|&c| c == 0).unwrap_or(text.len());
    // SAFETY: per this function's requirements; `text` holds `len` bytes.
    unsafe { bindings::simple_read_from_buffer(buf.cast(), size, off, text.as_ptr().cast(), len) }
}

/// `release` of `xsd_kva` and `xsd_port`.
///
/// # Safety
///
/// Called by the VFS with a file one of the `open`s above set up, once.
unsafe extern "C" fn xsd_release(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
    // SAFETY: the open put a `KBox<KVec<u8>>` there; this is the file's last use.
    drop(unsafe { KBox::from_raw((*file).private_data.cast::<KVec<u8>>()) });
    0
}

/// `mmap` of `xsd_kva`: the xenstore ring page, one page at offset 0 (`EINVAL`
/// otherwise), as C's.
///
/// # Safety
///
/// Called by the VFS with a VMA being set up.
unsafe extern "C" fn xsd_kva_mmap(
    _file: *mut bindings::file,
    vma: *mut bindings::vm_area_struct,
) -> c_int {
    // SAFETY: the VMA is being set up.
    let v = unsafe { kernel::mm::virt::VmaRef::from_raw(vma) };
    let size = v.end() - v.start();
    // SAFETY: as above.
    let pgoff = unsafe { (*vma).vm_pgoff };
    if size > kernel::page::PAGE_SIZE || pgoff != 0 {
        return EINVAL.to_errno();
    }
    // SAFETY: the ring page's kernel address, set once xenbus initialised.
    let ring = unsafe { xb::xen_store_interface }.cast::<u8>().cast_const();
    let pfn = match xen::dma::glue::virt::virt_to_phys(ring) {
        Ok(pa) => (pa.as_u64() >> kernel::page::PAGE_SHIFT) as c_ulong,
        Err(_) => return EINVAL.to_errno(),
    };
    // SAFETY: the VMA is being set up; it maps the one page of the ring.
    let rc = unsafe {
        bindings::remap_pfn_range(
            vma,
            v.start() as c_ulong,
            pfn,
            size as c_ulong,
            (*vma).vm_page_prot,
        )
    };
    if rc != 0 {
        EAGAIN.to_errno()
    } else {
        0
    }
}

/// The module: the filesystem type, and `/proc/xen`.
pub struct XenFs {
    mount_point: *mut c_void,
}

// SAFETY: the proc entry is only removed, from module exit.
unsafe impl Send for XenFs {}
// SAFETY: shared access does nothing.
unsafe impl Sync for XenFs {}

impl kernel::Module for XenFs {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        if !xen::domain::xen_domain() {
            return Err(ENODEV);
        }
        // SAFETY: a name of static storage.
        let mount_point = unsafe { xb::proc_create_mount_point(c"xen".as_char_ptr()) };
        if mount_point.is_null() {
            pr_err!("cannot create /proc/xen\n");
            return Err(ENOMEM);
        }
        // SAFETY: the static type, registered once, unregistered in `drop`.
        let ret = unsafe { bindings::register_filesystem(FS_TYPE.0.get()) };
        if let Err(e) = kernel::error::to_result(ret) {
            // SAFETY: the entry just created.
            unsafe { xb::remove_proc_entry(c"xen".as_char_ptr(), ptr::null_mut()) };
            return Err(e);
        }
        Ok(Self {
            mount_point: mount_point.cast(),
        })
    }
}

impl Drop for XenFs {
    fn drop(&mut self) {
        // SAFETY: registered in `init`; no mount is left (each holds a module reference
        // through the type's `owner`).
        unsafe { bindings::unregister_filesystem(FS_TYPE.0.get()) };
        let _ = self.mount_point;
        // SAFETY: created in `init`.
        unsafe { xb::remove_proc_entry(c"xen".as_char_ptr(), ptr::null_mut()) };
    }
}
