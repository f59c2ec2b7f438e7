# SPDX-License-Identifier: GPL-2.0
"""An unmap that frees the bounce's slots before copying the device's data back (found by
the unload-under-load test): a mapping made meanwhile on another CPU can take the slots
and overwrite the data first."""
BOOT = "stress"
EXPECT = [r"XRS-STRESS: load data_errors: [1-9]"]
FILE = "swiotlb_xen/ops.rs"
OLD = """        if !skip_sync && device_writes(dir) {
            // The data comes back while the slots are still ours: freed first, they could
            // go to a mapping made meanwhile, whose map copies over them.
            let b = self.pool.lock().get(phys, size, tag(dir))?;
            self.sync_for_cpu_cache(t, b.tlb, maddr, size, dir, false);
            self.copy(b.orig, b.tlb, size);
        }
        self.pool.lock().free(phys, size, tag(dir))?;"""
NEW = """        let b = self.pool.lock().free(phys, size, tag(dir))?;
        if !skip_sync && device_writes(dir) {
            self.sync_for_cpu_cache(t, b.tlb, maddr, size, dir, false);
            self.copy(b.orig, b.tlb, size);
        }"""
