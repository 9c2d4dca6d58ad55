//! Directory-entry access with the fault-then-retry loop.
//!
//! [`UserAccess`] runs with page faults disabled. When an access faults, the
//! page is made present with
//! [`AddressSpace::fault_in`](crate::mm::AddressSpace::fault_in) (under
//! whatever mm lock the caller holds or takes) and the access is retried. A
//! page can be taken away again between the fault-in and the retry (reclaim
//! on another CPU), so the loop is bounded: after [`MAX_ATTEMPTS`] faults the
//! access fails instead of spinning forever.

use super::stats::Counters;
use super::MpxManager;
use crate::mm::{EntryWidth, MmError, UserAccess};

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

impl MpxManager {
    fn width(&self) -> EntryWidth {
        match self.geometry.directory_entry_bytes() {
            4 => EntryWidth::Four,
            _ => EntryWidth::Eight,
        }
    }

    /// Reads the directory entry at `address`, resolving faults with `fault_in`.
    pub(crate) fn read_entry<U: UserAccess>(
        &self,
        user: &U,
        address: u64,
        mut fault_in: impl FnMut(u64, bool) -> Result<(), MmError>,
    ) -> Result<u64, EntryAccessError> {
        for _ in 0..MAX_ATTEMPTS {
            match user.read_entry(address, self.width()) {
                Ok(value) => {
                    Counters::bump(&self.counters.entries_read, 1);
                    return Ok(value);
                }
                Err(_) => {
                    fault_in(address, false).map_err(EntryAccessError::Unmapped)?;
                    Counters::bump(&self.counters.faults_resolved, 1);
                }
            }
        }
        Err(EntryAccessError::KeepsFaulting)
    }

    /// Compare-exchanges the directory entry at `address`, resolving faults
    /// with `fault_in`. `Ok(Err(actual))` means the entry held `actual`.
    pub(crate) fn exchange_entry<U: UserAccess>(
        &self,
        user: &U,
        address: u64,
        current: u64,
        new: u64,
        mut fault_in: impl FnMut(u64, bool) -> Result<(), MmError>,
    ) -> Result<Result<u64, u64>, EntryAccessError> {
        for _ in 0..MAX_ATTEMPTS {
            match user.compare_exchange_entry(address, self.width(), current, new) {
                Ok(result) => return Ok(result),
                Err(_) => {
                    fault_in(address, true).map_err(EntryAccessError::Unmapped)?;
                    Counters::bump(&self.counters.faults_resolved, 1);
                }
            }
        }
        Err(EntryAccessError::KeepsFaulting)
    }
}
