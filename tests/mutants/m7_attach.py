# SPDX-License-Identifier: GPL-2.0
"""Nothing puts the ops back after a driver's bind (item 7); needs Xen, whose DMA
configuration displaces them."""
BOOT = "xen"
EXPECT = ["attach_survives_bind_and_rebind"]
FILE = "swiotlb_xen/attach.rs"
OLD = "    if action != bindings::bus_notifier_event_BUS_NOTIFY_BIND_DRIVER as c_ulong {"
NEW = "    if action != c_ulong::MAX {"
