# SPDX-License-Identifier: GPL-2.0
"""Non-blocking coherent allocations remapped like blocking ones (item 3): the case
fails and the kernel reports sleeping in atomic context."""
BOOT = "bare"
EXPECT = ["atomic_coherent_alloc_under_a_spinlock", "BUG: sleeping function called from invalid context"]
FILE = "swiotlb_xen/ops.rs"
OLD = "if !t.coherent && gfp & GFP_DIRECT_RECLAIM == 0 {"
NEW = "if !t.coherent && gfp & GFP_DIRECT_RECLAIM == 0 && size == 0 {"
