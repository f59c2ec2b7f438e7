// SPDX-License-Identifier: GPL-2.0

//! The KUnit suites and the benchmark of the Rust xen-swiotlb, as a module of their own
//! (`xen_swiotlb_test.ko`), compiled against the driver's crate and the Xen core:
//!
//! - `xen_swiotlb_ops` ([`engine`]): the paths of the ops, one case each;
//! - `xen_swiotlb_contract` ([`contract`]): the points of the DMA API contract a review
//!   found broken, one case each;
//! - `xen_swiotlb_differential` ([`differential`]): the same DMA API calls through the
//!   kernel's ops and through the Rust ones, every result compared;
//! - `xen_swiotlb_board` ([`board`]): the ops on a Raspberry Pi 4's own devices, named by
//!   `board_devices` (skipped without).
//!
//! The suites run when the module loads, on the instance of the loaded `xen_swiotlb_rs`.
//! With `bench=1` (in place) or `bench=2` (bounced) the module runs the benchmark of
//! `make bench` first ([`bench`]).

use kernel::prelude::*;

pub(crate) use xen::dma;
pub(crate) use xen_swiotlb::{
    attach,  //
    ops,     //
    swiotlb, //
};

mod bench;
mod board;
mod contract;
mod differential;
mod engine;
mod ffi;
mod testing;

module! {
    type: XenSwiotlbTest,
    name: "xen_swiotlb_test",
    authors: ["The Rust Xen stack developers"],
    description: "KUnit suites and benchmark of the Rust xen-swiotlb",
    license: "GPL",
    params: {
        bench: u32 {
            default: 0,
            description: "Run the benchmark at load: 1 in place, 2 bounced (make bench)",
        },
    },
}

struct XenSwiotlbTest;

impl kernel::Module for XenSwiotlbTest {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        match module_parameters::bench.value() {
            0 => {}
            b => {
                let s = ops::Swiotlb::get().ok_or(ENODEV)?;
                bench::run(s, b == 2)?;
            }
        }
        Ok(Self)
    }
}
