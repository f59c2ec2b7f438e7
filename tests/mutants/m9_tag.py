# SPDX-License-Identifier: GPL-2.0
"""Pointers classified with their KASAN/MTE tag (item 9)."""
BOOT = "bare"
EXPECT = ["tagged_pointer_frees_its_buffer", "tagged_pointers_translate_as_untagged"]
FILE = "dma/glue/virt.rs"
OLD = "tbi: cfg!(CONFIG_ARM64),"
NEW = "tbi: false,"
