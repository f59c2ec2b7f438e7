# SPDX-License-Identifier: GPL-2.0
"""One GNTTABOP_cache_flush entry for the whole range (item 6); needs Xen."""
BOOT = "xen"
EXPECT = ["xen_cache_flush_one_xen_page_an_entry"]
FILE = "swiotlb_xen/ops.rs"
OLD = "for e in cache_flush::per_xen_page(maddr, size) {"
NEW = ("for e in core::iter::once(cache_flush::FlushEntry { page: MachineAddr::new(maddr.as_u64() & !0xfff), "
       "offset: (maddr.as_u64() & 0xfff) as u16, length: size as u16 }) {")
