// SPDX-License-Identifier: GPL-2.0

//! `xen_swiotlb_stress`: a DMA load on one test device, for the test that unloads
//! `xen_swiotlb_rs` under it (`make test`, `tests/stress-test.sh`).
//!
//! At load the module creates a device on the overlay's differential bus (`dma-ranges`
//! covering everything below 4 GiB but a hole over pages of its own) and names it in
//! `/sys/kernel/debug/xen_swiotlb_stress/device`, for `xen_swiotlb_rs devices=`. Writing a
//! number of milliseconds to `run` loads the device for that long and returns when the
//! load has stopped: workers on a workqueue of the module's own map and unmap in place
//! and bounced, both directions, and allocate coherent buffers; a high-resolution timer
//! maps and unmaps in hard interrupt context. The software DMA engine checks every byte
//! the device is given and every byte it hands back. `stats` counts what happened.
//!
//! Whatever ops the device has (the Rust ones, or the kernel's once `xen_swiotlb_rs` has
//! gone), a mapping that is made must carry the data: a data error is a failure. A
//! mapping may fail while `xen_swiotlb_rs` is going away; that is counted, not failed.
//!
//! A second device on the same bus, idle, is named in `spare`: for a driver to be bound to
//! (`tests/bind-test.sh` binds the kernel's DMA map benchmark there).
//!
//! Writing to `settle` purges the lazily freed vmalloc areas (and their KASAN shadow), so
//! that the test's count of free pages is not off by what is waiting there.

use core::fmt;

use kernel::bindings;
use kernel::bindings::dma_data_direction as Dir;
use kernel::debugfs::{
    Dir as DebugDir, //
    File,            //
};
use kernel::impl_has_hr_timer;
use kernel::prelude::*;
use kernel::sync::atomic::{
    Acquire, //
    Atomic,  //
    Relaxed, //
    Release, //
};
use kernel::sync::Arc;
use kernel::time::hrtimer::{
    HrTimer,                //
    HrTimerCallback,        //
    HrTimerCallbackContext, //
    HrTimerRestart,         //
    RelativeMode,           //
    ScopedHrTimerPointer,   //
};
use kernel::time::{
    delay::fsleep, //
    Delta,         //
    Monotonic,     //
};
use kernel::uaccess::UserSliceReader;
use kernel::workqueue::Queue;

use xen::dma::glue::fixture::{
    Rpi4Buses,   //
    TestDevice,  //
    DIFF_OFFSET, //
    DIFF_RAM,    //
};
use xen::pages::Pages;

module! {
    type: Stress,
    name: "xen_swiotlb_stress",
    authors: ["The Rust Xen stack developers"],
    description: "DMA load on a test device, for unloading xen_swiotlb_rs under it",
    license: "GPL",
}

mod ffi {
    use kernel::bindings;
    use kernel::ffi::c_void;

    #[expect(
        improper_ctypes,
        reason = "bindgen's struct device has zero-sized members; only pointers cross over"
    )]
    extern "C" {
        /// `dma_map_phys()`, then `dma_mapping_error()`: `DMA_MAPPING_ERROR` on failure.
        pub(crate) fn xrs_stress_map(
            dev: *mut bindings::device,
            phys: u64,
            size: usize,
            dir: bindings::dma_data_direction,
        ) -> u64;
        /// `dma_unmap_phys()`.
        pub(crate) fn xrs_stress_unmap(
            dev: *mut bindings::device,
            dma: u64,
            size: usize,
            dir: bindings::dma_data_direction,
        );
        /// `dma_alloc_coherent(GFP_KERNEL)`.
        pub(crate) fn xrs_stress_alloc(
            dev: *mut bindings::device,
            size: usize,
            dma: *mut u64,
        ) -> *mut c_void;
        /// `dma_free_coherent()`.
        pub(crate) fn xrs_stress_free(
            dev: *mut bindings::device,
            size: usize,
            vaddr: *mut c_void,
            dma: u64,
        );
        /// An unbound workqueue of the module's own.
        pub(crate) fn xrs_stress_wq_create() -> *mut bindings::workqueue_struct;
        /// `destroy_workqueue()`: drains it.
        pub(crate) fn xrs_stress_wq_destroy(wq: *mut bindings::workqueue_struct);
        /// `vm_unmap_aliases()`.
        pub(crate) fn xrs_stress_settle();
    }
}

/// Workers in process context.
const WORKERS: usize = 3;
/// Bytes the interrupt-context mappings move.
const IRQ_BYTES: usize = 256;
/// The timer's period.
const IRQ_PERIOD_US: i64 = 200;
const ERROR: u64 = u64::MAX;

/// `1 << order` pages the module owns (the core's [`Pages`]), with their physical
/// address.
struct Block {
    pages: Pages,
    phys: u64,
}

impl Block {
    /// A block whose physical range satisfies `ok`.
    fn alloc(order: u32, ok: impl Fn(u64, u64) -> bool) -> Result<Self> {
        let pages = Pages::alloc_where(bindings::GFP_KERNEL, order, 64, |p, n| ok(p.as_u64(), n))?;
        let phys = pages.phys().as_u64();
        Ok(Self { pages, phys })
    }

    fn bytes(&self) -> u64 {
        self.pages.bytes()
    }

    /// The linear-map address of byte `off`.
    fn at(&self, off: usize) -> *mut u8 {
        self.pages.address().cast::<u8>().wrapping_add(off)
    }
}

impl Counters {
    const fn new() -> Self {
        Self {
            runs: Atomic::new(0),
            maps: Atomic::new(0),
            map_failures: Atomic::new(0),
            irq_maps: Atomic::new(0),
            irq_map_failures: Atomic::new(0),
            allocs: Atomic::new(0),
            alloc_failures: Atomic::new(0),
            data_errors: Atomic::new(0),
            errors_by_kind: [const { Atomic::new(0) }; 5],
        }
    }
}

fn pattern(i: usize, seed: u8) -> u8 {
    (i as u8).wrapping_mul(29).wrapping_add(seed) ^ (i >> 8) as u8
}

/// Counters of the load, shown in `stats`.
struct Counters {
    runs: Atomic<u64>,
    maps: Atomic<u64>,
    map_failures: Atomic<u64>,
    irq_maps: Atomic<u64>,
    irq_map_failures: Atomic<u64>,
    allocs: Atomic<u64>,
    alloc_failures: Atomic<u64>,
    data_errors: Atomic<u64>,
    /// Data errors by kind: to the device in place, bounced, from the device, coherent,
    /// interrupt context.
    errors_by_kind: [Atomic<u64>; 5],
}

/// What the workers, the timer and the debugfs files share.
struct Shared {
    dev: *mut bindings::device,
    /// The device's windows as the engine knows them: (bus, physical, size).
    windows: [(u64, u64, u64); 2],
    /// Pages the device reaches: one per worker, and one for the timer.
    reach: Block,
    /// Pages of the hole, which the device cannot reach: two per worker, one for the
    /// timer.
    hole: Block,
    stop: Atomic<bool>,
    running: Atomic<usize>,
    c: Counters,
}

// SAFETY: `dev` is a device the module owns until it is dropped; the blocks are plain
// memory each user touches only in its own pages; everything else is atomic.
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}

impl Shared {
    /// The physical address behind bus address `dma`, if the whole range is in a window.
    fn phys(&self, dma: u64, len: usize) -> Option<u64> {
        self.windows.iter().find_map(|&(bus, cpu, size)| {
            (dma >= bus && dma + len as u64 <= bus + size).then(|| dma - bus + cpu)
        })
    }

    /// The device reads `len` bytes at `dma`: whether they hold the pattern of `seed`.
    fn device_sees(&self, dma: u64, len: usize, seed: u8) -> bool {
        let Some(p) = self.phys(dma, len) else {
            return false;
        };
        // SAFETY: RAM behind a window that a live mapping gave the device.
        let src = unsafe { xen::ffi::phys_to_virt(p).cast::<u8>() };
        // SAFETY: as above, `len` bytes.
        (0..len).all(|i| unsafe { src.add(i).read() } == pattern(i, seed))
    }

    /// The device writes the pattern of `seed` over `len` bytes at `dma`.
    fn device_writes(&self, dma: u64, len: usize, seed: u8) -> bool {
        let Some(p) = self.phys(dma, len) else {
            return false;
        };
        // SAFETY: as in `device_sees`; the mapping lets the device write.
        let dst = unsafe { xen::ffi::phys_to_virt(p).cast::<u8>() };
        for i in 0..len {
            // SAFETY: as above.
            unsafe { dst.add(i).write(pattern(i, seed)) };
        }
        true
    }

    fn fill(at: *mut u8, len: usize, seed: u8) {
        for i in 0..len {
            // SAFETY: the caller's own pages, `len` bytes.
            unsafe { at.add(i).write(pattern(i, seed)) };
        }
    }

    fn holds(at: *mut u8, len: usize, seed: u8) -> bool {
        // SAFETY: as in `fill`.
        (0..len).all(|i| unsafe { at.add(i).read() } == pattern(i, seed))
    }

    /// One map, check, unmap to the device of `len` bytes at `at` (physical `phys`).
    fn to_device(&self, at: *mut u8, phys: u64, len: usize, seed: u8) -> Option<bool> {
        Self::fill(at, len, seed);
        // SAFETY: the device is live; the pages are ours.
        let dma = unsafe { ffi::xrs_stress_map(self.dev, phys, len, Dir::DMA_TO_DEVICE) };
        if dma == ERROR {
            return None;
        }
        let ok = self.device_sees(dma, len, seed);
        // SAFETY: the mapping made above.
        unsafe { ffi::xrs_stress_unmap(self.dev, dma, len, Dir::DMA_TO_DEVICE) };
        Some(ok)
    }

    fn count(&self, r: Option<bool>, ok: &Atomic<u64>, failed: &Atomic<u64>, kind: usize) {
        match r {
            None => failed.fetch_add(1, Relaxed),
            Some(good) => {
                if !good {
                    self.c.data_errors.fetch_add(1, Relaxed);
                    self.c.errors_by_kind[kind].fetch_add(1, Relaxed);
                }
                ok.fetch_add(1, Relaxed)
            }
        };
    }

    /// A worker's loop until `stop`.
    fn work(&self, w: usize) {
        let page = kernel::page::PAGE_SIZE;
        let (reach, hole_to, hole_from) = (w * page, 2 * w * page, (2 * w + 1) * page);
        let mut round = 0u32;
        while !self.stop.load(Relaxed) {
            round = round.wrapping_add(1);
            let seed = (round as u8).wrapping_add(w as u8 * 64);
            // In place, then bounced (the hole is out of the device's reach).
            let r = self.to_device(
                self.reach.at(reach),
                self.reach.phys + reach as u64,
                3000,
                seed,
            );
            self.count(r, &self.c.maps, &self.c.map_failures, 0);
            let r = self.to_device(
                self.hole.at(hole_to),
                self.hole.phys + hole_to as u64,
                page,
                seed,
            );
            self.count(r, &self.c.maps, &self.c.map_failures, 1);
            // From the device, bounced: the data lands at unmap.
            let at = self.hole.at(hole_from);
            Self::fill(at, page, 0);
            let phys = self.hole.phys + hole_from as u64;
            // SAFETY: the device is live; the pages are ours.
            let dma = unsafe { ffi::xrs_stress_map(self.dev, phys, page, Dir::DMA_FROM_DEVICE) };
            let r = (dma != ERROR).then(|| {
                let wrote = self.device_writes(dma, page, seed ^ 0x55);
                // SAFETY: the mapping made above.
                unsafe { ffi::xrs_stress_unmap(self.dev, dma, page, Dir::DMA_FROM_DEVICE) };
                wrote && Self::holds(at, page, seed ^ 0x55)
            });
            self.count(r, &self.c.maps, &self.c.map_failures, 2);
            if round % 8 == 0 {
                let mut dma = 0u64;
                // SAFETY: the device is live; `dma` is an out-parameter.
                let v = unsafe { ffi::xrs_stress_alloc(self.dev, 2 * page, &mut dma) };
                let r = (!v.is_null()).then(|| {
                    let ok = self.device_writes(dma, 2 * page, seed)
                        && Self::holds(v.cast(), 2 * page, seed);
                    // SAFETY: the buffer allocated above.
                    unsafe { ffi::xrs_stress_free(self.dev, 2 * page, v, dma) };
                    ok
                });
                self.count(r, &self.c.allocs, &self.c.alloc_failures, 3);
            }
        }
        self.running.fetch_sub(1, Release);
    }

    /// The timer's share: one mapping in place and one bounced, in hard interrupt
    /// context.
    fn irq(&self) {
        let page = kernel::page::PAGE_SIZE;
        let n = self.c.irq_maps.load(Relaxed) as u8;
        let reach = WORKERS * page;
        let hole = 2 * WORKERS * page;
        let r = self.to_device(
            self.reach.at(reach),
            self.reach.phys + reach as u64,
            IRQ_BYTES,
            n,
        );
        self.count(r, &self.c.irq_maps, &self.c.irq_map_failures, 4);
        let r = self.to_device(
            self.hole.at(hole),
            self.hole.phys + hole as u64,
            IRQ_BYTES,
            n,
        );
        self.count(r, &self.c.irq_maps, &self.c.irq_map_failures, 4);
    }
}

/// The timer of a run.
#[pin_data]
struct IrqLoad {
    #[pin]
    timer: HrTimer<Self>,
    shared: Arc<Shared>,
}

impl HrTimerCallback for IrqLoad {
    type Pointer<'a> = Pin<&'a Self>;

    fn run(this: Pin<&Self>, mut ctx: HrTimerCallbackContext<'_, Self>) -> HrTimerRestart {
        this.shared.irq();
        if this.shared.stop.load(Relaxed) {
            return HrTimerRestart::NoRestart;
        }
        ctx.forward_now(Delta::from_micros(IRQ_PERIOD_US));
        HrTimerRestart::Restart
    }
}

impl_has_hr_timer! {
    impl HasHrTimer<Self> for IrqLoad {
        mode: RelativeMode<Monotonic>, field: self.timer
    }
}

/// What `run` needs: the shared state and the workqueue.
struct Runner {
    shared: Arc<Shared>,
    wq: *mut bindings::workqueue_struct,
}

// SAFETY: the workqueue pointer is only handed to the kernel, which locks its queue.
unsafe impl Send for Runner {}
// SAFETY: as above.
unsafe impl Sync for Runner {}

impl Runner {
    /// Loads the device for `ms` milliseconds; returns when every worker and the timer
    /// have stopped.
    fn run(&self, ms: u32) -> Result {
        let s = &self.shared;
        s.stop.store(false, Relaxed);
        s.running.store(WORKERS, Relaxed);
        // SAFETY: our workqueue, alive until module exit, after every run.
        let q = unsafe { Queue::from_raw(self.wq) };
        for w in 0..WORKERS {
            let shared = s.clone();
            if q.try_spawn(GFP_KERNEL, move || shared.work(w)).is_err() {
                s.running.fetch_sub(1, Relaxed);
            }
        }
        pin_init::stack_pin_init!(let t = pin_init!(IrqLoad {
            timer <- HrTimer::new(),
            shared: s.clone(),
        }));
        t.as_ref()
            .start_scoped(Delta::from_micros(IRQ_PERIOD_US), || {
                fsleep(Delta::from_millis(i64::from(ms)));
                s.stop.store(true, Relaxed);
                while s.running.load(Acquire) != 0 {
                    fsleep(Delta::from_millis(1));
                }
            });
        s.c.runs.fetch_add(1, Relaxed);
        Ok(())
    }
}

/// The `run` file: a number of milliseconds.
fn run_written(r: &Runner, reader: &mut UserSliceReader) -> Result {
    let mut buf = [0u8; 16];
    let n = reader.len().min(buf.len());
    reader.read_slice(&mut buf[..n])?;
    let text = core::str::from_utf8(&buf[..n]).map_err(|_| EINVAL)?;
    let ms: u32 = text.trim().parse().map_err(|_| EINVAL)?;
    if ms == 0 || ms > 60_000 {
        return Err(EINVAL);
    }
    r.run(ms)
}

/// The `settle` file: any write.
fn settle_written(_: &(), _reader: &mut UserSliceReader) -> Result {
    // SAFETY: purges the kernel's lazy vmalloc areas; callable from process context.
    unsafe { ffi::xrs_stress_settle() };
    Ok(())
}

/// The `stats` file.
struct StatsView(Arc<Shared>);

impl fmt::Debug for StatsView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.0.c;
        let g = |a: &Atomic<u64>| a.load(Relaxed);
        writeln!(f, "runs: {}", g(&c.runs))?;
        writeln!(f, "maps: {}", g(&c.maps))?;
        writeln!(f, "map_failures: {}", g(&c.map_failures))?;
        writeln!(f, "irq_maps: {}", g(&c.irq_maps))?;
        writeln!(f, "irq_map_failures: {}", g(&c.irq_map_failures))?;
        writeln!(f, "allocs: {}", g(&c.allocs))?;
        writeln!(f, "alloc_failures: {}", g(&c.alloc_failures))?;
        writeln!(f, "data_errors: {}", g(&c.data_errors))?;
        let k = &c.errors_by_kind;
        write!(
            f,
            "data_errors_by_kind: to-in-place={} to-bounced={} from-bounced={} coherent={} irq={}",
            g(&k[0]),
            g(&k[1]),
            g(&k[2]),
            g(&k[3]),
            g(&k[4])
        )
    }
}

/// A device's name, for `xen_swiotlb_rs devices=`.
struct NameView(*mut bindings::device);

// SAFETY: the device lives as long as the module, and its name does not change.
unsafe impl Send for NameView {}
// SAFETY: as above.
unsafe impl Sync for NameView {}

impl fmt::Debug for NameView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: the device lives as long as the module.
        let dev = unsafe { <kernel::device::Device>::from_raw(self.0) };
        write!(f, "{}", dev.name().to_str().unwrap_or("?"))
    }
}

/// The module's workqueue; destroying it drains it.
struct WorkQueue(*mut bindings::workqueue_struct);

impl Drop for WorkQueue {
    fn drop(&mut self) {
        // SAFETY: our workqueue; the files that start runs are gone.
        unsafe { ffi::xrs_stress_wq_destroy(self.0) };
    }
}

/// The overlay, kept at a fixed address so that the device can borrow it for the
/// module's lifetime.
struct Overlay(*mut Rpi4Buses);

impl Overlay {
    fn get(&self) -> &'static Rpi4Buses {
        // SAFETY: allocated in `init`, freed on drop, after the device borrowing it.
        unsafe { &*self.0 }
    }
}

impl Drop for Overlay {
    fn drop(&mut self) {
        // SAFETY: allocated in `init` by `KBox::into_raw`; the device on its bus is gone.
        drop(unsafe { KBox::from_raw(self.0) });
    }
}

struct Stress {
    // Field order is drop order: the files (after them no run can start or be in
    // progress), the workqueue (drained), the shared state, the device, the overlay.
    _run: Pin<KBox<File<Runner>>>,
    _settle: Pin<KBox<File<()>>>,
    _stats: Pin<KBox<File<StatsView>>>,
    _name: Pin<KBox<File<NameView>>>,
    _spare_name: Pin<KBox<File<NameView>>>,
    _dir: DebugDir,
    _wq: WorkQueue,
    _shared: Arc<Shared>,
    _dev: TestDevice<'static>,
    _spare: TestDevice<'static>,
    _overlay: Overlay,
}

// SAFETY: the raw pointers are the module's own workqueue and overlay, only freed.
unsafe impl Send for Stress {}
// SAFETY: shared access does nothing.
unsafe impl Sync for Stress {}

impl kernel::Module for Stress {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let page = kernel::page::PAGE_SIZE as u64;
        // The hole: pages of ours below 4 GiB; the device sees everything else there.
        let hole = Block::alloc(3, |p, n| p > DIFF_RAM && p + n < 1 << 32)?;
        let (start, end) = (hole.phys, hole.phys + hole.bytes());
        let reach = Block::alloc(2, |p, n| {
            p > DIFF_RAM && p + n < 1 << 32 && (p + n <= start || p >= end)
        })?;
        if (WORKERS as u64 + 1) * page > reach.bytes()
            || (2 * WORKERS as u64 + 1) * page > hole.bytes()
        {
            return Err(EINVAL);
        }
        let overlay = Overlay(KBox::into_raw(KBox::new(
            Rpi4Buses::apply_diff((start, end - start))?,
            GFP_KERNEL,
        )?));
        let (spare, dev) = overlay.get().diff_pair()?;
        let shared = Arc::new(
            Shared {
                dev: dev.raw(),
                windows: [
                    (DIFF_RAM - DIFF_OFFSET, DIFF_RAM, start - DIFF_RAM),
                    (end - DIFF_OFFSET, end, (1 << 32) - end),
                ],
                reach,
                hole,
                stop: Atomic::new(false),
                running: Atomic::new(0),
                c: Counters::new(),
            },
            GFP_KERNEL,
        )?;
        // SAFETY: creates a workqueue, destroyed when `WorkQueue` drops.
        let wq = WorkQueue(unsafe { ffi::xrs_stress_wq_create() });
        if wq.0.is_null() {
            return Err(ENOMEM);
        }
        let dir = DebugDir::new(c"xen_swiotlb_stress");
        let name = KBox::pin_init(
            dir.read_only_file(c"device", NameView(dev.raw())),
            GFP_KERNEL,
        )?;
        let spare_name = KBox::pin_init(
            dir.read_only_file(c"spare", NameView(spare.raw())),
            GFP_KERNEL,
        )?;
        let stats = KBox::pin_init(
            dir.read_only_file(c"stats", StatsView(shared.clone())),
            GFP_KERNEL,
        )?;
        let run = KBox::pin_init(
            dir.write_callback_file(
                c"run",
                Runner {
                    shared: shared.clone(),
                    wq: wq.0,
                },
                &run_written,
            ),
            GFP_KERNEL,
        )?;
        let settle = KBox::pin_init(
            dir.write_callback_file(c"settle", (), &settle_written),
            GFP_KERNEL,
        )?;
        pr_info!("load device {:?}\n", NameView(dev.raw()));
        Ok(Self {
            _run: run,
            _settle: settle,
            _stats: stats,
            _name: name,
            _spare_name: spare_name,
            _dir: dir,
            _wq: wq,
            _shared: shared,
            _dev: dev,
            _spare: spare,
            _overlay: overlay,
        })
    }
}
