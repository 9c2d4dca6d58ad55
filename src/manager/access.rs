//! Directory-entry access with the fault-then-retry loop, as one small type.
//!
//! [`UserAccess`] runs with page faults disabled. When an access faults, the
//! page is made present with [`AddressSpace::fault_in`] (under the mm lock
//! the caller holds) and the access is retried. A
//! page can be taken away again between the fault-in and the retry (reclaim
//! on another CPU), so the loop is bounded: after [`MAX_ATTEMPTS`] faults the
//! access fails instead of spinning forever.

use super::stats::Counters;
use crate::arch::EntryWidth;
use crate::mm::{AddressSpace, MmError, UserAccess};
use crate::trace::{Trace, TraceEvent};

/// Accesses tried before an entry access is given up.
pub(crate) const MAX_ATTEMPTS: usize = 8;

/// Why an entry access failed for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EntryAccessError {
    /// `fault_in` refused: the directory page is not mapped (or not writable).
    Unmapped(MmError),
    /// Faulted [`MAX_ATTEMPTS`] times in a row.
    KeepsFaulting,
}

/// The directory entries of one process, as one operation sees them: the
/// kernel's user access, the entry width, the counters to bump and the
/// tracer.
pub(crate) struct Entries<'a, U, T> {
    user: &'a U,
    width: EntryWidth,
    counters: &'a Counters,
    trace: &'a T,
}

impl<'a, U: UserAccess, T: Trace> Entries<'a, U, T> {
    pub(crate) fn new(
        user: &'a U,
        width: EntryWidth,
        counters: &'a Counters,
        trace: &'a T,
    ) -> Self {
        Entries {
            user,
            width,
            counters,
            trace,
        }
    }

    /// Reads the directory entry at `address`, resolving faults with `faults`.
    pub(crate) fn read(
        &self,
        faults: &(impl AddressSpace + ?Sized),
        address: u64,
    ) -> Result<u64, EntryAccessError> {
        for _ in 0..MAX_ATTEMPTS {
            match self.user.read_entry(address, self.width) {
                Ok(value) => {
                    Counters::bump(&self.counters.entries_read, 1);
                    return Ok(value);
                }
                Err(_) => self.resolve(faults, address, false)?,
            }
        }
        Err(EntryAccessError::KeepsFaulting)
    }

    /// Reads `out.len()` consecutive entries from `address` (within one page)
    /// with one bulk access, resolving faults with `faults`.
    pub(crate) fn read_many(
        &self,
        faults: &(impl AddressSpace + ?Sized),
        address: u64,
        out: &mut [u64],
    ) -> Result<(), EntryAccessError> {
        for _ in 0..MAX_ATTEMPTS {
            match self.user.read_entries(address, self.width, out) {
                Ok(()) => {
                    Counters::bump(&self.counters.entries_read, out.len() as u64);
                    return Ok(());
                }
                Err(_) => self.resolve(faults, address, false)?,
            }
        }
        Err(EntryAccessError::KeepsFaulting)
    }

    /// Compare-exchanges the directory entry at `address`, resolving faults
    /// with `faults`. `Ok(Err(actual))` means the entry held `actual`.
    pub(crate) fn exchange(
        &self,
        faults: &(impl AddressSpace + ?Sized),
        address: u64,
        current: u64,
        new: u64,
    ) -> Result<Result<u64, u64>, EntryAccessError> {
        for _ in 0..MAX_ATTEMPTS {
            match self
                .user
                .compare_exchange_entry(address, self.width, current, new)
            {
                Ok(result) => return Ok(result),
                Err(_) => self.resolve(faults, address, true)?,
            }
        }
        Err(EntryAccessError::KeepsFaulting)
    }

    fn resolve(
        &self,
        faults: &(impl AddressSpace + ?Sized),
        address: u64,
        write: bool,
    ) -> Result<(), EntryAccessError> {
        faults
            .fault_in(address, write)
            .map_err(EntryAccessError::Unmapped)?;
        Counters::bump(&self.counters.faults_resolved, 1);
        self.trace.event(TraceEvent::FaultResolved { address });
        Ok(())
    }
}
