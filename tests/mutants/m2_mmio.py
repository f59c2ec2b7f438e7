# SPDX-License-Identifier: GPL-2.0
"""MMIO handed out untranslated (item 2)."""
BOOT = "bare"
EXPECT = ["mmio_mapping_is_translated_and_released", "attributes_mmio_and_require_coherent"]
FILE = "swiotlb_xen/ops.rs"
OLD = "let dma = t.map.phys_range_to_dma(phys, size).map_err(|_| EIO)?;"
NEW = "let dma = DmaAddr::new(phys.as_u64());"
