//! #BR code 2: allocate a table for an empty directory entry and install it.
//!
//! The #BR handler decodes BNDSTATUS once
//! ([`BndStatus::cause`](crate::arch::BndStatus::cause)); a
//! [`BrCause::MissingTable`](crate::arch::BrCause::MissingTable) comes here,
//! to [`MpxManager::allocate_table`], which needs only the entry address and
//! the user access. (A code-1 violation needs neither the lock nor the
//! manager: [`build_report`](crate::violation::build_report).)

use core::fmt;

use super::access::{Entries, EntryAccessError};
use super::stats::Counters;
use super::MpxManager;
use crate::arch::entry::EntryState;
use crate::arch::{BndStatus, BrCause, DirectoryEntry};
use crate::mm::{AddressSpace, MmError, UserAccess};
use crate::trace::{Trace, TraceEvent};
use crate::violation::{build_report, BoundRegisters, DecodeError, RegisterFile, ViolationReport};

/// A handled #BR code 2: in both cases the process returns to the faulting
/// instruction, which now finds a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allocation {
    /// A new table was mapped and installed.
    Installed {
        /// Address of the directory entry.
        entry: u64,
        /// Address of the new table.
        table: u64,
    },
    /// The entry is already valid (another thread won the race, or the #BR
    /// is stale): nothing was mapped.
    AlreadyInstalled {
        /// Address of the directory entry.
        entry: u64,
    },
}

impl fmt::Display for Allocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Allocation::Installed { entry, table } => write!(
                f,
                "bounds table {table:#x} installed at directory entry {entry:#x}"
            ),
            Allocation::AlreadyInstalled { entry } => write!(
                f,
                "bounds table already installed at directory entry {entry:#x}"
            ),
        }
    }
}

/// Why a #BR code 2 could not be handled; the kernel signals the process
/// (Linux: SIGSEGV), and the process's memory is as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AllocError {
    /// The kernel is not managing this process's tables.
    NotManaged,
    /// The entry address is outside the recorded directory (or misaligned).
    EntryOutsideDirectory {
        /// The address BNDSTATUS named.
        entry: u64,
    },
    /// The entry covers addresses above user space (a bound store with a
    /// pointer slot in the kernel half): no munmap could ever free a table for
    /// it, so none is made. (Linux allocated one, freed only at exit.)
    EntryAboveUserSpace {
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
    /// The process is at its table limit
    /// ([`MpxManager::set_table_limit`]); freeing tables lifts it.
    TableLimit {
        /// Address of the directory entry.
        entry: u64,
        /// The limit, in tables.
        limit: u64,
    },
    /// A table this path mapped but did not install (the race was lost, or
    /// the entry was corrupt) could not be unmapped: the kernel's
    /// `unmap_bounds_table` broke its contract. Counted in
    /// [`Statistics::table_unmap_failures`](super::Statistics::table_unmap_failures);
    /// the table stays mapped until the process ends.
    TableNotUnmapped {
        /// Address of the table.
        table: u64,
        /// The kernel's error.
        error: MmError,
    },
}

impl fmt::Display for AllocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllocError::NotManaged => f.write_str("bounds tables not managed for this process"),
            AllocError::EntryOutsideDirectory { entry } => {
                write!(f, "directory entry {entry:#x} outside the bounds directory")
            }
            AllocError::EntryAboveUserSpace { entry } => write!(
                f,
                "directory entry {entry:#x} covers addresses above user space"
            ),
            AllocError::CorruptEntry { entry, value } => {
                write!(f, "corrupt bounds-directory entry {entry:#x} = {value:#x}")
            }
            AllocError::DirectoryUnreachable { entry } => {
                write!(f, "bounds-directory entry {entry:#x} not mapped")
            }
            AllocError::NoTableMemory(error) => {
                write!(f, "no memory for a bounds table: {error}")
            }
            AllocError::TableLimit { entry, limit } => write!(
                f,
                "bounds table for entry {entry:#x} refused: at the limit of {limit} tables"
            ),
            AllocError::TableNotUnmapped { table, error } => {
                write!(f, "unused bounds table {table:#x} not unmapped: {error}")
            }
        }
    }
}

impl<M: AddressSpace, T: Trace> MpxManager<M, T> {
    /// Handles a #BR with BNDSTATUS code 2 for the directory entry at `entry`
    /// ([`BrCause::MissingTable`]): maps a
    /// table and installs it, or finds one installed already.
    ///
    /// Call it from the #BR handler with **no** mm lock held; it takes the
    /// lock for write, checks that management is on and the entry is in the
    /// directory, maps a table and installs it with one compare-exchange
    /// `0 → table|1`, which is also the look at the entry: a valid entry
    /// there (another thread won, or the #BR is stale) or a corrupt one
    /// makes it unmap its table again. On success the process returns to the
    /// faulting instruction.
    ///
    /// # Errors
    /// [`AllocError`]; the kernel signals the process (Linux: SIGSEGV).
    pub fn allocate_table<U: UserAccess>(
        &self,
        user: &U,
        entry: u64,
    ) -> Result<Allocation, AllocError> {
        // Not managing (or not this directory): no lock needed to refuse.
        self.check_entry(entry)?;
        let unreachable = |_: EntryAccessError| AllocError::DirectoryUnreachable { entry };
        let entries = Entries::new(
            user,
            self.geometry.entry_width(),
            &self.counters,
            &self.trace,
        );
        let size = self.geometry.table_bytes();

        // Map and install under one write lock. Installing after dropping it
        // would let a munmap of the fresh table slip in between: the entry,
        // still 0, gives the hook nothing to clear, and the exchange would
        // then publish a table that no longer exists. The exchange runs with
        // page faults disabled and resolves them through `fault_in` on the
        // guard, never through the page-fault path.
        let mut mm = self.lock.write();
        // Management may have been switched off, or moved to another
        // directory, since the look above (both need this lock).
        self.check_entry(entry)?;
        // Before failing for want of a table: fine if none is needed (a stale
        // #BR, a lost race), so look at the entry; `fail` when it is empty.
        let without_a_table = |mm: &M, fail: AllocError| {
            let value = entries.read(mm, entry).map_err(unreachable)?;
            self.without_new_table(entry, value)?.ok_or(fail)
        };
        if let Some(limit) = self.table_limit() {
            let mapped = self.table_mappings_of(&mm).bytes;
            if mapped.saturating_add(size) > limit.saturating_mul(size) {
                let refused = without_a_table(&mm, AllocError::TableLimit { entry, limit });
                if matches!(refused, Err(AllocError::TableLimit { .. })) {
                    Counters::bump(&self.counters.limit_refusals, 1);
                    self.emit(TraceEvent::LimitReached { entry, limit });
                }
                return refused;
            }
        }
        let table = match mm.map_bounds_table(size, entry) {
            Ok(table) => table,
            Err(error) => return without_a_table(&mm, AllocError::NoTableMemory(error)),
        };
        // A 32-bit entry can only name a table below 4 GiB; a 64-bit table
        // belongs below the window the directory describes (a kernel that
        // placed one above broke the `check_mapping` contract).
        let fits = table
            .checked_add(size)
            .is_some_and(|end| end <= self.geometry.user_limit());
        if !fits || table & (self.geometry.directory_entry_bytes() - 1) != 0 {
            self.drop_table(&mut mm, table)?;
            return Err(AllocError::NoTableMemory(MmError::NoAddressSpace));
        }

        let installed = DirectoryEntry::for_table(table).raw();
        match entries.exchange(&*mm, entry, 0, installed) {
            Ok(Ok(_)) => {
                Counters::bump(&self.counters.tables_allocated, 1);
                self.emit(TraceEvent::NewTable { entry, table });
                Ok(Allocation::Installed { entry, table })
            }
            Ok(Err(actual)) => {
                self.drop_table(&mut mm, table)?;
                if DirectoryEntry::from_raw(actual).is_valid() {
                    Counters::bump(&self.counters.races_lost, 1);
                    self.emit(TraceEvent::RaceLost { entry });
                    Ok(Allocation::AlreadyInstalled { entry })
                } else {
                    self.emit(TraceEvent::CorruptEntry {
                        entry,
                        value: actual,
                    });
                    Err(AllocError::CorruptEntry {
                        entry,
                        value: actual,
                    })
                }
            }
            Err(error) => {
                self.drop_table(&mut mm, table)?;
                Err(unreachable(error))
            }
        }
    }

    /// Checks that management is on, `entry` is an entry of its directory,
    /// and it covers user addresses.
    fn check_entry(&self, entry: u64) -> Result<(), AllocError> {
        match self.entry_in_directory(entry) {
            Some(base) => {
                let index = self.geometry.index_of_entry_offset(entry - base);
                if self.geometry.span_start(index) >= self.geometry.user_limit() {
                    return Err(AllocError::EntryAboveUserSpace { entry });
                }
                Ok(())
            }
            None if self.directory_base().is_none() => Err(AllocError::NotManaged),
            None => Err(AllocError::EntryOutsideDirectory { entry }),
        }
    }

    /// The outcome when the entry's current `value` needs no new table:
    /// `Some(AlreadyInstalled)` when it is valid, an error when it is
    /// corrupt, `None` when it is empty.
    /// A valid entry counts as a lost race (a stale #BR), as it does at the
    /// exchange.
    fn without_new_table(&self, entry: u64, value: u64) -> Result<Option<Allocation>, AllocError> {
        match DirectoryEntry::from_raw(value).state(&self.geometry) {
            EntryState::Table(_) => {
                Counters::bump(&self.counters.races_lost, 1);
                self.emit(TraceEvent::RaceLost { entry });
                Ok(Some(Allocation::AlreadyInstalled { entry }))
            }
            EntryState::Corrupt(value) => {
                self.emit(TraceEvent::CorruptEntry { entry, value });
                Err(AllocError::CorruptEntry { entry, value })
            }
            EntryState::Absent => Ok(None),
        }
    }

    /// The #BR handler's first step, traced: BNDSTATUS decoded once
    /// ([`BndStatus::cause`]), with a
    /// [`TraceEvent::BoundsException`] carrying `bndcfgu` (the process's
    /// BNDCFGU) and the raw status (Linux: `bounds_exception_mpx`). A kernel
    /// that does not trace can call `status.cause()` itself.
    pub fn bounds_exception(&self, bndcfgu: u64, status: BndStatus) -> BrCause {
        self.emit(TraceEvent::BoundsException {
            bndcfgu,
            bndstatus: status.raw(),
        });
        status.cause()
    }

    /// [`build_report`] for this process's mode, traced: a
    /// [`TraceEvent::BoundsRegisterException`] with the report's address and
    /// bounds (Linux: `mpx_bounds_register_exception`). No lock is taken.
    ///
    /// # Errors
    /// [`DecodeError`], as [`build_report`] (no event then).
    pub fn report_violation<R: RegisterFile + ?Sized>(
        &self,
        insn: &[u8],
        regs: &R,
        bounds: &BoundRegisters,
    ) -> Result<ViolationReport, DecodeError> {
        let report = build_report(self.geometry.mode(), insn, regs, bounds)?;
        self.emit(TraceEvent::BoundsRegisterException {
            address: report.address,
            lower: report.lower,
            upper: report.upper,
        });
        Ok(report)
    }

    /// Unmaps a table this path mapped but did not install. Nothing else can
    /// have the table, so this fails only if the kernel breaks its contract:
    /// then the failure is counted and returned, and the table stays mapped
    /// (tagged, so the statistics still see it) until the process ends.
    fn drop_table(&self, mm: &mut M, table: u64) -> Result<(), AllocError> {
        let end = table.saturating_add(self.geometry.table_bytes());
        mm.unmap_bounds_table(table, end).map_err(|error| {
            Counters::bump(&self.counters.table_unmap_failures, 1);
            AllocError::TableNotUnmapped { table, error }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::{BndStatus, Bndcfg, BndcfgFlags, BrCause, EntryWidth, Mode};
    use crate::mm::{AccessFault, Vma, VmaKind};
    use crate::violation::{
        build_report, Bnd, BoundRegisters, CheckKind, DecodeError, Gpr, RegisterSnapshot,
        ViolationReport,
    };
    use std::collections::BTreeMap;
    use std::string::ToString;
    use std::sync::Mutex;
    use std::vec;
    use std::vec::Vec;

    /// Where the fake directory lives, and where tables get mapped.
    const DIRECTORY: u64 = 0x1000_0000;
    const TABLES: u64 = 0xA000_0000;

    /// VMAs only: a data VMA covering the directory, plus mapped tables.
    struct FakeMm {
        vmas: Vec<Vma>,
        next_table: u64,
        /// `unmap_bounds_table` fails (a kernel breaking its contract).
        refuse_unmap: bool,
        /// `map_bounds_table` fails (no memory).
        refuse_map: bool,
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
                refuse_unmap: false,
                refuse_map: false,
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
            if self.refuse_map {
                return Err(MmError::NoMemory);
            }
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
            if self.refuse_unmap {
                return Err(MmError::Invalid);
            }
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
        manager: MpxManager<FakeMm>,
        user: FakeUser,
    }

    fn process(mode: Mode, managed: bool) -> Process {
        let geometry = crate::arch::Geometry::of(mode);
        let manager = MpxManager::new(FakeMm::new(geometry.directory_bytes()), mode, || 1);
        if managed {
            let config = Bndcfg::new(DIRECTORY, BndcfgFlags::ENABLE).unwrap();
            manager.write().enable(config, DIRECTORY).unwrap();
        }
        Process {
            manager,
            user: FakeUser::default(),
        }
    }

    /// What a kernel's #BR handler makes of a #BR, as the README wires it.
    #[derive(Debug, PartialEq, Eq)]
    enum Handled {
        /// Code 2 handled: return to the instruction.
        Table(Allocation),
        /// Code 1: SIGSEGV / SEGV_BNDERR with the report.
        Violation(ViolationReport),
        /// Code 1, undecodable: plain SIGSEGV.
        Undecodable(DecodeError),
    }

    /// Why the handler signals without a report.
    #[derive(Debug, PartialEq, Eq)]
    enum Refused {
        NotMpx,
        Reserved,
        Alloc(AllocError),
    }

    impl Process {
        fn br(
            &self,
            status: u64,
            insn: &[u8],
            regs: &RegisterSnapshot,
            bounds: &BoundRegisters,
        ) -> Result<Handled, Refused> {
            self.br_with(&self.user, status, insn, regs, bounds)
        }

        fn br_with(
            &self,
            user: &impl UserAccess,
            status: u64,
            insn: &[u8],
            regs: &RegisterSnapshot,
            bounds: &BoundRegisters,
        ) -> Result<Handled, Refused> {
            match BndStatus::from_raw(status).cause() {
                BrCause::NotMpx => Err(Refused::NotMpx),
                BrCause::Reserved => Err(Refused::Reserved),
                BrCause::MissingTable { entry } => self
                    .manager
                    .allocate_table(user, entry)
                    .map(Handled::Table)
                    .map_err(Refused::Alloc),
                BrCause::Violation => {
                    let mode = self.manager.geometry().mode();
                    Ok(match build_report(mode, insn, regs, bounds) {
                        Ok(report) => Handled::Violation(report),
                        Err(error) => Handled::Undecodable(error),
                    })
                }
            }
        }

        fn tables(&self) -> usize {
            self.manager.lock().read().tables()
        }
    }

    #[test]
    fn code_2_decides_by_the_exchange_under_the_write_lock() {
        // (Management switched off or moved between the #BR and the lock is
        // the loom model `br_against_disable_and_enable_of_another_directory`.)
        let entry = DIRECTORY + 8;
        // A stale #BR (another thread installed a table): our table is
        // mapped, loses the exchange and goes again.
        let p = process(Mode::Long64, true);
        p.user
            .entries
            .lock()
            .unwrap()
            .insert(entry, 0x7000_0000 | 1);
        assert_eq!(
            p.manager.allocate_table(&p.user, entry),
            Ok(Allocation::AlreadyInstalled { entry })
        );
        assert_eq!(p.tables(), 0);
        let s = p.manager.statistics();
        assert_eq!((s.races_lost, s.tables_allocated), (1, 0));

        // The same with no memory for a table: still handled, by a look at
        // the entry once the mapping failed.
        let p = process(Mode::Long64, true);
        p.manager.write().refuse_map = true;
        p.user
            .entries
            .lock()
            .unwrap()
            .insert(entry, 0x7000_0000 | 1);
        assert_eq!(
            p.manager.allocate_table(&p.user, entry),
            Ok(Allocation::AlreadyInstalled { entry })
        );
        // An empty entry and no memory: the mapping's error.
        let empty = entry + 8;
        assert_eq!(
            p.manager.allocate_table(&p.user, empty),
            Err(AllocError::NoTableMemory(MmError::NoMemory))
        );
        // A corrupt entry and no memory: the corruption.
        p.user.entries.lock().unwrap().insert(empty, 0x5000);
        assert_eq!(
            p.manager.allocate_table(&p.user, empty),
            Err(AllocError::CorruptEntry {
                entry: empty,
                value: 0x5000
            })
        );
        assert_eq!(p.tables(), 0);
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
            let Handled::Violation(report) = outcome else {
                panic!("{outcome:?}");
            };
            assert_eq!(
                report,
                ViolationReport {
                    address: 0x7000 + 0x200 * 8 + 0x10,
                    lower: 0x7000,
                    upper: 0x7fff,
                    bound_register: Bnd::Bnd1,
                    kind: CheckKind::Upper,
                    instruction_len: 6,
                }
            );
            assert_eq!(
                report.to_string(),
                "bounds violation: BNDCU bnd1 address 0x8010 outside [0x7000, 0x7fff] (insn 6 bytes)"
            );
            assert_eq!(p.tables(), 0);
        }
    }

    #[test]
    fn code_1_ignores_the_address_bits_of_bndstatus() {
        let p = process(Mode::Long64, true);
        let outcome = p.br(0x1000_0005, &BNDCU, &registers(), &bounds());
        assert!(matches!(outcome, Ok(Handled::Violation(_))));
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
            assert_eq!(outcome, Handled::Undecodable(error), "{insn:02x?}");
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
            Handled::Violation(ViolationReport {
                address: 0x1_0000_9000,
                ..
            })
        ));
        let p = process(Mode::Compat32, true);
        assert_eq!(
            p.br(1, &insn, &regs, &bounds()),
            Ok(Handled::Undecodable(DecodeError::NotABoundsCheck))
        );
        // Without the 48, a 32-bit process reports the low halves only.
        let outcome = p.br(1, &[0xF2, 0x0F, 0x1A, 0x00], &regs, &bounds());
        assert!(matches!(
            outcome,
            Ok(Handled::Violation(ViolationReport {
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
                Err(Refused::NotMpx)
            );
        }
        for status in [3, 0x1000_0003, u64::MAX] {
            assert_eq!(
                p.br(status, &BNDCU, &registers(), &bounds()),
                Err(Refused::Reserved)
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
            Handled::Table(Allocation::Installed {
                entry,
                table: TABLES
            })
        );
        assert_eq!(
            p.user.entries.lock().unwrap().get(&entry),
            Some(&(TABLES | 1))
        );
        let again = p.br(entry | 2, &BNDCU, &registers(), &bounds()).unwrap();
        assert_eq!(
            again,
            Handled::Table(Allocation::AlreadyInstalled { entry })
        );
        assert_eq!(p.tables(), 1);
        // The allocation alone sees the same state.
        assert_eq!(
            p.manager.allocate_table(&p.user, entry),
            Ok(Allocation::AlreadyInstalled { entry })
        );
    }

    #[test]
    fn code_2_errors() {
        let unmanaged = process(Mode::Long64, false);
        assert_eq!(
            unmanaged.br(DIRECTORY | 2, &BNDCU, &registers(), &bounds()),
            Err(Refused::Alloc(AllocError::NotManaged))
        );
        let p = process(Mode::Long64, true);
        let outside = DIRECTORY - 8;
        assert_eq!(
            p.br(outside | 2, &[], &registers(), &bounds()),
            Err(Refused::Alloc(AllocError::EntryOutsideDirectory {
                entry: outside
            }))
        );
        p.user.entries.lock().unwrap().insert(DIRECTORY, 0x5000);
        assert_eq!(
            p.br(DIRECTORY | 2, &[], &registers(), &bounds()),
            Err(Refused::Alloc(AllocError::CorruptEntry {
                entry: DIRECTORY,
                value: 0x5000
            }))
        );
        assert_eq!(p.tables(), 0);
    }

    /// Regression (0.1 decoded BNDSTATUS twice for a 32-bit process: once
    /// masked to 32 bits, once not): the entry the cause names is the entry
    /// the allocation checks, stray upper bits and all.
    #[test]
    fn compat32_stray_upper_bndstatus_bits_are_not_dropped() {
        let p = process(Mode::Compat32, true);
        let status = (1 << 40) | DIRECTORY | 2;
        let cause = BndStatus::from_raw(status).cause();
        assert_eq!(cause, BrCause::MissingTable { entry: status & !3 });
        assert_eq!(
            p.br(status, &[], &registers(), &bounds()),
            Err(Refused::Alloc(AllocError::EntryOutsideDirectory {
                entry: status & !3
            }))
        );
        // The same entry without the stray bit is the directory's own.
        assert!(matches!(
            p.br(DIRECTORY | 2, &[], &registers(), &bounds()),
            Ok(Handled::Table(Allocation::Installed { .. }))
        ));
        assert_eq!(p.tables(), 1);
    }

    #[test]
    fn a_table_the_kernel_cannot_unmap_is_counted_and_returned() {
        // Lost race (a valid entry lands before the exchange), then the
        // kernel's unmap of our unused table fails.
        let entry = DIRECTORY + 16;
        let p = process(Mode::Long64, true);
        p.manager.write().refuse_unmap = true;
        struct RaceAtExchange<'a>(&'a FakeUser);
        impl UserAccess for RaceAtExchange<'_> {
            fn read_entry(&self, address: u64, width: EntryWidth) -> Result<u64, AccessFault> {
                self.0.read_entry(address, width)
            }
            fn compare_exchange_entry(
                &self,
                address: u64,
                width: EntryWidth,
                current: u64,
                new: u64,
            ) -> Result<Result<u64, u64>, AccessFault> {
                self.0.entries.lock().unwrap().insert(address, 0x9000_0001);
                self.0.compare_exchange_entry(address, width, current, new)
            }
        }
        assert_eq!(
            p.manager.allocate_table(&RaceAtExchange(&p.user), entry),
            Err(AllocError::TableNotUnmapped {
                table: TABLES,
                error: MmError::Invalid
            })
        );
        let stats = p.manager.statistics();
        assert_eq!(stats.table_unmap_failures, 1);
        assert_eq!(stats.live_tables, 1, "the table stays, still counted");
        assert_eq!(stats.tables_allocated, 0);
    }

    #[test]
    fn messages() {
        assert_eq!(
            AllocError::CorruptEntry {
                entry: 0x10,
                value: 0x5000
            }
            .to_string(),
            "corrupt bounds-directory entry 0x10 = 0x5000"
        );
        assert_eq!(
            Allocation::Installed {
                entry: 0x1000,
                table: 0x40_0000
            }
            .to_string(),
            "bounds table 0x400000 installed at directory entry 0x1000"
        );
        assert_eq!(
            DecodeError::Truncated.to_string(),
            "instruction bytes end early"
        );
    }
}
