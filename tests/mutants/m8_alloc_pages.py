# SPDX-License-Identifier: GPL-2.0
"""No alloc_pages_op (item 8): dma_alloc_pages() returns NULL."""
BOOT = "bare"
EXPECT = ["noncoherent_pages_round_trip", "allocations"]
FILE = "swiotlb_xen/swiotlb_helpers.c"
OLD = """	.alloc_pages_op = xrs_alloc_pages_op,
	.free_pages = xrs_free_pages_op,
"""
NEW = ""
