// SPDX-License-Identifier: GPL-2.0

//! Host build of gntalloc's pure logic, for `cargo test`: the file the module builds.

#![no_std]

#[path = "abi.rs"]
pub mod abi;
