// SPDX-License-Identifier: GPL-2.0

//! Host build of gntalloc's pure logic, for `cargo test`: the file the module builds.

#![no_std]

#[path = "../../xen/uapi.rs"]
pub mod uapi;

#[path = "abi.rs"]
pub mod abi;
