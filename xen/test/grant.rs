// SPDX-License-Identifier: GPL-2.0

//! KUnit suite `xen_grant`: the core's grant layer against the kernel's grant table and
//! Xen, with Dom0 granting pages to itself and mapping them back (Xen 4.20 allows a
//! domain to map its own grants on Arm). Skipped outside Xen.

use kernel::prelude::*;

#[kunit_tests(xen_grant)]
mod tests {
    use crate::ffi;
    use ::xen::domid::DomId;
    use ::xen::grant::{
        Access,     //
        Grant,      //
        GrantPages, //
        GrantRef,   //
        Mapping,    //
    };
    use kernel::page::{
        Page,      //
        PAGE_SIZE, //
    };
    use kernel::prelude::*;

    const SELF: DomId = DomId::new(0);

    /// Whether the suite can run; marks the case skipped if not.
    fn under_xen() -> bool {
        if ::xen::domain::xen_domain() {
            return true;
        }
        ffi::skip(c"needs Xen's grant table");
        false
    }

    fn fill(p: *mut u8, seed: u8) {
        for i in 0..PAGE_SIZE {
            // SAFETY: `p` is a page of the test's, in the linear map.
            unsafe {
                p.add(i)
                    .write_volatile((i as u8).wrapping_mul(13).wrapping_add(seed))
            };
        }
    }

    fn holds(p: *const u8, seed: u8) -> bool {
        (0..PAGE_SIZE).all(|i| {
            // SAFETY: as above, read only.
            let b = unsafe { p.add(i).read_volatile() };
            b == (i as u8).wrapping_mul(13).wrapping_add(seed)
        })
    }

    #[test]
    fn a_granted_page_maps_back_both_ways() -> Result {
        if !under_xen() {
            return Ok(());
        }
        let g = Grant::new(SELF, true)?;
        assert!(g.gref().as_u32() >= GrantRef::FIRST_FREE);
        fill(g.address(), 1);
        let pages = GrantPages::alloc(1)?;
        let mut m = Mapping::new(&[(SELF, g.gref())])?;
        m.map(&pages, Access::ReadWrite)?;
        assert_eq!(m.live(), 1);
        assert!(holds(pages.address(0), 1));
        fill(pages.address(0), 2);
        assert!(holds(g.address(), 2));
        m.unmap(&pages)?;
        assert_eq!(m.live(), 0);
        Ok(())
    }

    #[test]
    fn a_failed_grant_in_a_batch_leaves_the_others_until_unmap() -> Result {
        if !under_xen() {
            return Ok(());
        }
        let g = Grant::new(SELF, false)?;
        let pages = GrantPages::alloc(2)?;
        let mut m = Mapping::new(&[(SELF, g.gref()), (SELF, GrantRef::new(0x7fff_fff0))])?;
        assert_eq!(m.map(&pages, Access::ReadOnly), Err(EINVAL));
        assert_eq!(m.live(), 1);
        // A batch mapped (in part) is not mapped again.
        assert_eq!(m.map(&pages, Access::ReadOnly), Err(EINVAL));
        m.unmap(&pages)?;
        assert_eq!(m.live(), 0);
        Ok(())
    }

    #[test]
    fn ending_access_while_mapped_keeps_the_page() -> Result {
        if !under_xen() {
            return Ok(());
        }
        let g = Grant::new(SELF, true)?;
        fill(g.address(), 3);
        let pages = GrantPages::alloc(1)?;
        let mut m = Mapping::new(&[(SELF, g.gref())])?;
        m.map(&pages, Access::ReadWrite)?;
        // The grant ends while its page is mapped: the kernel defers the release.
        drop(g);
        // Pages allocated and scribbled on now would reuse the page if it had been
        // freed early.
        let mut others = KVec::new();
        for _ in 0..256 {
            let p = Page::alloc_page(GFP_KERNEL)?;
            // SAFETY: a page of ours.
            fill(unsafe { ffi::page_address(p.as_ptr()) }.cast(), 0xaa);
            others.push(p, GFP_KERNEL)?;
        }
        assert!(holds(pages.address(0), 3));
        m.unmap(&pages)?;
        Ok(())
    }

    #[test]
    fn running_out_of_references_is_enospc_and_recovers() -> Result {
        if !under_xen() {
            return Ok(());
        }
        // Grant until the table, grown to its limit, has no reference left.
        let mut all = KVVec::new();
        let e = loop {
            match Grant::new(SELF, false) {
                Ok(g) => all.push(g, GFP_KERNEL)?,
                Err(e) => break e,
            }
            if all.len() > 1 << 20 {
                break EINVAL;
            }
        };
        pr_info!(
            "xen_grant: {} references granted before {:?}\n",
            all.len(),
            e
        );
        assert_eq!(e, ENOSPC);
        assert!(all.len() >= 1000);
        drop(all);
        // Every reference came back.
        let g = Grant::new(SELF, false)?;
        drop(g);
        Ok(())
    }
}
