//! What a kernel provides to the manager: VMAs, page tables and user access.
//!
//! Two traits, split the way the hardware splits them:
//! - [`AddressSpace`] is the process's mm state: the VMA set and its page
//!   tables. It lives inside the [`MmLock`](crate::lock::MmLock) that the
//!   [`MpxManager`](crate::manager::MpxManager) owns; the lock's guards give
//!   `&` or `&mut` access to it. [`Residency`] adds the one query only a
//!   statistic needs.
//! - [`UserAccess`] reads and compare-exchanges bounds-directory entries in
//!   user memory with page faults disabled. It never takes the mm lock, so the
//!   manager may use it while holding the lock for write.

mod space;
mod user;

pub use space::{AddressSpace, Residency, TableMappings, Vma, VmaKind};
pub use user::{AccessFault, UserAccess};

/// Why a kernel-side memory operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MmError {
    /// The address is not mapped, or mapped without the needed access.
    Fault,
    /// No physical memory (or no accounting room) left.
    NoMemory,
    /// No free virtual range of the requested size.
    NoAddressSpace,
    /// The request itself is malformed (length, alignment, range).
    Invalid,
}

impl core::fmt::Display for MmError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            MmError::Fault => "address not mapped",
            MmError::NoMemory => "out of memory",
            MmError::NoAddressSpace => "out of address space",
            MmError::Invalid => "invalid request",
        })
    }
}
