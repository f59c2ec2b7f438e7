// SPDX-License-Identifier: GPL-2.0

//! Domain identifiers (`domid_t`, xen/include/public/xen.h): pure, built into the core
//! and on the host.

/// A Xen domain identifier: a real domain (0 to [`DomId::FIRST_RESERVED`] - 1) or one of
/// the reserved values Xen gives a meaning (`DOMID_SELF`, `DOMID_INVALID`, ...).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
#[repr(transparent)]
pub struct DomId(u16);

impl DomId {
    /// The first reserved value (`DOMID_FIRST_RESERVED`).
    pub const FIRST_RESERVED: u16 = 0x7ff0;
    /// `DOMID_SELF`: the calling domain.
    pub const SELF: Self = Self(0x7ff0);
    /// `DOMID_IO`.
    pub const IO: Self = Self(0x7ff1);
    /// `DOMID_XEN`.
    pub const XEN: Self = Self(0x7ff2);
    /// `DOMID_COW`.
    pub const COW: Self = Self(0x7ff3);
    /// `DOMID_INVALID`: no domain.
    pub const INVALID: Self = Self(0x7ff4);
    /// `DOMID_IDLE`: the idle domain, which no hypercall can target.
    pub const IDLE: Self = Self(0x7fff);
    /// Domain 0.
    pub const DOM0: Self = Self(0);

    /// The identifier `raw`, as the ABI carries it.
    pub const fn new(raw: u16) -> Self {
        Self(raw)
    }

    /// The raw value.
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// Whether this names a real domain rather than a reserved value.
    pub const fn is_domain(self) -> bool {
        self.0 < Self::FIRST_RESERVED
    }
}
