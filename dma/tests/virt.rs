// SPDX-License-Identifier: GPL-2.0

//! Virtual to physical for linear-map and vmalloc addresses.

use std::collections::BTreeMap;

use proptest::prelude::*;
use xen_dma::addr::{Pfn, PhysAddr};
use xen_dma::virt::{self, PageTables, VirtError, VirtKind, VirtLayout};

/// arm64 with 48-bit VAs: linear map at 0xffff_0000_0000_0000 for 2 GiB of RAM at
/// physical 0x4000_0000 (QEMU virt), vmalloc space above the modules.
const LAYOUT: VirtLayout = VirtLayout {
    linear_start: 0xffff_0000_0000_0000,
    linear_end: 0xffff_0000_8000_0000,
    phys_offset: 0x4000_0000,
    vmalloc_start: 0xffff_8000_8000_0000,
    vmalloc_end: 0xffff_fbff_bfff_0000,
};

/// vmalloc mappings: virtual page number to pfn.
struct Walk<const S: u32>(BTreeMap<usize, u64>);

impl<const S: u32> PageTables<S> for Walk<S> {
    fn vmalloc_to_pfn(&self, virt: usize) -> Option<Pfn<S>> {
        self.0.get(&(virt >> S)).map(|&p| Pfn::new(p))
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

#[test]
fn fifty_two_bit_kernel_on_forty_eight_bit_cpu() {
    // Read off the test kernel under QEMU: the linear map starts above PAGE_OFFSET and
    // PHYS_OFFSET is "negative"; __lm_to_phys wraps.
    let l = VirtLayout {
        linear_start: 0xfff0_0000_0000_0000,
        linear_end: 0xffff_0000_8000_0000,
        phys_offset: 0xfff1_0000_4000_0000,
        vmalloc_start: 0xffff_8000_8000_0000,
        vmalloc_end: 0xffff_fdff_bf80_0000,
    };
    let w = Walk::<12>(BTreeMap::new());
    assert_eq!(
        virt::virt_to_phys(&l, &w, 0xffff_0000_0386_7a00),
        Ok(PhysAddr::new(0x4386_7a00))
    );
}

proptest! {
    #[test]
    fn linear_addresses_are_arithmetic(off in 0usize..0x8000_0000) {
        let w = Walk::<12>(BTreeMap::new());
        let va = LAYOUT.linear_start + off;
        let want = PhysAddr::new(0x4000_0000 + off as u64);
        prop_assert_eq!(virt::virt_to_phys(&LAYOUT, &w, va), Ok(want));
    }

    #[test]
    fn every_address_has_one_answer(va in any::<usize>(), mapped in any::<bool>()) {
        let mut w = Walk::<12>(BTreeMap::new());
        if mapped {
            w.0.insert(va >> 12, 7);
        }
        let got = virt::virt_to_phys(&LAYOUT, &w, va);
        match LAYOUT.classify(va) {
            Some(VirtKind::Linear) => prop_assert!(got.is_ok()),
            Some(VirtKind::Vmalloc) if mapped => {
                prop_assert_eq!(got, Ok(PhysAddr::new(0x7000 | (va as u64 & 0xfff))))
            }
            Some(VirtKind::Vmalloc) => prop_assert_eq!(got, Err(VirtError::NotMapped)),
            None => prop_assert_eq!(got, Err(VirtError::Unsupported)),
        }
    }
}
