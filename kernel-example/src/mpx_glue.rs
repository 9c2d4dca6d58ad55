//! The `mpx` crate wiring: everything a kernel author copies, and the only module that
//! calls the crate's manager.
//!
//! 1. The traits, as thin calls into the kernel's own mm code: [`AddressSpace`] and
//!    [`Residency`] for [`Mm`], [`UserAccess`] for [`UserMemory`], [`RegisterFile`]
//!    for the [`TrapFrame`].
//! 2. [`ProcessMm`]: a process's mm behind the lock its [`MpxManager`] owns, with one
//!    method per event: the page fault, the kernel's own mapping, `munmap`, the
//!    enable and disable calls, the `#BR`, statistics and teardown.
//!
//! Everything here is what a kernel decides once; the rest of this kernel (processes,
//! system calls, scenarios) calls these methods and never the crate's manager.

use crate::arch::trap::TrapFrame;
use crate::arch::xsave::XsaveArea;
use crate::mm::layout::PAGE;
use crate::mm::space::{Access, At, MapRequest, Mm};
use crate::mm::user::UserMemory;
use crate::mm::vma::{Backing, Prot, VmaName};
use crate::quirk;
use mpx::arch::{BndStatus, Bndcfg, BrCause, EntryWidth, Mode};
use mpx::lock::{FaultLockError, MmReadGuard};
use mpx::manager::{AllocError, EnableError, MpxManager, Statistics, UnmapError, UnmapSummary};
use mpx::mm::{
    AccessFault, AddressSpace, MmError, Residency, TableMappings, UserAccess, Vma, VmaKind,
};
use mpx::violation::MAX_INSTRUCTION_LEN;
use mpx::violation::{build_report, DecodeError, Gpr, RegisterFile, ViolationReport};

// --- 1. The traits ------------------------------------------------------------------

impl AddressSpace for Mm {
    fn vma_after(&self, address: u64) -> Option<Vma> {
        Mm::vma_after(self, address)
    }

    /// Counters the VMA tree keeps on every change: O(1) statistics.
    fn table_mappings(&self) -> Option<TableMappings> {
        Some(self.vmas().table_mappings())
    }

    fn map_bounds_table(&mut self, len: u64, directory_entry: u64) -> Result<u64, MmError> {
        self.map(MapRequest {
            at: At::Anywhere,
            len,
            kind: VmaKind::BoundsTable { directory_entry },
            backing: Backing::Anonymous,
            prot: Prot::READ | Prot::WRITE,
            name: VmaName::None,
        })
    }

    fn unmap_bounds_table(&mut self, start: u64, end: u64) -> Result<(), MmError> {
        self.unmap(start, end, |v| v.vma.is_bounds_table());
        Ok(())
    }

    fn release_pages(&mut self, start: u64, end: u64) -> u64 {
        self.release(start, end)
    }

    fn is_populated(&self, address: u64) -> bool {
        Mm::is_populated(self, address)
    }

    fn next_populated_page(&self, start: u64, end: u64) -> Option<u64> {
        self.next_populated(start, end)
    }

    fn fault_in(&self, address: u64, write: bool) -> Result<(), MmError> {
        self.populate(address, if write { Access::Write } else { Access::Read })
    }
}

impl Residency for Mm {
    fn resident_bytes(&self, start: u64, end: u64) -> u64 {
        Mm::resident_bytes(self, start, end)
    }
}

impl UserAccess for UserMemory {
    fn read_entry(&self, address: u64, width: EntryWidth) -> Result<u64, AccessFault> {
        self.atomic_load(address, width.bytes())
            .map_err(|address| AccessFault { address })
    }

    /// One page-table walk for the group (the unmap hook reads the directory in
    /// chunks and skips the all-zero ones).
    fn read_entries(
        &self,
        address: u64,
        width: EntryWidth,
        out: &mut [u64],
    ) -> Result<(), AccessFault> {
        self.atomic_load_many(address, width.bytes(), out)
            .map_err(|address| AccessFault { address })
    }

    fn compare_exchange_entry(
        &self,
        address: u64,
        width: EntryWidth,
        current: u64,
        new: u64,
    ) -> Result<Result<u64, u64>, AccessFault> {
        self.atomic_compare_exchange(address, width.bytes(), current, new)
            .map_err(|address| AccessFault { address })
    }
}

impl RegisterFile for TrapFrame {
    fn gpr(&self, reg: Gpr) -> u64 {
        [
            self.rax, self.rcx, self.rdx, self.rbx, self.rsp, self.rbp, self.rsi, self.rdi,
            self.r8, self.r9, self.r10, self.r11, self.r12, self.r13, self.r14, self.r15,
        ][reg.index()]
    }

    fn rip(&self) -> u64 {
        self.rip
    }
}

// --- 2. One process's mm ------------------------------------------------------------

/// The mm lock's notion of "who runs": one CPU, and the write lock is never held
/// across a switch, so a constant will do (see `mpx::lock::ContextId`).
fn context_id() -> u64 {
    0
}

/// How often the page-fault path retries an mm lock held for write by another
/// context. This kernel runs one CPU and takes no fault while it holds the lock, so a
/// held lock is always a bug, and waiting would not help.
const FAULT_LOCK_SPINS: usize = 0;

/// BNDCFGU flags: EN | BNDPRESERVE (the native programs ask for both).
pub const BNDCFG_FLAGS: u64 = 0b11;

/// What the `#BR` handler must do with the process.
#[derive(Clone, Copy, Debug)]
pub enum BrVerdict {
    /// A table is in place now: return to the faulting instruction.
    Resume,
    /// A bound violation: SIGSEGV / SEGV_BNDERR with this report.
    Violation(ViolationReport),
    /// A bound violation at bytes that do not decode (`len` of them were readable):
    /// a plain SIGSEGV.
    Undecodable {
        /// Why.
        error: DecodeError,
        /// Instruction bytes the kernel could copy.
        len: usize,
    },
    /// Not handled (no table could be installed, or not an MPX #BR): SIGSEGV.
    Refused(BrRefusal),
}

/// Why a `#BR` was not handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrRefusal {
    /// Code 0 or 3.
    Cause(BrCause),
    /// Code 2, and the crate could not install a table.
    Alloc(AllocError),
}

impl core::fmt::Display for BrRefusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            BrRefusal::Cause(cause) => cause.fmt(f),
            BrRefusal::Alloc(error) => error.fmt(f),
        }
    }
}

/// Why the page-fault path could not make a page present.
#[derive(Clone, Copy, Debug)]
pub enum PageFaultError {
    /// No VMA allows the access: SIGSEGV.
    NotAllowed,
    /// No frame for the page (or its page table): the process cannot go on.
    OutOfMemory,
    /// The mm lock was not available (a kernel bug on this single-CPU kernel).
    Lock(FaultLockError),
}

/// Why `mpx_enable` was refused.
#[derive(Clone, Copy, Debug)]
pub enum EnableRefusal {
    /// This CPU cannot be pointed at exactly that directory (misaligned, or bits the
    /// encoding of QEMU's bug A drops).
    CannotEncode,
    /// The crate refused the configuration.
    Crate(EnableError),
}

/// A process's mm: its [`Mm`] behind the mm lock, owned by the process's
/// [`MpxManager`].
#[derive(Debug)]
pub struct ProcessMm(MpxManager<Mm>);

impl ProcessMm {
    /// Wraps a fresh address space of a 64-bit process; management off.
    pub fn new(mm: Mm) -> ProcessMm {
        ProcessMm(MpxManager::new(mm, Mode::Long64, context_id))
    }

    /// The mm for reading (not from the page-fault path).
    pub fn read(&self) -> MmReadGuard<'_, Mm> {
        self.0.lock().read()
    }

    /// Runs `change` on the mm under the write lock: the kernel's own changes that
    /// take nothing away (a new mapping).
    pub fn with_write<R>(&self, change: impl FnOnce(&mut Mm) -> R) -> R {
        change(&mut self.0.write())
    }

    /// The page-fault path: makes `address` present, taking the mm lock for read the
    /// way that never waits on the faulting context's own write lock.
    pub fn page_fault(&self, address: u64, access: Access) -> Result<(), PageFaultError> {
        let mm = self
            .0
            .lock()
            .read_for_fault(FAULT_LOCK_SPINS)
            .map_err(PageFaultError::Lock)?;
        mm.populate(address, access).map_err(|e| match e {
            MmError::NoMemory => PageFaultError::OutOfMemory,
            _ => PageFaultError::NotAllowed,
        })
    }

    /// `munmap(start, end - start)`: the crate's hook, our removal, the hook's result.
    pub fn munmap(
        &self,
        user: &UserMemory,
        start: u64,
        end: u64,
    ) -> Result<UnmapSummary, UnmapError> {
        self.0
            .write()
            .munmap(user, start, end, |mm, a, b| mm.unmap(a, b, |_| true))
    }

    /// `mpx_enable(directory)` (Linux: `PR_MPX_ENABLE_MANAGEMENT`): encodes BNDCFGU
    /// (`directory` with `flags`, EN and BNDPRESERVE) for this CPU (QEMU's bug A),
    /// hands the crate the *effective* base, and on success puts BNDCFGU into the
    /// task's saved state (loaded on the way back to ring 3). Returns the BNDCFGU value.
    pub fn enable(
        &self,
        xsave: &mut XsaveArea,
        directory: u64,
        flags: u64,
    ) -> Result<u64, EnableRefusal> {
        let decoding = quirk::decoding();
        let cfg = quirk::encode_bndcfg(decoding, directory, flags & BNDCFG_FLAGS);
        let effective = quirk::effective_base(decoding, quirk::CpuMode::Long64, cfg);
        // A directory this CPU cannot be pointed at exactly is refused rather than
        // silently moved.
        if !directory.is_multiple_of(PAGE) || effective != directory {
            return Err(EnableRefusal::CannotEncode);
        }
        self.0
            .write()
            .enable(Bndcfg::from_raw(cfg), effective)
            .map_err(EnableRefusal::Crate)?;
        // In the saved state: loaded on the way back to ring 3.
        xsave.set_bndcfgu(cfg);
        Ok(cfg)
    }

    /// `mpx_disable()` (Linux: `PR_MPX_DISABLE_MANAGEMENT`).
    pub fn disable(&self) {
        self.0.write().disable();
    }

    /// Whether the kernel manages this process's tables now.
    pub fn is_managed(&self) -> bool {
        self.0.directory_base().is_some()
    }

    /// The crate's statistics.
    pub fn statistics(&self) -> Statistics {
        self.0.statistics()
    }

    /// Bytes of table mappings backed by frames (walks the table VMAs).
    pub fn resident_table_bytes(&self) -> u64 {
        self.0.resident_table_bytes()
    }

    /// The `#BR` handler's work, with no lock held: save BNDSTATUS and the bound
    /// registers (XSAVE components 4 and 3), decode the cause once, then install a
    /// table (code 2) or build the violation report (code 1) from one bounded copy of
    /// the instruction at RIP.
    pub fn bound_range(
        &self,
        user: &UserMemory,
        xsave: &mut XsaveArea,
        frame: &TrapFrame,
    ) -> BrVerdict {
        // (The trap entry saved BNDSTATUS and the bound registers into `xsave`.)
        let status: BndStatus = xsave.bndstatus();
        match status.cause() {
            BrCause::MissingTable { entry } => match self.0.allocate_table(user, entry) {
                Ok(_) => BrVerdict::Resume,
                Err(error) => BrVerdict::Refused(BrRefusal::Alloc(error)),
            },
            BrCause::Violation => {
                // Only a violation needs the instruction: one copy of up to 15 bytes,
                // stopping at an unreadable page.
                let mut insn = [0u8; MAX_INSTRUCTION_LEN];
                let len = user.copy_prefix(frame.rip, &mut insn);
                let mode = self.0.geometry().mode();
                match build_report(mode, &insn[..len], frame, &xsave.bound_registers()) {
                    Ok(report) => BrVerdict::Violation(report),
                    Err(error) => BrVerdict::Undecodable { error, len },
                }
            }
            cause @ (BrCause::NotMpx | BrCause::Reserved) => {
                BrVerdict::Refused(BrRefusal::Cause(cause))
            }
        }
    }

    /// Unmaps everything at process end: the crate's teardown (management ends, no
    /// hook, the tables go with the rest and count as freed); the final statistics.
    pub fn teardown(&self) -> Statistics {
        self.0
            .write()
            .teardown(|mm, start, end| mm.unmap(start, end, |_| true))
    }
}
