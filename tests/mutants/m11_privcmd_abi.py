# SPDX-License-Identifier: GPL-2.0
"""RESTRICT's ioctl number computed from a 32-bit domain id (privcmd's ABI against C)."""
BOOT = "bare"
EXPECT = ["every_row_matches_c"]
FILE = "drivers/privcmd/abi.rs"
OLD = "Self::Restrict => ioc(NONE, b'P', 6, size_of::<u16>()),"
NEW = "Self::Restrict => ioc(NONE, b'P', 6, size_of::<u32>()),"
