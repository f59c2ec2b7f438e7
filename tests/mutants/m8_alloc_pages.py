# SPDX-License-Identifier: GPL-2.0
"""No alloc_pages_op (item 8): dma_alloc_pages() returns NULL."""
BOOT = "bare"
EXPECT = ["noncoherent_pages_round_trip", "allocations"]
FILE = "swiotlb_xen/dma_ops.rs"
OLD = """    alloc_pages_op: Some(alloc_pages_op),
    free_pages: Some(free_pages),
"""
NEW = """    alloc_pages_op: None,
    free_pages: None,
"""
