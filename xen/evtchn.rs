// SPDX-License-Identifier: GPL-2.0

//! Event channels of user space that a driver signals: a reference on the port while the
//! driver holds it (`evtchn_get()`, for ports `/dev/xen/evtchn` bound), and the send.
//!
//! C header: [`include/xen/events.h`](srctree/include/xen/events.h).

use kernel::prelude::*;

use crate::bindings;

/// A reference on an event channel port, dropped with the value.
pub struct PortRef(u32);

impl PortRef {
    /// Takes a reference on `port`; `EINVAL` if the kernel has no such port that can be
    /// referenced (as C's gntdev answers).
    pub fn get(port: u32) -> Result<Self> {
        // SAFETY: a lookup of the port; any value is valid input.
        if unsafe { bindings::evtchn_get(port) } != 0 {
            return Err(EINVAL);
        }
        Ok(Self(port))
    }

    /// The port.
    pub fn port(&self) -> u32 {
        self.0
    }

    /// Signals the port's remote end (`notify_remote_via_evtchn()`).
    pub fn notify(&self) {
        let mut send = bindings::evtchn_send { port: self.0 };
        // SAFETY: one argument structure of the ABI's layout. The result is ignored as
        // C's inline does: a port closed meanwhile has no one to signal.
        let _ = unsafe {
            bindings::HYPERVISOR_event_channel_op(
                bindings::EVTCHNOP_send as i32,
                (&raw mut send).cast(),
            )
        };
    }
}

impl Drop for PortRef {
    fn drop(&mut self) {
        // SAFETY: the reference taken in `get`.
        unsafe { bindings::evtchn_put(self.0) };
    }
}
