# SPDX-License-Identifier: GPL-2.0
"""Unmap copies the bounce back even with DMA_ATTR_SKIP_CPU_SYNC (issue 7, item 1)."""
BOOT = "bare"
EXPECT = ["skip_cpu_sync_unmap_keeps_cpu_writes", "failed_scatterlist_unwinds_without_copying_back",
          "partial_syncs_and_skip_cpu_sync"]
FILE = "swiotlb_xen/ops.rs"
OLD = """        if !skip_sync && device_writes(dir) {"""
NEW = """        if device_writes(dir) {"""
