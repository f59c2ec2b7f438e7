// SPDX-License-Identifier: GPL-2.0

//! The kernel's virtual memory layout and vmalloc page-table walk.
//!
//! C header: [`include/linux/vmalloc.h`](srctree/include/linux/vmalloc.h).

use kernel::ffi::c_ulong;
use kernel::page::PAGE_SHIFT;
use kernel::prelude::*;

use super::super::addr::{
    Pfn,      //
    PhysAddr, //
};
use super::super::virt::{
    self as pure, //
    PageTables,   //
    VirtError,    //
    VirtLayout,   //
};
use super::ffi;

/// Page shift of the running kernel.
pub const SHIFT: u32 = PAGE_SHIFT as u32;

/// The running kernel's layout: linear map `[PAGE_OFFSET, high_memory)`, vmalloc space
/// `[VMALLOC_START, VMALLOC_END)`.
pub fn layout() -> VirtLayout {
    let mut raw = ffi::VirtLayoutRaw::default();
    // SAFETY: `raw` is a valid out-parameter of the right layout.
    unsafe { ffi::xrs_virt_layout(&mut raw) };
    VirtLayout {
        linear_start: raw.linear_start,
        linear_end: raw.linear_end,
        phys_offset: raw.phys_offset,
        vmalloc_start: raw.vmalloc_start,
        vmalloc_end: raw.vmalloc_end,
    }
}

/// The kernel page tables (`vmalloc_to_page`).
#[derive(Clone, Copy, Debug, Default)]
pub struct KernelPageTables;

impl PageTables<SHIFT> for KernelPageTables {
    fn vmalloc_to_pfn(&self, virt: usize) -> Option<Pfn<SHIFT>> {
        let mut pfn: c_ulong = 0;
        // SAFETY: `vmalloc_to_page` walks the kernel page tables for any address in vmalloc
        // space and returns NULL where nothing is mapped; `pfn` is a valid out-pointer.
        let found = unsafe { ffi::xrs_vmalloc_to_pfn(virt as *const _, &mut pfn) };
        found.then(|| Pfn::new(pfn as u64))
    }
}

/// The physical address behind `ptr`, a linear-map or vmalloc-space kernel address.
pub fn virt_to_phys<T>(ptr: *const T) -> Result<PhysAddr, VirtError> {
    pure::virt_to_phys(&layout(), &KernelPageTables, ptr as usize)
}

/// The page frame behind `ptr`: `virt_to_page` that also works for vmalloc addresses.
pub fn virt_to_pfn<T>(ptr: *const T) -> Result<Pfn<SHIFT>, VirtError> {
    pure::virt_to_pfn(&layout(), &KernelPageTables, ptr as usize)
}

// Built into xen_dma_test.ko only, not into every module that carries the core.
#[cfg(xrs_dma_tests)]
#[kunit_tests(xen_dma_virt)]
mod tests {
    use super::super::super::addr::PhysAddr;
    use super::super::super::virt::{
        VirtError, //
        VirtKind,  //
    };
    use super::super::ffi;
    use super::{
        layout,       //
        virt_to_pfn,  //
        virt_to_phys, //
        SHIFT,        //
    };
    use kernel::page::{
        Page,      //
        PAGE_SIZE, //
    };
    use kernel::prelude::*;

    static IN_MODULE: u64 = 0x5a5a;

    fn kernel_vmalloc_pfn(p: *const u8) -> Option<u64> {
        let mut pfn = 0;
        // SAFETY: see `KernelPageTables`.
        unsafe { ffi::xrs_vmalloc_to_pfn(p.cast(), &mut pfn) }.then_some(pfn as u64)
    }

    #[test]
    fn layout_agrees_with_the_kernel() -> Result {
        let l = layout();
        let buf = KBox::new([0u8; 32], GFP_KERNEL)?;
        let v = VVec::<u8>::with_capacity(PAGE_SIZE, GFP_KERNEL)?;
        assert_eq!(l.classify(buf.as_ptr() as usize), Some(VirtKind::Linear));
        assert_eq!(l.classify(v.as_ptr() as usize), Some(VirtKind::Vmalloc));
        // SAFETY: queries on the address only.
        unsafe {
            assert!(ffi::xrs_kernel_virt_addr_valid(buf.as_ptr().cast()));
            assert!(!ffi::xrs_kernel_is_vmalloc_addr(buf.as_ptr().cast()));
            assert!(ffi::xrs_kernel_is_vmalloc_addr(v.as_ptr().cast()));
            assert!(!ffi::xrs_kernel_virt_addr_valid(v.as_ptr().cast()));
        }
        Ok(())
    }

    #[test]
    fn kmalloc_resolves_like_virt_to_phys() -> Result {
        let buf = KBox::new([0u8; 256], GFP_KERNEL)?;
        for off in [0usize, 1, 100, 255] {
            let p = buf.as_ptr().wrapping_add(off);
            // SAFETY: linear-map address of a live allocation.
            let kernel = unsafe { ffi::xrs_kernel_virt_to_phys(p.cast()) };
            assert_eq!(virt_to_phys(p), Ok(PhysAddr::new(kernel)));
        }
        Ok(())
    }

    #[test]
    fn vmalloc_resolves_to_vmalloc_to_page() -> Result {
        let pages = 5;
        let v = VVec::<u8>::with_capacity(pages * PAGE_SIZE, GFP_KERNEL)?;
        for i in 0..pages {
            let p = v.as_ptr().wrapping_add(i * PAGE_SIZE + 17);
            let pfn = kernel_vmalloc_pfn(p).ok_or(EINVAL)?;
            assert_eq!(virt_to_pfn(p).map(|f| f.as_u64()), Ok(pfn));
            let want = (pfn << SHIFT) | 17;
            assert_eq!(virt_to_phys(p), Ok(PhysAddr::new(want)));
        }
        Ok(())
    }

    #[test]
    fn virt_to_page_is_wrong_for_vmalloc() -> Result {
        // The seed bug: virt_to_page() on a vmalloc'ed buffer names some unrelated page.
        let v = VVec::<u8>::with_capacity(2 * PAGE_SIZE, GFP_KERNEL)?;
        let p = v.as_ptr();
        // SAFETY: arithmetic on the address only; the result is never dereferenced.
        let naive = unsafe { ffi::xrs_kernel_virt_to_page_pfn(p.cast()) } as u64;
        let real = virt_to_pfn(p).map(|f| f.as_u64());
        assert!(real.is_ok());
        assert_eq!(real, Ok(kernel_vmalloc_pfn(p).ok_or(EINVAL)?));
        assert!(real != Ok(naive));
        Ok(())
    }

    #[test]
    fn vmap_of_pages_resolves_to_each_page() -> Result {
        let a = Page::alloc_page(GFP_KERNEL)?;
        let b = Page::alloc_page(GFP_KERNEL)?;
        let mut list = [a.as_ptr(), b.as_ptr()];
        // SAFETY: two live pages; `vmap` maps them contiguously in vmalloc space.
        let va = unsafe { ffi::xrs_vmap(list.as_mut_ptr(), 2) };
        if va.is_null() {
            return Err(ENOMEM);
        }
        let base = va.cast::<u8>();
        // SAFETY: live pages.
        let (pa, pb) = unsafe {
            (
                ffi::xrs_page_to_phys(a.as_ptr()),
                ffi::xrs_page_to_phys(b.as_ptr()),
            )
        };
        let r0 = virt_to_phys(base.wrapping_add(8));
        let r1 = virt_to_phys(base.wrapping_add(PAGE_SIZE + 8));
        // SAFETY: `va` came from `vmap` above.
        unsafe { ffi::xrs_vunmap(va) };
        assert_eq!(r0, Ok(PhysAddr::new(pa + 8)));
        assert_eq!(r1, Ok(PhysAddr::new(pb + 8)));
        Ok(())
    }

    #[test]
    fn unmapped_vmalloc_guard_is_not_mapped() -> Result {
        // vmalloc leaves an unmapped guard page after each area.
        let v = VVec::<u8>::with_capacity(PAGE_SIZE, GFP_KERNEL)?;
        let guard = v.as_ptr().wrapping_add(PAGE_SIZE);
        assert_eq!(layout().classify(guard as usize), Some(VirtKind::Vmalloc));
        assert_eq!(virt_to_phys(guard), Err(VirtError::NotMapped));
        Ok(())
    }

    #[test]
    fn module_static_is_rejected() {
        // Module data lives outside both the linear map and vmalloc space on arm64.
        let p: *const u64 = &IN_MODULE;
        assert_eq!(virt_to_phys(p), Err(VirtError::Unsupported));
    }

    #[test]
    fn user_null_and_vmemmap_are_rejected() -> Result {
        assert_eq!(
            virt_to_phys(core::ptr::null::<u8>()),
            Err(VirtError::Unsupported)
        );
        assert_eq!(
            virt_to_phys(0x40_0000 as *const u8),
            Err(VirtError::Unsupported)
        );
        // A `struct page` lives in vmemmap: neither linear nor vmalloc.
        let page = Page::alloc_page(GFP_KERNEL)?;
        assert_eq!(virt_to_phys(page.as_ptr()), Err(VirtError::Unsupported));
        Ok(())
    }
}
