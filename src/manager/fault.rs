//! The #BR entry points: allocate a table on BNDSTATUS code 2, report a
//! bounds violation on code 1.
//!
//! Two entry points share the table-allocation path:
//! - [`MpxManager::handle_br`] is the whole #BR: it also decodes the
//!   instruction of a code-1 violation into a [`ViolationReport`] (through
//!   [`violation::classify`]) and returns a [`BrOutcome`].
//! - [`MpxManager::handle_bounds_fault`] only needs BNDSTATUS and leaves the
//!   report of a code-1 violation to the caller ([`BoundsFault::Violation`]).

use core::fmt;

use super::access::EntryAccessError;
use super::stats::Counters;
use super::MpxManager;
use crate::arch::entry::EntryState;
use crate::arch::{BndStatus, BoundsErrorCode, DirectoryEntry};
use crate::lock::{MmLock, MmWriteGuard};
use crate::mm::{AddressSpace, MmError, UserAccess};
use crate::violation::{self, BoundRegisters, DecodeError, RegisterFile, ViolationReport};

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
    /// [`crate::violation`] and signal the process (Linux: SEGV_BNDERR), or
    /// use [`MpxManager::handle_br`], which builds it.
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

impl fmt::Display for BoundsFaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BoundsFaultError::NotMpx => f.write_str("#BR not raised by MPX (BNDSTATUS code 0)"),
            BoundsFaultError::ReservedCode => f.write_str("reserved BNDSTATUS code 3"),
            BoundsFaultError::NotManaged => {
                f.write_str("bounds tables not managed for this process")
            }
            BoundsFaultError::EntryOutsideDirectory { entry } => {
                write!(f, "directory entry {entry:#x} outside the bounds directory")
            }
            BoundsFaultError::CorruptEntry { entry, value } => {
                write!(f, "corrupt bounds-directory entry {entry:#x} = {value:#x}")
            }
            BoundsFaultError::DirectoryUnreachable { entry } => {
                write!(f, "bounds-directory entry {entry:#x} not mapped")
            }
            BoundsFaultError::NoTableMemory(error) => {
                write!(f, "no memory for a bounds table: {error}")
            }
        }
    }
}

/// What a #BR turned out to be, as [`MpxManager::handle_br`] reports it.
///
/// The two table variants mean "return to the faulting instruction"; the
/// two violation variants mean "signal the process" (Linux: SIGSEGV, with
/// `si_code = SEGV_BNDERR` and the report's address and bounds when there is
/// a report). [`BrOutcome::resumes`] tells them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrOutcome {
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
    /// Code 1: a bounds violation by the decoded BNDCL/BNDCU/BNDCN. Signal
    /// the process with this report (Linux: `SEGV_BNDERR`, `si_addr`,
    /// `si_lower`, `si_upper`).
    Violation(ViolationReport),
    /// Code 1, but the bytes given are not a complete BNDCL/BNDCU/BNDCN
    /// (unreadable, truncated, rewritten by another thread, a bound register
    /// above 3...). Signal the process without bounds (Linux: plain
    /// SIGSEGV).
    UndecodableViolation(DecodeError),
}

impl BrOutcome {
    /// True if the process should simply return to the faulting
    /// instruction (a table is in place now); false if it must be
    /// signalled.
    pub const fn resumes(&self) -> bool {
        matches!(
            self,
            BrOutcome::TableInstalled { .. } | BrOutcome::AlreadyInstalled { .. }
        )
    }
}

impl fmt::Display for BrOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BrOutcome::TableInstalled { entry, table } => {
                write!(
                    f,
                    "bounds table {table:#x} installed at directory entry {entry:#x}"
                )
            }
            BrOutcome::AlreadyInstalled { entry } => {
                write!(
                    f,
                    "bounds table already installed at directory entry {entry:#x}"
                )
            }
            BrOutcome::Violation(report) => report.fmt(f),
            BrOutcome::UndecodableViolation(error) => {
                write!(f, "bounds violation at an undecodable instruction: {error}")
            }
        }
    }
}

/// [`MpxManager::handle_bounds_fault`]'s view of a [`BrOutcome`]: the
/// table outcomes as they are, any violation without its report.
impl From<BrOutcome> for BoundsFault {
    fn from(outcome: BrOutcome) -> BoundsFault {
        match outcome {
            BrOutcome::TableInstalled { entry, table } => {
                BoundsFault::TableInstalled { entry, table }
            }
            BrOutcome::AlreadyInstalled { entry } => BoundsFault::AlreadyInstalled { entry },
            BrOutcome::Violation(_) | BrOutcome::UndecodableViolation(_) => BoundsFault::Violation,
        }
    }
}

impl MpxManager {
    /// Handles a #BR given the BNDSTATUS the CPU saved.
    ///
    /// Call it from the #BR handler with **no** mm lock held; it takes the
    /// lock itself: for read only to fault a directory page in during its
    /// first look at the entry, then for write while it looks again, maps a
    /// table and installs it.
    ///
    /// A code-1 violation comes back as [`BoundsFault::Violation`] without a
    /// report; [`MpxManager::handle_br`] is the same entry point with the
    /// report built in.
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
            BoundsErrorCode::InvalidDirectoryEntry => self
                .allocate_table(lock, user, status.entry_address())
                .map(BoundsFault::from),
        }
    }

    /// Handles a whole #BR: allocates a table for code 2 and builds the
    /// violation report for code 1.
    ///
    /// - `status` is BNDSTATUS from the task's XSAVE image (component 4). An
    ///   image whose BNDCSR component is in its init state has BNDSTATUS 0:
    ///   [`BoundsFaultError::NotMpx`], as for any code-0 #BR. Code 3 gives
    ///   [`BoundsFaultError::ReservedCode`]; neither is a reason to panic,
    ///   since user space can load BNDSTATUS with XRSTOR.
    /// - `insn` is what the kernel could copy from user memory at
    ///   `regs.rip()`: up to [`violation::MAX_INSTRUCTION_LEN`] bytes, fewer
    ///   if the copy stopped at an unreadable page. It is hostile input and
    ///   only looked at for code 1, so a kernel may pass `&[]` when
    ///   [`BndStatus::code`] is not [`BoundsErrorCode::BoundRange`].
    /// - `regs` are the user registers of the trap frame and `bounds` the
    ///   task's bound registers (XSAVE component 3), both only used for
    ///   code 1.
    ///
    /// The instruction is decoded in the manager's mode (see
    /// [`MpxManager::new`]); a decoded violation is reported whether or not
    /// the kernel manages this process's tables, as in Linux. Code 2 takes
    /// the same path as [`MpxManager::handle_bounds_fault`], with the same
    /// locking: call this with **no** mm lock held.
    ///
    /// # Errors
    ///
    /// Codes 0 and 3, and every code-2 failure, as [`BoundsFaultError`];
    /// the kernel signals the process (Linux: SIGSEGV) and nothing was
    /// changed.
    pub fn handle_br<M: AddressSpace, U: UserAccess, R: RegisterFile + ?Sized>(
        &self,
        lock: &MmLock<M>,
        user: &U,
        status: BndStatus,
        insn: &[u8],
        regs: &R,
        bounds: &BoundRegisters,
    ) -> Result<BrOutcome, BoundsFaultError> {
        let mode = self.geometry.mode();
        match violation::classify(mode, status.raw(), insn, regs, bounds) {
            violation::BoundsFault::NotMpx => Err(BoundsFaultError::NotMpx),
            violation::BoundsFault::Reserved => Err(BoundsFaultError::ReservedCode),
            violation::BoundsFault::Violation(report) => Ok(BrOutcome::Violation(report)),
            violation::BoundsFault::UndecodableViolation(error) => {
                Ok(BrOutcome::UndecodableViolation(error))
            }
            // The full BNDSTATUS address, as `handle_bounds_fault` uses it:
            // in a 32-bit process, stray upper bits (only XRSTOR can put
            // them there) make the entry fall outside the directory instead
            // of being silently dropped.
            violation::BoundsFault::InvalidDirectoryEntry { .. } => {
                self.allocate_table(lock, user, status.entry_address())
            }
        }
    }

    fn allocate_table<M: AddressSpace, U: UserAccess>(
        &self,
        lock: &MmLock<M>,
        user: &U,
        entry: u64,
    ) -> Result<BrOutcome, BoundsFaultError> {
        self.check_entry(entry)?;
        let unreachable = |_: EntryAccessError| BoundsFaultError::DirectoryUnreachable { entry };
        let fault_in = |address: u64, write: bool| lock.read().fault_in(address, write);

        // Look first, without the write lock: a stale #BR or a lost race
        // needs no table, and a corrupt entry must not cost one.
        let value = self
            .read_entry(user, entry, fault_in)
            .map_err(unreachable)?;
        if let Some(done) = self.without_new_table(entry, value)? {
            return Ok(done);
        }

        let size = self.geometry.table_bytes();
        // Map and install under one write lock. Installing after dropping it
        // would let a munmap of the fresh table slip in between: the entry,
        // still 0, gives the hook nothing to clear, and the exchange would
        // then publish a table that no longer exists. The exchange itself
        // runs with page faults disabled and resolves them through
        // `fault_in` on the guard, never through the page-fault path.
        let mut mm = lock.write();
        // Management may have been switched off, or moved to another
        // directory, since the first look (both need this lock), and another
        // thread may have installed a table: look again, now authoritatively.
        self.check_entry(entry)?;
        let fault_in = |address: u64, write: bool| mm.fault_in(address, write);
        let value = self
            .read_entry(user, entry, fault_in)
            .map_err(unreachable)?;
        if let Some(done) = self.without_new_table(entry, value)? {
            // Another thread installed a table since the first look.
            Counters::bump(&self.counters.races_lost, 1);
            return Ok(done);
        }
        let table = mm
            .map_bounds_table(size, entry)
            .map_err(BoundsFaultError::NoTableMemory)?;
        // A 32-bit entry can only name a table below 4 GiB.
        let fits = table
            .checked_add(size)
            .is_some_and(|end| end <= self.geometry.address_limit());
        if !fits || table & (self.geometry.directory_entry_bytes() - 1) != 0 {
            self.drop_table(&mut mm, table);
            return Err(BoundsFaultError::NoTableMemory(MmError::NoAddressSpace));
        }

        let installed = DirectoryEntry::for_table(table).raw();
        let fault_in = |address: u64, write: bool| mm.fault_in(address, write);
        match self.exchange_entry(user, entry, 0, installed, fault_in) {
            Ok(Ok(_)) => {
                Counters::bump(&self.counters.tables_allocated, 1);
                Ok(BrOutcome::TableInstalled { entry, table })
            }
            Ok(Err(actual)) => {
                self.drop_table(&mut mm, table);
                if DirectoryEntry::from_raw(actual).is_valid() {
                    Counters::bump(&self.counters.races_lost, 1);
                    Ok(BrOutcome::AlreadyInstalled { entry })
                } else {
                    Err(BoundsFaultError::CorruptEntry {
                        entry,
                        value: actual,
                    })
                }
            }
            Err(error) => {
                self.drop_table(&mut mm, table);
                Err(unreachable(error))
            }
        }
    }

    /// Checks that management is on and `entry` is an entry of its directory.
    fn check_entry(&self, entry: u64) -> Result<(), BoundsFaultError> {
        match self.entry_in_directory(entry) {
            Some(_) => Ok(()),
            None if self.directory_base().is_none() => Err(BoundsFaultError::NotManaged),
            None => Err(BoundsFaultError::EntryOutsideDirectory { entry }),
        }
    }

    /// The outcome when the entry's current `value` needs no new table:
    /// `Some(AlreadyInstalled)` when it is valid, an error when it is
    /// corrupt, `None` when it is empty.
    fn without_new_table(
        &self,
        entry: u64,
        value: u64,
    ) -> Result<Option<BrOutcome>, BoundsFaultError> {
        match DirectoryEntry::from_raw(value).state(&self.geometry) {
            EntryState::Table(_) => Ok(Some(BrOutcome::AlreadyInstalled { entry })),
            EntryState::Corrupt(value) => Err(BoundsFaultError::CorruptEntry { entry, value }),
            EntryState::Absent => Ok(None),
        }
    }

    /// Unmaps a table this path mapped but did not install.
    fn drop_table<M: AddressSpace>(&self, mm: &mut MmWriteGuard<'_, M>, table: u64) {
        let end = table.saturating_add(self.geometry.table_bytes());
        // Nothing else can have the table: unmapping our own fresh mapping can
        // only fail if the kernel breaks its contract, and then there is
        // nothing better to do than leave it for process exit.
        let _ = mm.unmap_bounds_table(table, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::{Bndcfg, BndcfgFlags, Mode};
    use crate::mm::{AccessFault, EntryWidth, Vma, VmaKind};
    use crate::violation::{Bnd, CheckKind, Gpr, RegisterSnapshot};
    use std::collections::BTreeMap;
    use std::sync::Mutex;
    use std::vec::Vec;

    /// Where the fake directory lives, and where tables get mapped.
    const DIRECTORY: u64 = 0x1000_0000;
    const TABLES: u64 = 0x4000_0000;

    /// VMAs only: a data VMA covering the directory, plus mapped tables.
    struct FakeMm {
        vmas: Vec<Vma>,
        next_table: u64,
    }

    impl FakeMm {
        fn new(directory_bytes: u64) -> FakeMm {
            FakeMm {
                vmas: vec![Vma {
                    start: DIRECTORY,
                    end: DIRECTORY + directory_bytes,
                    kind: VmaKind::Data,
                }],
                next_table: TABLES,
            }
        }

        fn tables(&self) -> usize {
            self.vmas.iter().filter(|vma| vma.is_bounds_table()).count()
        }
    }

    impl AddressSpace for FakeMm {
        fn vma_after(&self, address: u64) -> Option<Vma> {
            self.vmas
                .iter()
                .filter(|vma| vma.end > address)
                .min_by_key(|vma| vma.start)
                .copied()
        }

        fn map_bounds_table(&mut self, len: u64, directory_entry: u64) -> Result<u64, MmError> {
            let start = self.next_table;
            self.next_table += len;
            self.vmas.push(Vma {
                start,
                end: start + len,
                kind: VmaKind::BoundsTable { directory_entry },
            });
            Ok(start)
        }

        fn unmap_bounds_table(&mut self, start: u64, end: u64) -> Result<(), MmError> {
            self.vmas
                .retain(|vma| !(vma.is_bounds_table() && vma.overlaps(start, end)));
            Ok(())
        }

        fn release_pages(&mut self, _start: u64, _end: u64) -> u64 {
            0
        }

        fn is_populated(&self, _address: u64) -> bool {
            true
        }

        fn resident_bytes(&self, _start: u64, _end: u64) -> u64 {
            0
        }

        fn fault_in(&self, _address: u64, _write: bool) -> Result<(), MmError> {
            Ok(())
        }
    }

    /// Directory entries in a map; every address in the directory is present.
    #[derive(Default)]
    struct FakeUser {
        entries: Mutex<BTreeMap<u64, u64>>,
    }

    impl UserAccess for FakeUser {
        fn read_entry(&self, address: u64, _width: EntryWidth) -> Result<u64, AccessFault> {
            Ok(*self.entries.lock().unwrap().get(&address).unwrap_or(&0))
        }

        fn compare_exchange_entry(
            &self,
            address: u64,
            _width: EntryWidth,
            current: u64,
            new: u64,
        ) -> Result<Result<u64, u64>, AccessFault> {
            let mut entries = self.entries.lock().unwrap();
            let value = entries.entry(address).or_insert(0);
            if *value == current {
                *value = new;
                Ok(Ok(current))
            } else {
                Ok(Err(*value))
            }
        }
    }

    struct Process {
        manager: MpxManager,
        lock: MmLock<FakeMm>,
        user: FakeUser,
    }

    fn process(mode: Mode, managed: bool) -> Process {
        let manager = MpxManager::new(mode);
        let lock = MmLock::new(FakeMm::new(manager.geometry().directory_bytes()), || 1);
        if managed {
            let config = Bndcfg::new(DIRECTORY, BndcfgFlags::ENABLE).unwrap();
            manager
                .enable(&mut lock.write(), config, DIRECTORY)
                .unwrap();
        }
        Process {
            manager,
            lock,
            user: FakeUser::default(),
        }
    }

    impl Process {
        fn br(
            &self,
            status: u64,
            insn: &[u8],
            regs: &RegisterSnapshot,
            bounds: &BoundRegisters,
        ) -> Result<BrOutcome, BoundsFaultError> {
            self.manager.handle_br(
                &self.lock,
                &self.user,
                BndStatus::from_raw(status),
                insn,
                regs,
                bounds,
            )
        }

        fn tables(&self) -> usize {
            self.lock.read().tables()
        }
    }

    /// User access that runs `hook` once, at the first entry read: what
    /// other threads do between the #BR path's first look and its lock.
    struct Interleaved<'a, F: FnMut()> {
        user: &'a FakeUser,
        hook: Mutex<Option<F>>,
    }

    impl<F: FnMut()> UserAccess for Interleaved<'_, F> {
        fn read_entry(&self, address: u64, width: EntryWidth) -> Result<u64, AccessFault> {
            let value = self.user.read_entry(address, width);
            if let Some(mut hook) = self.hook.lock().unwrap().take() {
                hook();
            }
            value
        }

        fn compare_exchange_entry(
            &self,
            address: u64,
            width: EntryWidth,
            current: u64,
            new: u64,
        ) -> Result<Result<u64, u64>, AccessFault> {
            self.user
                .compare_exchange_entry(address, width, current, new)
        }
    }

    #[test]
    fn code_2_looks_again_under_the_write_lock() {
        let entry = DIRECTORY + 8;
        // Management switched off between the first look and the lock: no
        // table is mapped, no entry written.
        let p = process(Mode::Long64, true);
        let user = Interleaved {
            user: &p.user,
            hook: Mutex::new(Some(|| p.manager.disable(&mut p.lock.write()))),
        };
        let status = BndStatus::from_raw(entry | 2);
        assert_eq!(
            p.manager.handle_bounds_fault(&p.lock, &user, status),
            Err(BoundsFaultError::NotManaged)
        );
        assert_eq!(p.tables(), 0);
        assert_eq!(p.user.entries.lock().unwrap().get(&entry), None);

        // Moved to another directory: the entry is no longer one of its own.
        let p = process(Mode::Long64, true);
        let other = DIRECTORY + (1 << 31);
        p.lock.write().vmas.push(Vma {
            start: other,
            end: other + (1 << 31),
            kind: VmaKind::Data,
        });
        let user = Interleaved {
            user: &p.user,
            hook: Mutex::new(Some(|| {
                let config = Bndcfg::new(other, BndcfgFlags::ENABLE).unwrap();
                p.manager
                    .enable(&mut p.lock.write(), config, other)
                    .unwrap();
            })),
        };
        assert_eq!(
            p.manager.handle_bounds_fault(&p.lock, &user, status),
            Err(BoundsFaultError::EntryOutsideDirectory { entry })
        );
        assert_eq!(p.tables(), 0);
        assert_eq!(p.user.entries.lock().unwrap().get(&entry), None);

        // Another thread installed a table meanwhile: used, none mapped.
        let p = process(Mode::Long64, true);
        let user = Interleaved {
            user: &p.user,
            hook: Mutex::new(Some(|| {
                p.user.entries.lock().unwrap().insert(entry, TABLES | 1);
            })),
        };
        assert_eq!(
            p.manager.handle_bounds_fault(&p.lock, &user, status),
            Ok(BoundsFault::AlreadyInstalled { entry })
        );
        assert_eq!(p.tables(), 0);
        assert_eq!(p.manager.statistics(&p.lock).races_lost, 1);
    }

    /// bndcu 0x10(%rax,%rbx,8), %bnd1 (F2 0F 1A 4C D8 10).
    const BNDCU: [u8; 6] = [0xF2, 0x0F, 0x1A, 0x4C, 0xD8, 0x10];

    fn registers() -> RegisterSnapshot {
        RegisterSnapshot::new([0; 16], 0x40_1000)
            .with(Gpr::RAX, 0x7000)
            .with(Gpr::RBX, 0x200)
    }

    fn bounds() -> BoundRegisters {
        BoundRegisters::new([[0; 2], [0x7000, !0x7fff], [0; 2], [0; 2]])
    }

    #[test]
    fn code_1_returns_the_report() {
        for managed in [true, false] {
            let p = process(Mode::Long64, managed);
            let outcome = p.br(1, &BNDCU, &registers(), &bounds()).unwrap();
            assert_eq!(
                outcome,
                BrOutcome::Violation(ViolationReport {
                    address: 0x7000 + 0x200 * 8 + 0x10,
                    lower: 0x7000,
                    upper: 0x7fff,
                    bound_register: Bnd::Bnd1,
                    kind: CheckKind::Upper,
                    instruction_len: 6,
                })
            );
            assert!(!outcome.resumes());
            assert_eq!(
                outcome.to_string(),
                "bounds violation: BNDCU bnd1 address 0x8010 outside [0x7000, 0x7fff] (insn 6 bytes)"
            );
            assert_eq!(p.tables(), 0);
        }
    }

    #[test]
    fn code_1_ignores_the_address_bits_of_bndstatus() {
        let p = process(Mode::Long64, true);
        let outcome = p.br(0x1000_0005, &BNDCU, &registers(), &bounds());
        assert!(matches!(outcome, Ok(BrOutcome::Violation(_))));
        assert_eq!(p.tables(), 0);
    }

    #[test]
    fn code_1_with_undecodable_bytes() {
        let p = process(Mode::Long64, true);
        let cases: [(&[u8], DecodeError); 5] = [
            (&[], DecodeError::Truncated),
            (&BNDCU[..5], DecodeError::Truncated),
            (&[0x90], DecodeError::NotABoundsCheck),
            // bndcl (%rax), "%bnd4"
            (
                &[0xF3, 0x0F, 0x1A, 0x20],
                DecodeError::BadBoundRegister { number: 4 },
            ),
            (&[0xF0, 0xF3, 0x0F, 0x1A, 0x00], DecodeError::LockPrefix),
        ];
        for (insn, error) in cases {
            let outcome = p.br(1, insn, &registers(), &bounds()).unwrap();
            assert_eq!(
                outcome,
                BrOutcome::UndecodableViolation(error),
                "{insn:02x?}"
            );
            assert!(!outcome.resumes());
        }
        assert_eq!(p.tables(), 0);
    }

    #[test]
    fn decodes_in_the_managers_mode() {
        // 48 is a REX.W prefix in 64-bit mode and DEC EAX in 32-bit mode.
        let insn = [0xF2, 0x48, 0x0F, 0x1A, 0x00];
        let regs = RegisterSnapshot::default().with(Gpr::RAX, 0x1_0000_9000);
        let p = process(Mode::Long64, true);
        let outcome = p.br(1, &insn, &regs, &bounds()).unwrap();
        assert!(matches!(
            outcome,
            BrOutcome::Violation(ViolationReport {
                address: 0x1_0000_9000,
                ..
            })
        ));
        let p = process(Mode::Compat32, true);
        assert_eq!(
            p.br(1, &insn, &regs, &bounds()),
            Ok(BrOutcome::UndecodableViolation(
                DecodeError::NotABoundsCheck
            ))
        );
        // Without the 48, a 32-bit process reports the low halves only.
        let outcome = p.br(1, &[0xF2, 0x0F, 0x1A, 0x00], &regs, &bounds());
        assert!(matches!(
            outcome,
            Ok(BrOutcome::Violation(ViolationReport {
                address: 0x9000,
                ..
            }))
        ));
    }

    #[test]
    fn codes_0_and_3_are_errors_whatever_the_bytes() {
        let p = process(Mode::Long64, true);
        for status in [0, 0x1000_0000, !3] {
            assert_eq!(
                p.br(status, &BNDCU, &registers(), &bounds()),
                Err(BoundsFaultError::NotMpx)
            );
        }
        for status in [3, 0x1000_0003, u64::MAX] {
            assert_eq!(
                p.br(status, &BNDCU, &registers(), &bounds()),
                Err(BoundsFaultError::ReservedCode)
            );
        }
        assert_eq!(p.tables(), 0);
    }

    #[test]
    fn code_2_installs_a_table_once() {
        let p = process(Mode::Long64, true);
        let entry = DIRECTORY + 8 * 5;
        // The instruction bytes and registers play no part in code 2.
        let outcome = p.br(entry | 2, &[], &registers(), &bounds()).unwrap();
        assert_eq!(
            outcome,
            BrOutcome::TableInstalled {
                entry,
                table: TABLES
            }
        );
        assert!(outcome.resumes());
        assert_eq!(
            p.user.entries.lock().unwrap().get(&entry),
            Some(&(TABLES | 1))
        );
        let again = p.br(entry | 2, &BNDCU, &registers(), &bounds()).unwrap();
        assert_eq!(again, BrOutcome::AlreadyInstalled { entry });
        assert!(again.resumes());
        assert_eq!(p.tables(), 1);
        // The BNDSTATUS-only entry point sees the same state.
        assert_eq!(
            p.manager
                .handle_bounds_fault(&p.lock, &p.user, BndStatus::from_raw(entry | 2)),
            Ok(BoundsFault::AlreadyInstalled { entry })
        );
    }

    #[test]
    fn code_2_errors_are_the_same_as_handle_bounds_fault() {
        let unmanaged = process(Mode::Long64, false);
        assert_eq!(
            unmanaged.br(DIRECTORY | 2, &BNDCU, &registers(), &bounds()),
            Err(BoundsFaultError::NotManaged)
        );
        let p = process(Mode::Long64, true);
        let outside = DIRECTORY - 8;
        assert_eq!(
            p.br(outside | 2, &[], &registers(), &bounds()),
            Err(BoundsFaultError::EntryOutsideDirectory { entry: outside })
        );
        p.user.entries.lock().unwrap().insert(DIRECTORY, 0x5000);
        assert_eq!(
            p.br(DIRECTORY | 2, &[], &registers(), &bounds()),
            Err(BoundsFaultError::CorruptEntry {
                entry: DIRECTORY,
                value: 0x5000
            })
        );
        // A 32-bit process: stray upper BNDSTATUS bits are not dropped.
        let p = process(Mode::Compat32, true);
        let status = (1 << 40) | DIRECTORY | 2;
        assert_eq!(
            p.br(status, &[], &registers(), &bounds()),
            Err(BoundsFaultError::EntryOutsideDirectory { entry: status & !3 })
        );
        assert_eq!(
            p.manager
                .handle_bounds_fault(&p.lock, &p.user, BndStatus::from_raw(status)),
            Err(BoundsFaultError::EntryOutsideDirectory { entry: status & !3 })
        );
        assert_eq!(p.tables(), 0);
    }

    #[test]
    fn handle_bounds_fault_still_leaves_the_report_to_the_caller() {
        let p = process(Mode::Long64, true);
        assert_eq!(
            p.manager
                .handle_bounds_fault(&p.lock, &p.user, BndStatus::from_raw(1)),
            Ok(BoundsFault::Violation)
        );
    }

    #[test]
    fn messages() {
        assert_eq!(
            BoundsFaultError::CorruptEntry {
                entry: 0x10,
                value: 0x5000
            }
            .to_string(),
            "corrupt bounds-directory entry 0x10 = 0x5000"
        );
        assert_eq!(
            BrOutcome::UndecodableViolation(DecodeError::Truncated).to_string(),
            "bounds violation at an undecodable instruction: instruction bytes end early"
        );
        assert_eq!(
            BrOutcome::TableInstalled {
                entry: 0x1000,
                table: 0x40_0000
            }
            .to_string(),
            "bounds table 0x400000 installed at directory entry 0x1000"
        );
    }
}
