// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `xen_dma_virt`: kernel virtual addresses to physical ones (linear map,
//! vmalloc, the kernel image, a module's data, tagged pointers), against the kernel's own
//! answers.

use kernel::prelude::*;

#[kunit_tests(xen_dma_virt)]
mod tests {
    use crate::ffi;
    use ::xen::dma::addr::PhysAddr;
    use ::xen::dma::glue::virt::{
        layout,       //
        virt_to_pfn,  //
        virt_to_phys, //
        SHIFT,        //
    };
    use ::xen::dma::virt::{
        VirtError, //
        VirtKind,  //
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
        unsafe { ffi::xrs_kernel_vmalloc_to_pfn(p.cast(), &mut pfn) }.then_some(pfn as u64)
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
    fn phys_to_linear_agrees_with_phys_to_virt() -> Result {
        let l = layout();
        let buf = KBox::new([0u8; 256], GFP_KERNEL)?;
        for off in [0usize, 1, 255] {
            let va = l.untag(buf.as_ptr().wrapping_add(off) as usize);
            // SAFETY: linear-map address of a live allocation.
            let phys = PhysAddr::new(unsafe { ffi::xrs_kernel_virt_to_phys(va as *const _) });
            // SAFETY: arithmetic on the linear map for RAM of a live allocation.
            let kernel = unsafe { ffi::xrs_kernel_phys_to_virt(phys.as_u64()) } as usize;
            assert_eq!(kernel, va);
            assert_eq!(l.phys_to_linear(phys), Some(kernel));
        }
        // The linear map's RAM ends at `high_memory`: the next byte is not there.
        let last = l.linear_to_phys(l.linear_end - 1).ok_or(EINVAL)?;
        assert_eq!(l.phys_to_linear(PhysAddr::new(last.as_u64() + 1)), None);
        assert_eq!(l.phys_to_linear(last), Some(l.linear_end - 1));
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
        let (pa, pb) = unsafe { (ffi::page_to_phys(a.as_ptr()), ffi::page_to_phys(b.as_ptr())) };
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
    fn kernel_image_is_resolved_through_the_page_tables() {
        // On arm64 the kernel image lies inside vmalloc space (KIMAGE_VADDR is
        // VMALLOC_START, and KASLR moves it further in): the walk must find the page that
        // the image's own arithmetic (__pa_symbol) names.
        let mut phys = 0;
        // SAFETY: an address and its physical address, nothing dereferenced.
        let p = unsafe { ffi::xrs_kernel_image_sample(&mut phys) };
        // SAFETY: a query on the address only.
        assert!(unsafe { ffi::xrs_kernel_is_vmalloc_addr(p) });
        assert_eq!(layout().classify(p as usize), Some(VirtKind::Vmalloc));
        assert_eq!(virt_to_phys(p), Ok(PhysAddr::new(phys)));
    }

    #[test]
    fn module_static_is_resolved_or_rejected_as_placed() -> Result {
        // Modules load below vmalloc space, or inside it (with KASLR, or when the module
        // region is full). Inside, the walk must find the page that holds the value;
        // below, the address is not one of ours to translate.
        let p: *const u64 = &IN_MODULE;
        // SAFETY: a query on the address only.
        let inside = unsafe { ffi::xrs_kernel_is_vmalloc_addr(p.cast()) };
        let r = virt_to_phys(p);
        kernel::kunit::info(format_args!(
            "    # module static at {:p}: {} vmalloc space\n",
            p,
            if inside { "inside" } else { "outside" }
        ));
        if !inside {
            assert_eq!(r, Err(VirtError::Unsupported));
            return Ok(());
        }
        let phys = r.map_err(|_| EINVAL)?;
        // SAFETY: `phys` is the page of a live module static; its linear alias is mapped
        // and only read.
        let seen = unsafe {
            ffi::xrs_kernel_phys_to_virt(phys.as_u64())
                .cast::<u64>()
                .read()
        };
        assert_eq!(seen, IN_MODULE);
        Ok(())
    }

    #[test]
    fn tagged_pointers_translate_as_untagged() -> Result {
        // What tag-based KASAN and MTE hand out: a tag in the top byte, which the kernel
        // resets before any translation.
        let tag = |p: usize, t: usize| (p & !(0xff << 56)) | (t << 56);
        let buf = KBox::new([0u8; 64], GFP_KERNEL)?;
        let v = VVec::<u8>::with_capacity(PAGE_SIZE, GFP_KERNEL)?;
        // SAFETY: linear-map address of a live allocation.
        let lin = unsafe { ffi::xrs_kernel_virt_to_phys(buf.as_ptr().cast()) };
        let vpfn = kernel_vmalloc_pfn(v.as_ptr()).ok_or(EINVAL)?;
        for t in [0xf0usize, 0xf4, 0xfe, 0x01] {
            let tb = tag(buf.as_ptr() as usize, t) as *const u8;
            let tv = tag(v.as_ptr() as usize, t) as *const u8;
            assert_eq!(layout().classify(tb as usize), Some(VirtKind::Linear));
            assert_eq!(virt_to_phys(tb), Ok(PhysAddr::new(lin)));
            assert_eq!(virt_to_pfn(tv).map(|f| f.as_u64()), Ok(vpfn));
        }
        Ok(())
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
