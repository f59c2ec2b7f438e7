# SPDX-License-Identifier: GPL-2.0
"""The segment boundary ignored when placing bounces (item 5)."""
BOOT = "bare"
EXPECT = ["bounces_keep_the_segment_boundary", "placement_boundary_and_min_align"]
FILE = "swiotlb_xen/ops.rs"
OLD = "let (min_align_mask, boundary_mask) = t.dma_parms();"
NEW = "let (min_align_mask, boundary_mask) = (t.dma_parms().0, u64::MAX);"
