# SPDX-License-Identifier: GPL-2.0
"""The mapping's module reference taken after mapping, unconditionally (item 4)."""
BOOT = "bare"
EXPECT = ["no_mapping_while_the_module_goes_away"]
FILE = "swiotlb_xen/dma_ops.rs"
OLD = """    if !module_get() {
        return MAPPING_ERROR;
    }
    // SAFETY: called by the DMA API (function requirement).
    let r = unsafe {
        with(dev, |s, t| {
            s.map(
                t,
                PhysAddr::new(phys),
                size as u64,
                direction(dir)?,
                MapAttrs(attrs),
            )
        })
    };
    match r {
        Ok(dma) => dma.as_u64(),
        Err(_) => {
            module_put();
            MAPPING_ERROR
        }
    }"""
NEW = """    // SAFETY: mutant.
    let r = unsafe {
        with(dev, |s, t| {
            s.map(
                t,
                PhysAddr::new(phys),
                size as u64,
                direction(dir)?,
                MapAttrs(attrs),
            )
        })
    };
    match r {
        Ok(dma) => {
            // SAFETY: mutant.
            unsafe { bindings::__module_get(this_module()) };
            dma.as_u64()
        }
        Err(_) => MAPPING_ERROR,
    }"""
