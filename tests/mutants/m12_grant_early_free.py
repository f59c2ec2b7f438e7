# SPDX-License-Identifier: GPL-2.0
"""A grant's page freed at once when its access ends, whether or not the other side
still maps it (the deferred release bypassed)."""
BOOT = "xen"
EXPECT = ["ending_access_while_mapped_keeps_the_page"]
FILE = "grant/grant.rs"
OLD = "unsafe { bindings::gnttab_end_foreign_access(self.gref, self.page.as_ptr()) };"
NEW = ("unsafe { bindings::gnttab_end_foreign_access(self.gref, core::ptr::null_mut()); "
       "kernel::bindings::__free_pages(self.page.as_ptr(), 0) };")
