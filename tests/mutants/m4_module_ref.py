# SPDX-License-Identifier: GPL-2.0
"""The mapping's module reference taken after mapping, unconditionally (item 4)."""
BOOT = "bare"
EXPECT = ["no_mapping_while_the_module_goes_away"]
FILE = "swiotlb_xen/swiotlb_helpers.c"
OLD = """	if (try_module_get(THIS_MODULE)) {
		ret = xrs_swiotlb_map_phys(dev, phys, size, dir, attrs);
		if (ret == DMA_MAPPING_ERROR)
			module_put(THIS_MODULE);
	}"""
NEW = """	ret = xrs_swiotlb_map_phys(dev, phys, size, dir, attrs);
	if (ret != DMA_MAPPING_ERROR)
		__module_get(THIS_MODULE);"""
