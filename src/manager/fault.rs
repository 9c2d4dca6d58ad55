//! The #BR entry point: allocate a table on BNDSTATUS code 2.

use super::access::EntryAccessError;
use super::stats::Counters;
use super::MpxManager;
use crate::arch::entry::EntryState;
use crate::arch::{BndStatus, BoundsErrorCode, DirectoryEntry};
use crate::lock::MmLock;
use crate::mm::{AddressSpace, MmError, UserAccess};

/// What a #BR turned out to be, when the process may carry on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoundsFault {
    /// Code 2: a new table was installed; return to the faulting instruction.
    TableInstalled {
        /// Address of the directory entry.
        entry: u64,
        /// Address of the new table.
        table: u64,
    },
    /// Code 2, but the entry is already valid (another thread won the race,
    /// or the #BR is stale); return to the faulting instruction.
    AlreadyInstalled {
        /// Address of the directory entry.
        entry: u64,
    },
    /// Code 1: a real bounds violation. Build the report with
    /// [`crate::violation`] and signal the process (Linux: SEGV_BNDERR).
    Violation,
}

/// Why a #BR could not be handled; the kernel signals the process
/// (Linux: SIGSEGV), and the process's memory is as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoundsFaultError {
    /// Code 0: the #BR did not come from MPX.
    NotMpx,
    /// Code 3: reserved (only a user-crafted BNDSTATUS has it).
    ReservedCode,
    /// Code 2, but the kernel is not managing this process's tables.
    NotManaged,
    /// Code 2 with an entry address outside the recorded directory (or misaligned).
    EntryOutsideDirectory {
        /// The address BNDSTATUS named.
        entry: u64,
    },
    /// The entry holds a value the kernel never writes (address bits without
    /// the valid bit).
    CorruptEntry {
        /// Address of the directory entry.
        entry: u64,
        /// Its value.
        value: u64,
    },
    /// The directory page cannot be made present.
    DirectoryUnreachable {
        /// Address of the directory entry.
        entry: u64,
    },
    /// No memory or address space for a table.
    NoTableMemory(MmError),
}

impl MpxManager {
    /// Handles a #BR given the BNDSTATUS the CPU saved.
    ///
    /// Call it from the #BR handler with **no** mm lock held; it takes the
    /// lock itself, for write only while mapping or unmapping a table.
    pub fn handle_bounds_fault<M: AddressSpace, U: UserAccess>(
        &self,
        lock: &MmLock<M>,
        user: &U,
        status: BndStatus,
    ) -> Result<BoundsFault, BoundsFaultError> {
        match status.code() {
            BoundsErrorCode::NotMpx => Err(BoundsFaultError::NotMpx),
            BoundsErrorCode::Reserved => Err(BoundsFaultError::ReservedCode),
            BoundsErrorCode::BoundRange => Ok(BoundsFault::Violation),
            BoundsErrorCode::InvalidDirectoryEntry => {
                self.allocate_table(lock, user, status.entry_address())
            }
        }
    }

    fn allocate_table<M: AddressSpace, U: UserAccess>(
        &self,
        lock: &MmLock<M>,
        user: &U,
        entry: u64,
    ) -> Result<BoundsFault, BoundsFaultError> {
        if self.directory_base().is_none() {
            return Err(BoundsFaultError::NotManaged);
        }
        if self.entry_in_directory(entry).is_none() {
            return Err(BoundsFaultError::EntryOutsideDirectory { entry });
        }
        let unreachable = |_: EntryAccessError| BoundsFaultError::DirectoryUnreachable { entry };
        let fault_in = |address: u64, write: bool| lock.read().fault_in(address, write);

        // Look first: a stale #BR or a lost race needs no table, and a corrupt
        // entry must not cost one.
        let value = self
            .read_entry(user, entry, fault_in)
            .map_err(unreachable)?;
        match DirectoryEntry::from_raw(value).state(&self.geometry) {
            EntryState::Table(_) => return Ok(BoundsFault::AlreadyInstalled { entry }),
            EntryState::Corrupt(value) => {
                return Err(BoundsFaultError::CorruptEntry { entry, value })
            }
            EntryState::Absent => {}
        }

        let size = self.geometry.table_bytes();
        let table = lock
            .write()
            .map_bounds_table(size, entry)
            .map_err(BoundsFaultError::NoTableMemory)?;
        // A 32-bit entry can only name a table below 4 GiB.
        let fits = table
            .checked_add(size)
            .is_some_and(|end| end <= self.geometry.address_limit());
        if !fits || table & (self.geometry.directory_entry_bytes() - 1) != 0 {
            self.drop_table(lock, table);
            return Err(BoundsFaultError::NoTableMemory(MmError::NoAddressSpace));
        }

        let installed = DirectoryEntry::for_table(table).raw();
        match self.exchange_entry(user, entry, 0, installed, fault_in) {
            Ok(Ok(_)) => {
                Counters::bump(&self.counters.tables_allocated, 1);
                Ok(BoundsFault::TableInstalled { entry, table })
            }
            Ok(Err(actual)) => {
                self.drop_table(lock, table);
                if DirectoryEntry::from_raw(actual).is_valid() {
                    Counters::bump(&self.counters.races_lost, 1);
                    Ok(BoundsFault::AlreadyInstalled { entry })
                } else {
                    Err(BoundsFaultError::CorruptEntry {
                        entry,
                        value: actual,
                    })
                }
            }
            Err(error) => {
                self.drop_table(lock, table);
                Err(unreachable(error))
            }
        }
    }

    /// Unmaps a table this path mapped but did not install.
    fn drop_table<M: AddressSpace>(&self, lock: &MmLock<M>, table: u64) {
        let end = table.saturating_add(self.geometry.table_bytes());
        // Nothing else can have the table: unmapping our own fresh mapping can
        // only fail if the kernel breaks its contract, and then there is
        // nothing better to do than leave it for process exit.
        let _ = lock.write().unmap_bounds_table(table, end);
    }
}
