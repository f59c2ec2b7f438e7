// SPDX-License-Identifier: GPL-2.0

//! Runs the kernel's DMA map benchmark (`/sys/kernel/debug/dma_map_benchmark`, the ioctl
//! of include/uapi/linux/map_benchmark.h) on the device its driver is bound to, and
//! prints the average map and unmap latencies.
//!
//! usage: map-bench [SECONDS [THREADS]]

use std::fs::OpenOptions;
use std::os::fd::AsRawFd;
use std::process::ExitCode;

/// `struct map_benchmark` of include/uapi/linux/map_benchmark.h.
#[repr(C)]
struct MapBenchmark {
    avg_map_100ns: u64,
    map_stddev: u64,
    avg_unmap_100ns: u64,
    unmap_stddev: u64,
    threads: u32,
    seconds: u32,
    node: i32,
    dma_bits: u32,
    dma_dir: u32,
    dma_trans_ns: u32,
    granule: u32,
    map_mode: u8,
    expansion: [u8; 75],
}

/// `DMA_MAP_BENCHMARK`: `_IOWR('d', 1, struct map_benchmark)`.
const DMA_MAP_BENCHMARK: u64 =
    (3 << 30) | ((std::mem::size_of::<MapBenchmark>() as u64) << 16) | ((b'd' as u64) << 8) | 1;

/// `ioctl(2)` on arm64 Linux (syscall 29): the result, or a negative errno.
#[cfg(target_arch = "aarch64")]
fn ioctl(fd: i32, cmd: u64, arg: *mut MapBenchmark) -> i64 {
    let ret: i64;
    // SAFETY: the ioctl reads and writes `*arg`, a live, exclusively borrowed struct of
    // the layout the kernel expects; the syscall touches nothing else of ours.
    unsafe {
        core::arch::asm!("svc #0", in("x8") 29u64, inlateout("x0") fd as i64 => ret,
                         in("x1") cmd, in("x2") arg, options(nostack));
    }
    ret
}

#[cfg(not(target_arch = "aarch64"))]
fn ioctl(_fd: i32, _cmd: u64, _arg: *mut MapBenchmark) -> i64 {
    -38
}

fn main() -> ExitCode {
    let arg = |i: usize, d: u32| {
        std::env::args()
            .nth(i)
            .and_then(|s| s.parse().ok())
            .unwrap_or(d)
    };
    let path = "/sys/kernel/debug/dma_map_benchmark";
    let f = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("map-bench: {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut b = MapBenchmark {
        avg_map_100ns: 0,
        map_stddev: 0,
        avg_unmap_100ns: 0,
        unmap_stddev: 0,
        threads: arg(2, 2),
        seconds: arg(1, 2),
        node: -1,
        dma_bits: 32,
        dma_dir: 0,
        dma_trans_ns: 0,
        granule: 1,
        map_mode: 0,
        expansion: [0; 75],
    };
    let r = ioctl(f.as_raw_fd(), DMA_MAP_BENCHMARK, &mut b);
    if r < 0 {
        eprintln!("map-bench: DMA_MAP_BENCHMARK: errno {}", -r);
        return ExitCode::FAILURE;
    }
    println!(
        "map-bench: threads={} seconds={} map_100ns={} unmap_100ns={}",
        b.threads, b.seconds, b.avg_map_100ns, b.avg_unmap_100ns
    );
    ExitCode::SUCCESS
}
