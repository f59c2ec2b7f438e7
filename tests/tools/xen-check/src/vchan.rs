// SPDX-License-Identifier: GPL-2.0

//! The two ends of a data transfer through Xen's own `vchan-socket-proxy`
//! (libxenvchan), which tests/xl-test.sh runs between a DomU (server: its pages shared
//! through the DomU's `/dev/xen/gntalloc`) and Dom0 (client: the DomU's pages mapped
//! through Dom0's `/dev/xen/gntdev`). Each proxy speaks to one of these over a UNIX
//! socket:
//!
//! - `vchan-serve SOCKET [BYTES]` (in the DomU): listens on SOCKET, which the server proxy
//!   connects to when the Dom0 client arrives; reads BYTES, then writes BYTES of its
//!   own, then waits for the proxy to close the socket (the vchan closed). Prints
//!   `XRS-DOMU: vchan: ...` on the DomU's console.
//! - `vchan-client SOCKET [BYTES]` (in Dom0): connects to SOCKET, on which the client
//!   proxy listens; writes BYTES, then reads BYTES, then closes. Prints `XRS-VCHAN: ...`.
//!
//! The directions take turns, so that neither proxy closes the vchan while data is
//! still in its ring (vchan-socket-proxy drops what is left there when the other side
//! closes). Each side knows the pattern the other sends (a xorshift stream of a seed of
//! its own) and checks it, and prints the CRC-32 of what it sent and received: the
//! verdict matches one side's "sent" with the other's "received".

use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::time::{Duration, Instant};

/// BYTES when not given: both ends must agree.
pub const DEFAULT_BYTES: usize = 1 << 20;

/// The seed of the bytes Dom0 sends.
const DOM0_SEED: u64 = 0x0d0d_0000_5eed_0001;
/// The seed of the bytes the DomU sends.
const DOMU_SEED: u64 = 0xd0d0_0000_5eed_0002;

/// A xorshift64 stream, one byte of each step.
struct Pattern(u64);

impl Pattern {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *b = self.0 as u8;
        }
    }
}

/// CRC-32 (IEEE 802.3, reflected), bit by bit: the data are small.
struct Crc(u32);

impl Crc {
    fn new() -> Self {
        Crc(!0)
    }

    fn update(&mut self, data: &[u8]) {
        for &b in data {
            self.0 ^= u32::from(b);
            for _ in 0..8 {
                self.0 = (self.0 >> 1) ^ (0xedb8_8320 & (self.0 & 1).wrapping_neg());
            }
        }
    }

    fn value(&self) -> u32 {
        !self.0
    }
}

/// Writes `n` bytes of the pattern of `seed`; returns their CRC-32.
fn send(s: &mut UnixStream, seed: u64, n: usize) -> std::io::Result<u32> {
    let (mut pat, mut crc, mut buf) = (Pattern(seed), Crc::new(), vec![0u8; 4096]);
    let mut left = n;
    while left > 0 {
        let k = left.min(buf.len());
        pat.fill(&mut buf[..k]);
        crc.update(&buf[..k]);
        s.write_all(&buf[..k])?;
        left -= k;
    }
    Ok(crc.value())
}

/// What `receive` got.
struct Received {
    bytes: usize,
    crc: u32,
    /// The offset of the first byte that is not the pattern, if any.
    first_bad: Option<usize>,
}

/// Reads `n` bytes (fewer if the stream ends first) and checks them against the pattern
/// of `seed`.
fn receive(s: &mut UnixStream, seed: u64, n: usize) -> std::io::Result<Received> {
    let (mut pat, mut crc) = (Pattern(seed), Crc::new());
    let (mut buf, mut want) = (vec![0u8; 4096], vec![0u8; 4096]);
    let mut r = Received {
        bytes: 0,
        crc: 0,
        first_bad: None,
    };
    while r.bytes < n {
        let k = s.read(&mut buf[..(n - r.bytes).min(4096)])?;
        if k == 0 {
            break;
        }
        pat.fill(&mut want[..k]);
        crc.update(&buf[..k]);
        if r.first_bad.is_none() {
            r.first_bad = (0..k).find(|&i| buf[i] != want[i]).map(|i| r.bytes + i);
        }
        r.bytes += k;
    }
    r.crc = crc.value();
    Ok(r)
}

fn verdict(r: &Received, n: usize) -> String {
    match r.first_bad {
        _ if r.bytes != n => format!("SHORT by {} bytes", n - r.bytes),
        Some(at) => format!("BAD from byte {at}"),
        None => "pattern ok".into(),
    }
}

/// The DomU's end: see the module's documentation. Returns whether all went well.
pub fn serve(path: &str, n: usize) -> bool {
    let _ = std::fs::remove_file(path);
    let listener = match UnixListener::bind(path) {
        Ok(l) => l,
        Err(e) => {
            println!("XRS-DOMU: vchan: bad: bind {path}: {e}");
            return false;
        }
    };
    println!("XRS-DOMU: vchan: listening on {path}");
    let (mut s, _) = match listener.accept() {
        Ok(c) => c,
        Err(e) => {
            println!("XRS-DOMU: vchan: bad: accept: {e}");
            return false;
        }
    };
    let t0 = Instant::now();
    let result = (|| -> std::io::Result<bool> {
        let got = receive(&mut s, DOM0_SEED, n)?;
        let sent = send(&mut s, DOMU_SEED, n)?;
        // The proxy closes the socket when Dom0 closes the vchan: that is the unmap
        // notification of Dom0's gntdev, or libxenvchan's own close, reaching the DomU.
        s.set_read_timeout(Some(Duration::from_secs(60)))?;
        let mut rest = [0u8; 64];
        let closed = match s.read(&mut rest) {
            Ok(0) => "the vchan closed".to_string(),
            Ok(k) => format!("bad: {k} more bytes"),
            Err(e) if e.kind() == ErrorKind::WouldBlock => "bad: not closed in 60 s".into(),
            Err(e) => format!("bad: {e}"),
        };
        println!(
            "XRS-DOMU: vchan: received {} bytes crc32 {:08x} {}; sent {n} bytes crc32 {sent:08x}; \
             {closed} ({} ms)",
            got.bytes,
            got.crc,
            verdict(&got, n),
            t0.elapsed().as_millis()
        );
        Ok(got.bytes == n && got.first_bad.is_none() && !closed.starts_with("bad"))
    })();
    match result {
        Ok(ok) => ok,
        Err(e) => {
            println!("XRS-DOMU: vchan: bad: {e}");
            false
        }
    }
}

/// Dom0's end: see the module's documentation. Returns whether all went well.
pub fn client(path: &str, n: usize) -> bool {
    // The proxy may still be starting: it listens once its arguments are parsed.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut s = loop {
        match UnixStream::connect(path) {
            Ok(s) => break s,
            Err(e) if Instant::now() > deadline => {
                println!("XRS-VCHAN: bad: connect {path}: {e}");
                return false;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    };
    let t0 = Instant::now();
    let result = (|| -> std::io::Result<bool> {
        s.set_read_timeout(Some(Duration::from_secs(120)))?;
        let sent = send(&mut s, DOM0_SEED, n)?;
        let got = receive(&mut s, DOMU_SEED, n)?;
        let ms = t0.elapsed().as_millis().max(1);
        println!(
            "XRS-VCHAN: sent {n} bytes crc32 {sent:08x}; received {} bytes crc32 {:08x} {} \
             ({ms} ms, {} KiB/s both ways)",
            got.bytes,
            got.crc,
            verdict(&got, n),
            (2 * n as u128 * 1000 / ms) / 1024
        );
        Ok(got.bytes == n && got.first_bad.is_none())
    })();
    match result {
        Ok(ok) => ok,
        Err(e) => {
            println!("XRS-VCHAN: bad: {e}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_of_the_check_string() {
        let mut c = Crc::new();
        c.update(b"123456789");
        assert_eq!(c.value(), 0xcbf4_3926);
    }

    #[test]
    fn the_two_patterns_differ() {
        let (mut a, mut b) = ([0u8; 64], [0u8; 64]);
        Pattern(DOM0_SEED).fill(&mut a);
        Pattern(DOMU_SEED).fill(&mut b);
        assert_ne!(a, b);
    }
}
