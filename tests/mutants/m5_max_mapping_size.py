# SPDX-License-Identifier: GPL-2.0
"""max_mapping_size without min_align_mask (item 5)."""
BOOT = "bare"
EXPECT = ["max_mapping_size_fits_with_min_align_mask", "placement_boundary_and_min_align"]
FILE = "swiotlb_xen/ops.rs"
OLD = "pool::max_mapping_size(t.dma_parms().0)"
NEW = "pool::MAX_MAPPING_SIZE"
