# SPDX-License-Identifier: GPL-2.0
"""A sync past its mapping skipped instead of clamped (item 8)."""
BOOT = "bare"
EXPECT = ["sync_past_the_mapping_is_clamped"]
FILE = "swiotlb_xen/ops.rs"
OLD = """        if size > left {
            self.stats.sync_clamped"""
NEW = """        if size > left {
            return Err(EINVAL);
        }
        if size > left {
            self.stats.sync_clamped"""
