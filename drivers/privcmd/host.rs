// SPDX-License-Identifier: GPL-2.0

//! Host build of privcmd's pure logic, for `cargo test`: the files the module builds,
//! with the core's `DomId` at `crate::DomId` as in the module.

#![no_std]

#[path = "../../xen/domid.rs"]
mod domid;

pub use domid::DomId;

#[path = "../../xen/uapi.rs"]
pub mod uapi;

#[path = "abi.rs"]
pub mod abi;
