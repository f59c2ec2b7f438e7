// SPDX-License-Identifier: GPL-2.0

//! Virtual to physical for linear-map and vmalloc addresses, tagged or not.

use std::collections::BTreeMap;

use proptest::prelude::*;
use xen_dma::addr::{Pfn, PhysAddr};
use xen_dma::virt::{self, PageTables, VirtError, VirtKind, VirtLayout};

/// arm64 with 48-bit VAs: the module region `[MODULES_VADDR, MODULES_END)` is the 2 GiB
/// just below `KIMAGE_VADDR`, which is also `VMALLOC_START`.
const MODULES_VADDR: usize = 0xffff_8000_0000_0000;
const KIMAGE_VADDR: usize = 0xffff_8000_8000_0000;

/// arm64 with 48-bit VAs: linear map at 0xffff_0000_0000_0000 for 2 GiB of RAM at
/// physical 0x4000_0000 (QEMU virt), vmalloc space above the modules, from the kernel
/// image on.
const LAYOUT: VirtLayout = VirtLayout {
    linear_start: 0xffff_0000_0000_0000,
    linear_end: 0xffff_0000_8000_0000,
    phys_offset: 0x4000_0000,
    vmalloc_start: KIMAGE_VADDR,
    vmalloc_end: 0xffff_fbff_bfff_0000,
    tbi: true,
};

/// The same layout for a kernel that does not ignore the top byte.
const NO_TBI: VirtLayout = VirtLayout {
    tbi: false,
    ..LAYOUT
};

/// vmalloc mappings: virtual page number to pfn.
struct Walk<const S: u32>(BTreeMap<usize, u64>);

impl<const S: u32> PageTables<S> for Walk<S> {
    fn vmalloc_to_pfn(&self, virt: usize) -> Option<Pfn<S>> {
        // Every vmalloc-space address is a kernel address: the walk must never see a tag.
        assert_eq!(virt >> 56, 0xff, "walk given a tagged address {virt:#x}");
        self.0.get(&(virt >> S)).map(|&p| Pfn::new(p))
    }
}

/// `va` with its top byte replaced by `tag`.
fn tagged(va: usize, tag: u8) -> usize {
    (va & 0x00ff_ffff_ffff_ffff) | (usize::from(tag) << 56)
}

/// The model of untagging: a kernel address (bit 55 set) gets the top byte 0xff, a user
/// address (bit 55 clear) the top byte 0.
fn model_untag(va: usize) -> usize {
    if va & (1 << 55) != 0 {
        va | 0xff00_0000_0000_0000
    } else {
        va & 0x00ff_ffff_ffff_ffff
    }
}

/// The model of classification and linear translation for `l`: plain range checks on the
/// (model-)untagged address. `Ok(Some(phys))` for linear, `Ok(None)` for vmalloc space.
fn model(l: &VirtLayout, va: usize) -> Result<Option<u64>, VirtError> {
    let u = if l.tbi { model_untag(va) } else { va };
    if l.linear_start <= u && u < l.linear_end {
        let off = (u - l.linear_start) as u64;
        Ok(Some(l.phys_offset.wrapping_add(off)))
    } else if l.vmalloc_start <= u && u < l.vmalloc_end {
        Ok(None)
    } else {
        Err(VirtError::Unsupported)
    }
}

#[test]
fn classification() {
    assert_eq!(
        LAYOUT.classify(0xffff_0000_0000_1000),
        Some(VirtKind::Linear)
    );
    assert_eq!(LAYOUT.classify(0xffff_0000_8000_0000), None);
    assert_eq!(
        LAYOUT.classify(0xffff_8000_8000_0000),
        Some(VirtKind::Vmalloc)
    );
    assert_eq!(LAYOUT.classify(0x1000), None);
    assert_eq!(LAYOUT.classify(0), None);
}

#[test]
fn vmalloc_buffer_resolves_to_its_real_page() {
    let va = 0xffff_8000_8000_0000usize + 0x5000;
    let mut w = Walk::<12>(BTreeMap::new());
    w.0.insert(va >> 12, 0x4_2345);
    assert_eq!(
        virt::virt_to_phys(&LAYOUT, &w, va + 0x10),
        Ok(PhysAddr::new(0x4234_5010))
    );
    // What linear-map arithmetic (virt_to_phys) would have produced instead.
    let naive = (va - LAYOUT.linear_start) as u64 + LAYOUT.phys_offset;
    assert_ne!(naive, 0x4234_5010);
    // Next page is not mapped.
    assert_eq!(
        virt::virt_to_phys(&LAYOUT, &w, va + 0x1000),
        Err(VirtError::NotMapped)
    );
    // Neither linear nor vmalloc.
    assert_eq!(
        virt::virt_to_phys(&LAYOUT, &w, 0x1000),
        Err(VirtError::Unsupported)
    );
}

#[test]
fn kernel_image_and_modules_in_vmalloc_space_resolve_through_the_walk() {
    // arm64: the kernel image starts at KIMAGE_VADDR == VMALLOC_START. Say its text is
    // loaded at physical 0x4020_0000 and a static lives 0x12_3456 bytes into the image.
    let image_static = KIMAGE_VADDR + 0x12_3456;
    // A module placed in vmalloc space (KASLR, or a full module region), 1 GiB further up.
    let module_static = KIMAGE_VADDR + 0x4000_0000 + 0x789;
    let mut w = Walk::<12>(BTreeMap::new());
    w.0.insert(image_static >> 12, 0x4_0323);
    w.0.insert(module_static >> 12, 0x7_1234);
    assert_eq!(LAYOUT.classify(image_static), Some(VirtKind::Vmalloc));
    assert_eq!(
        virt::virt_to_phys(&LAYOUT, &w, image_static),
        Ok(PhysAddr::new(0x4032_3456))
    );
    assert_eq!(
        virt::virt_to_pfn(&LAYOUT, &w, tagged(image_static, 0xf3)),
        Ok(Pfn::<12>::new(0x4_0323))
    );
    assert_eq!(
        virt::virt_to_phys(&LAYOUT, &w, module_static),
        Ok(PhysAddr::new(0x7123_4789))
    );
    // An address in the module region proper, just below VMALLOC_START, is outside both
    // the linear map and vmalloc space, even if something is mapped there.
    let in_module_region = KIMAGE_VADDR - 0x1000;
    assert!(in_module_region >= MODULES_VADDR);
    w.0.insert(in_module_region >> 12, 0x5_0000);
    assert_eq!(LAYOUT.classify(in_module_region), None);
    assert_eq!(
        virt::virt_to_phys(&LAYOUT, &w, in_module_region),
        Err(VirtError::Unsupported)
    );
}

#[test]
fn sixty_four_k_pages_keep_the_offset() {
    let va = 0xffff_8000_8000_0000usize + 0x3_0000;
    let mut w = Walk::<16>(BTreeMap::new());
    w.0.insert(va >> 16, 0x4567);
    assert_eq!(
        virt::virt_to_phys(&LAYOUT, &w, va + 0xabcd),
        Ok(PhysAddr::new(0x4567_abcd))
    );
    assert_eq!(
        virt::virt_to_pfn(&LAYOUT, &w, va + 0xabcd),
        Ok(Pfn::<16>::new(0x4567))
    );
}

/// Read off the test kernel under QEMU: the linear map starts above PAGE_OFFSET and
/// PHYS_OFFSET is "negative"; __lm_to_phys wraps.
const QEMU_52BIT: VirtLayout = VirtLayout {
    linear_start: 0xfff0_0000_0000_0000,
    linear_end: 0xffff_0000_8000_0000,
    phys_offset: 0xfff1_0000_4000_0000,
    vmalloc_start: 0xffff_8000_8000_0000,
    vmalloc_end: 0xffff_fdff_bf80_0000,
    tbi: true,
};

#[test]
fn fifty_two_bit_kernel_on_forty_eight_bit_cpu() {
    let l = QEMU_52BIT;
    let w = Walk::<12>(BTreeMap::new());
    assert_eq!(
        virt::virt_to_phys(&l, &w, 0xffff_0000_0386_7a00),
        Ok(PhysAddr::new(0x4386_7a00))
    );
    assert_eq!(
        virt::virt_to_phys(&l, &w, 0xb4ff_0000_0386_7a00),
        Ok(PhysAddr::new(0x4386_7a00))
    );
}

#[test]
fn tagged_pointers() {
    let lin = 0xffff_0000_0386_7a00usize;
    let vm = 0xffff_8000_8000_5010usize;
    let mut w = Walk::<12>(BTreeMap::new());
    w.0.insert(vm >> 12, 0x4_2345);
    for tag in [0x00, 0x01, 0x7f, 0x80, 0xb4, 0xf0, 0xfe] {
        // Untagged as __tag_reset does; the tag changes nothing.
        assert_eq!(LAYOUT.untag(tagged(lin, tag)), lin);
        assert_eq!(LAYOUT.classify(tagged(lin, tag)), Some(VirtKind::Linear));
        assert_eq!(
            LAYOUT.linear_to_phys(tagged(lin, tag)),
            Some(PhysAddr::new(0x4386_7a00))
        );
        assert_eq!(
            virt::virt_to_phys(&LAYOUT, &w, tagged(vm, tag)),
            Ok(PhysAddr::new(0x4234_5010))
        );
        // A kernel that does not ignore the top byte takes the address as it is.
        assert_eq!(NO_TBI.untag(tagged(lin, tag)), tagged(lin, tag));
        assert_eq!(NO_TBI.classify(tagged(vm, tag)), None);
        assert_eq!(NO_TBI.linear_to_phys(tagged(lin, tag)), None);
        assert_eq!(
            virt::virt_to_phys(&NO_TBI, &w, tagged(lin, tag)),
            Err(VirtError::Unsupported)
        );
    }
    // A user address keeps bit 55 clear and gets a zero top byte, not a kernel one.
    assert_eq!(LAYOUT.untag(0xff00_0000_0000_1000), 0x1000);
    assert_eq!(LAYOUT.untag(0x0a7f_ffff_ffff_f000), 0x007f_ffff_ffff_f000);
    assert_eq!(
        virt::virt_to_phys(&LAYOUT, &w, 0xff00_0000_0000_1000),
        Err(VirtError::Unsupported)
    );
}

/// An address in the linear map, in vmalloc space, just outside either, or anywhere.
fn address() -> impl Strategy<Value = usize> {
    let (ls, le, vs, ve) = (
        LAYOUT.linear_start,
        LAYOUT.linear_end,
        LAYOUT.vmalloc_start,
        LAYOUT.vmalloc_end,
    );
    prop_oneof![
        ls..le,
        vs..ve,
        prop::sample::select(vec![ls - 1, ls, le - 1, le, vs - 1, vs, ve - 1, ve]),
        MODULES_VADDR..KIMAGE_VADDR,
        0usize..1 << 55,
        any::<usize>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn linear_addresses_are_arithmetic(off in 0usize..0x8000_0000) {
        let w = Walk::<12>(BTreeMap::new());
        let va = LAYOUT.linear_start + off;
        let want = PhysAddr::new(0x4000_0000 + off as u64);
        prop_assert_eq!(virt::virt_to_phys(&LAYOUT, &w, va), Ok(want));
    }

    #[test]
    fn linear_map_round_trips(off in 0usize..0x8000_0000, outside in 0u64..0x1_0000_0000) {
        for l in [LAYOUT, QEMU_52BIT] {
            let va = l.linear_start + off;
            if va >= l.linear_end {
                continue;
            }
            let phys = l.linear_to_phys(va).unwrap();
            prop_assert_eq!(l.phys_to_linear(phys), Some(va));
            // Below the first byte of the linear map's RAM, or past its end: not there.
            let size = (l.linear_end - l.linear_start) as u64;
            let below = PhysAddr::new(l.phys_offset.wrapping_sub(1 + outside));
            let past = PhysAddr::new(l.phys_offset.wrapping_add(size + outside));
            prop_assert_eq!(l.phys_to_linear(below), None);
            prop_assert_eq!(l.phys_to_linear(past), None);
        }
    }

    #[test]
    fn every_address_has_one_answer(
        va in address(),
        tag in any::<u8>(),
        retag in any::<bool>(),
        tbi in any::<bool>(),
        mapped in any::<bool>(),
    ) {
        let l = VirtLayout { tbi, ..LAYOUT };
        let va = if retag { tagged(va, tag) } else { va };
        let mut w = Walk::<12>(BTreeMap::new());
        if mapped {
            // The walk is keyed by the untagged address, as the kernel's page tables are.
            w.0.insert(model_untag(va) >> 12, 7);
        }
        let got = virt::virt_to_phys(&l, &w, va);
        let want = match model(&l, va) {
            Ok(Some(phys)) => Ok(PhysAddr::new(phys)),
            Ok(None) if mapped => Ok(PhysAddr::new(0x7000 | (va as u64 & 0xfff))),
            Ok(None) => Err(VirtError::NotMapped),
            Err(e) => Err(e),
        };
        prop_assert_eq!(got, want);
        let kind = match model(&l, va) {
            Ok(Some(_)) => Some(VirtKind::Linear),
            Ok(None) => Some(VirtKind::Vmalloc),
            Err(_) => None,
        };
        prop_assert_eq!(l.classify(va), kind);
        prop_assert_eq!(l.linear_to_phys(va), want.ok().filter(|_| kind == Some(VirtKind::Linear)));
    }

    #[test]
    fn a_tag_changes_nothing(
        lin in LAYOUT.linear_start..LAYOUT.linear_end,
        vm in LAYOUT.vmalloc_start..LAYOUT.vmalloc_end,
        tag in any::<u8>(),
    ) {
        let mut w = Walk::<12>(BTreeMap::new());
        w.0.insert(vm >> 12, 0x4_2345);
        for va in [lin, vm] {
            let t = tagged(va, tag);
            prop_assert_eq!(LAYOUT.untag(t), va);
            prop_assert_eq!(LAYOUT.classify(t), LAYOUT.classify(va));
            prop_assert_eq!(
                virt::virt_to_phys(&LAYOUT, &w, t),
                virt::virt_to_phys(&LAYOUT, &w, va)
            );
            prop_assert_eq!(virt::virt_to_pfn(&LAYOUT, &w, t), virt::virt_to_pfn(&LAYOUT, &w, va));
        }
        prop_assert!(virt::virt_to_phys(&LAYOUT, &w, tagged(vm, tag)).is_ok());
        if tag != 0xff {
            // Without TBI the tag makes it some other, unsupported address.
            prop_assert_eq!(
                virt::virt_to_phys(&NO_TBI, &w, tagged(lin, tag)),
                Err(VirtError::Unsupported)
            );
            prop_assert_eq!(
                virt::virt_to_phys(&NO_TBI, &w, tagged(vm, tag)),
                Err(VirtError::Unsupported)
            );
        }
    }

    #[test]
    fn untagging_keeps_user_addresses_user(va in 0usize..1 << 55, tag in any::<u8>()) {
        let w = Walk::<12>(BTreeMap::new());
        let t = tagged(va, tag);
        prop_assert_eq!(LAYOUT.untag(t), va);
        prop_assert_eq!(LAYOUT.untag(t), model_untag(t));
        prop_assert_eq!(LAYOUT.classify(t), None);
        prop_assert_eq!(virt::virt_to_phys(&LAYOUT, &w, t), Err(VirtError::Unsupported));
    }

    #[test]
    fn untag_matches_the_model(va in any::<usize>(), tbi in any::<bool>()) {
        let l = VirtLayout { tbi, ..LAYOUT };
        prop_assert_eq!(l.untag(va), if tbi { model_untag(va) } else { va });
    }
}
