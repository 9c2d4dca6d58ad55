//! Accessing bounds-directory entries in user memory with page faults disabled.

use crate::arch::EntryWidth;
use core::fmt;

/// A user access hit a page that is not present (or not writable), or an
/// address that is not user memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessFault {
    /// The address that faulted.
    pub address: u64,
}

impl fmt::Display for AccessFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "user access at {:#x} faulted", self.address)
    }
}

/// Reads and updates directory entries in the current process's user memory.
///
/// # Contract
/// - Page faults are disabled during each access: a page that is not present
///   (or, for a write, not writable) gives `Err(AccessFault)` at once; the
///   access never enters the page-fault path and never takes the mm lock.
///   The manager then resolves the fault with
///   [`AddressSpace::fault_in`](super::AddressSpace::fault_in) and retries.
/// - An address outside user memory gives `Err(AccessFault)`; the kernel's
///   own memory is never touched, whatever address the manager passes.
/// - `address` is aligned to `width` (the manager takes the width from the
///   process's [`Geometry`](crate::arch::Geometry)); the access is a single
///   atomic operation of that width, because the CPU walks the directory and
///   user threads write it concurrently.
/// - Concurrency: the manager calls these methods from several CPUs at once
///   for one process (#BRs on different threads, an unmap under the write
///   lock), with or without the mm lock; the implementation needs no lock of
///   its own beyond what keeps the page mapped for the duration of one access.
pub trait UserAccess {
    /// Loads the entry of `width` bytes at `address` (zero-extended).
    fn read_entry(&self, address: u64, width: EntryWidth) -> Result<u64, AccessFault>;

    /// Loads `out.len()` consecutive entries of `width` bytes starting at
    /// `address`, all within one page, into `out` (zero-extended): a bulk
    /// read for the unmap hook, which skips stretches of zero entries. Each
    /// entry is read atomically, the group need not be. On a fault nothing
    /// in `out` is to be trusted.
    ///
    /// The default reads them one by one with
    /// [`read_entry`](UserAccess::read_entry); a kernel can do better with
    /// one page-table walk and one copy for the group.
    fn read_entries(
        &self,
        address: u64,
        width: EntryWidth,
        out: &mut [u64],
    ) -> Result<(), AccessFault> {
        let mut at = address;
        for slot in out.iter_mut() {
            *slot = self.read_entry(at, width)?;
            at = at.wrapping_add(width.bytes());
        }
        Ok(())
    }

    /// Atomically replaces the entry at `address` with `new` if it equals
    /// `current`. Returns `Ok(Ok(current))` on success, `Ok(Err(actual))` if
    /// the entry held `actual` instead.
    fn compare_exchange_entry(
        &self,
        address: u64,
        width: EntryWidth,
        current: u64,
        new: u64,
    ) -> Result<Result<u64, u64>, AccessFault>;
}
