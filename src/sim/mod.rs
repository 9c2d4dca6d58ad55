//! A simulated MPX process, so the manager runs in `cargo test` on any machine.
//!
//! [`SimProcess`] is what a kernel plus an MPX CPU look like to one process:
//! VMAs and sparse page-granular memory (`memory`), an mm lock, the
//! [`MpxManager`] wired into munmap and #BR exactly as a kernel wires it, and
//! a model of the hardware's BNDSTX/BNDLDX directory walk ([`SimProcess::bndstx`],
//! [`SimProcess::bndldx`]) that raises #BR into the manager and retries the
//! instruction. It implements the same traits a kernel does; nothing in it
//! reaches around them into the manager.
//!
//! The CPU is SDM-conforming: the effective directory base is BNDCFGU bits 63:12.
//! Errors a kernel would turn into SIGSEGV are `Err`s that leave the process
//! usable.

mod gaps;
mod inject;
mod memory;
mod space;
mod trace;

pub use inject::{FailWhen, FaultPlan};
pub use memory::SimUserAccess;
pub use space::SimAddressSpace;
pub use trace::SimTrace;

use crate::arch::layout::PAGE_SIZE;
use crate::arch::{
    BndStatus, Bndcfg, BndcfgFlags, BoundsTableEntry, BrCause, DirectoryEntry, Geometry, Mode,
};
use crate::lock::FaultLockError;
use crate::manager::{AllocError, EnableError, MpxManager, Statistics, UnmapError, UnmapSummary};
use crate::mm::{AddressSpace, MmError, VmaKind};
use core::fmt;
use memory::PageStore;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::vec::Vec;

/// Why a simulated operation failed: what a real process would see as an
/// error return or a signal. The process stays usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimError {
    /// Bad arguments (Linux: EINVAL).
    Invalid,
    /// No room for the mapping (Linux: ENOMEM).
    NoMemory,
    /// A user access touched unmapped memory (Linux: SIGSEGV).
    SegmentationFault {
        /// The faulting address.
        address: u64,
    },
    /// A #BR could not be handled (Linux: SIGSEGV).
    BoundsFault(AllocError),
    /// The unmap hook refused part of its work; the unmap itself happened
    /// (Linux: SIGSEGV after munmap).
    Unmap(UnmapError),
    /// Management could not be enabled (Linux: ENXIO / EINVAL).
    Enable(EnableError),
    /// The page-fault path found the mm lock held for write by its own
    /// thread (a deadlock the lock refused to enter).
    WouldDeadlock,
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::Invalid => f.write_str("invalid argument"),
            SimError::NoMemory => f.write_str("no room for the mapping"),
            SimError::SegmentationFault { address } => {
                write!(f, "segmentation fault at {address:#x}")
            }
            SimError::BoundsFault(e) => write!(f, "#BR not handled: {e}"),
            SimError::Unmap(e) => write!(f, "unmap hook: {e}"),
            SimError::Enable(e) => write!(f, "MPX management not enabled: {e}"),
            SimError::WouldDeadlock => {
                f.write_str("page fault under the faulting thread's own mm write lock")
            }
        }
    }
}

impl From<MmError> for SimError {
    fn from(e: MmError) -> SimError {
        match e {
            MmError::NoMemory | MmError::NoAddressSpace => SimError::NoMemory,
            _ => SimError::Invalid,
        }
    }
}

/// What stopped one execution of a simulated BNDLDX/BNDSTX.
enum Step {
    /// The page holding this address is not present.
    PageFault(u64),
    /// The directory entry is not valid: #BR with BNDSTATUS code 2.
    BoundsFault,
}

/// #BRs one instruction may raise before the simulator gives up on it (a
/// handled #BR is followed by a retry that succeeds, so 2 is the normal most).
const MAX_BR_PER_INSTRUCTION: usize = 4;

/// Page faults one execution of BNDSTX/BNDLDX may take before the simulator
/// gives up on it (the directory entry and a table entry's fields: a few are
/// normal; more only when other threads keep taking pages away).
const MAX_PAGE_FAULTS_PER_INSTRUCTION: usize = 64;

/// Spins the page-fault path waits on another thread's write lock per try.
const FAULT_LOCK_SPINS: usize = 1 << 12;

fn thread_context() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    std::thread_local! {
        static ID: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    ID.with(|id| *id)
}

/// A simulated user process on an MPX CPU under a kernel that uses [`MpxManager`].
///
/// Its threads share one manager (one per address space, as in a kernel):
/// `SimProcess` is `Send + Sync`, and every method may be called from
/// several threads at once.
#[derive(Debug)]
pub struct SimProcess {
    mpx: MpxManager<SimAddressSpace, SimTrace>,
    user: SimUserAccess,
    store: Arc<PageStore>,
    geometry: Geometry,
    /// The process's BNDCFGU.
    bndcfgu: AtomicU64,
    /// First address above user space.
    user_limit: u64,
}

impl Default for SimProcess {
    fn default() -> SimProcess {
        SimProcess::new()
    }
}

impl SimProcess {
    /// A 64-bit process with MPX off.
    pub fn new() -> SimProcess {
        SimProcess::with_mode(Mode::Long64)
    }

    /// A process of the given mode with MPX off. A 32-bit process has 4-byte
    /// directory entries, 16 KiB tables and addresses below 4 GiB.
    pub fn with_mode(mode: Mode) -> SimProcess {
        let mm = SimAddressSpace::new(mode);
        SimProcess::over(MpxManager::with_trace(
            mm,
            mode,
            thread_context,
            SimTrace::default(),
        ))
    }

    /// A 64-bit process in a 5-level-paging address space (user addresses
    /// below 2^56; see [`SimAddressSpace::with_la57`]). `confined`: the kernel
    /// keeps it below the 47-bit window while managed, so management can be
    /// enabled (unless something is mapped above the window already);
    /// otherwise enabling is refused.
    pub fn with_la57(confined: bool) -> SimProcess {
        let mm = SimAddressSpace::with_la57(confined);
        SimProcess::over(MpxManager::with_trace(
            mm,
            Mode::Long64,
            thread_context,
            SimTrace::default(),
        ))
    }

    /// The process around its manager (BNDCFGU 0).
    fn over(mpx: MpxManager<SimAddressSpace, SimTrace>) -> SimProcess {
        let (user, store, user_limit) = {
            let mm = mpx.lock().read();
            (mm.user_access(), mm.store.clone(), mm.user_limit)
        };
        let geometry = *mpx.geometry();
        SimProcess {
            mpx,
            user,
            store,
            geometry,
            bndcfgu: AtomicU64::new(0),
            user_limit,
        }
    }

    /// fork: a child with a copy of the address space (every mapping, table
    /// tags included, and all memory), the same BNDCFGU, and a manager made by
    /// [`MpxWriteGuard::fork`](crate::manager::MpxWriteGuard::fork): managing
    /// the same directory if this process does, with this table limit and a
    /// trace buffer of its own. The two then live apart.
    pub fn fork(&self) -> SimProcess {
        let child = {
            let mm = self.mpx.write();
            let copy = mm.duplicate();
            mm.fork(copy)
        };
        let child = SimProcess::over(child);
        child
            .bndcfgu
            .store(self.bndcfgu.load(Ordering::Acquire), Ordering::Release);
        child
    }

    /// exec: management ends, every mapping goes (the directory and tables
    /// with the rest), BNDCFGU is cleared (a new image starts with MPX off),
    /// and the counters start again; the table limit stays. Returns the old
    /// image's final statistics.
    pub fn exec(&self) -> Statistics {
        let old = self.mpx.write().exec(SimAddressSpace::remove);
        self.bndcfgu.store(0, Ordering::Release);
        old
    }

    /// The process's exit: management ends and everything is unmapped;
    /// the final statistics (nothing live, the books balanced). The process
    /// can still be used afterwards, as an empty one.
    pub fn teardown(&self) -> Statistics {
        let last = self.mpx.write().teardown(SimAddressSpace::remove);
        self.bndcfgu.store(0, Ordering::Release);
        last
    }

    /// Caps the process's live bounds tables (`None`: no cap); see
    /// [`MpxManager::set_table_limit`]. A #BR past it is
    /// `SimError::BoundsFault(AllocError::TableLimit { .. })`.
    pub fn set_table_limit(&self, max_tables: Option<usize>) {
        self.mpx.set_table_limit(max_tables.map(|n| n as u64));
    }

    /// Starts or stops recording the manager's trace events.
    pub fn record_trace(&self, on: bool) {
        self.mpx.trace().record(on);
    }

    /// The trace events recorded since the last call.
    pub fn take_trace(&self) -> Vec<crate::trace::TraceEvent> {
        self.mpx.trace().take()
    }

    /// The process's MPX geometry.
    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// The manager (which owns the process's mm lock), for inspection.
    pub fn manager(&self) -> &MpxManager<SimAddressSpace, SimTrace> {
        &self.mpx
    }

    /// The kernel's user access to this process's memory (what the manager
    /// is given), for tests and benchmarks that play the kernel.
    pub fn user(&self) -> &SimUserAccess {
        &self.user
    }

    /// The manager's statistics.
    pub fn stats(&self) -> Statistics {
        self.mpx.statistics()
    }

    fn check_range(&self, addr: u64, len: u64) -> Result<u64, SimError> {
        let end = addr.checked_add(len).ok_or(SimError::Invalid)?;
        if len == 0 || addr % PAGE_SIZE != 0 || end > self.user_limit {
            return Err(SimError::Invalid);
        }
        Ok(end)
    }

    /// Maps `len` bytes (rounded up to pages) of anonymous read-write memory
    /// where the simulator chooses; returns the address.
    pub fn mmap(&self, len: u64) -> Result<u64, SimError> {
        let len = round_up_len(len)?;
        Ok(self.mpx.write().map_anywhere(len)?)
    }

    /// Maps `len` bytes at `addr`, replacing whatever is there like
    /// `MAP_FIXED` (the replaced part goes through the unmap hook). If the
    /// hook had to keep a bounds table in the range (its entry could not be
    /// cleared), nothing is mapped and the hook's error is returned: the
    /// range is not free.
    pub fn mmap_fixed(&self, addr: u64, len: u64) -> Result<u64, SimError> {
        self.unmap_then(addr, len, true, |mm, end| {
            if !mm.vma_after(addr).is_some_and(|v| v.start < end) {
                mm.insert(addr, end, VmaKind::Data);
            }
        })
        .map(|_| addr)
    }

    /// The kernel's munmap: the unmap hook, then removal of `[addr, addr + len)`.
    pub fn munmap(&self, addr: u64, len: u64) -> Result<(), SimError> {
        self.munmap_summary(addr, len).map(|_| ())
    }

    /// [`SimProcess::munmap`], returning what the unmap hook did.
    pub fn munmap_summary(&self, addr: u64, len: u64) -> Result<UnmapSummary, SimError> {
        self.unmap_then(addr, len, false, |_, _| {})
    }

    /// Under one write lock: the manager's munmap of `[addr, addr + len)`
    /// (length rounded up to pages: hook, removal, result), then `then` (a
    /// MAP_FIXED mapping in its place). A hook error is reported after the
    /// unmap happened, as Linux's munmap did. For a new mapping (`mapping`),
    /// first what a managed process may map: nothing above the window the
    /// directory describes (Linux: MAP_FIXED above it is ENOMEM), refused
    /// before anything goes.
    fn unmap_then(
        &self,
        addr: u64,
        len: u64,
        mapping: bool,
        then: impl FnOnce(&mut SimAddressSpace, u64),
    ) -> Result<UnmapSummary, SimError> {
        let len = round_up_len(len)?;
        let end = self.check_range(addr, len)?;
        let mut mm = self.mpx.write();
        if mapping && mm.check_mapping(addr, end).is_err() {
            return Err(SimError::NoMemory);
        }
        let hook = mm.munmap(&self.user, addr, end, SimAddressSpace::remove);
        then(&mut mm, end);
        hook.map_err(SimError::Unmap)
    }

    /// What a user MPX runtime does at start-up (GCC's libmpx): map a
    /// directory, load BNDCFGU with it, and ask the kernel to manage tables.
    /// Returns the directory base. If the kernel refuses, MPX is switched off
    /// again, as libmpx does.
    pub fn enable_mpx(&self) -> Result<u64, SimError> {
        let base = self.mmap(self.geometry.directory_bytes())?;
        let config = Bndcfg::new(base, BndcfgFlags::ENABLE).ok_or(SimError::Invalid)?;
        self.bndcfgu.store(config.raw(), Ordering::Release);
        match self.enable_management() {
            Ok(()) => Ok(base),
            Err(e) => {
                self.bndcfgu.store(0, Ordering::Release);
                Err(e)
            }
        }
    }

    /// The prctl alone: ask the kernel to manage tables for the BNDCFGU the
    /// process has loaded.
    pub fn enable_management(&self) -> Result<(), SimError> {
        let config = Bndcfg::from_raw(self.bndcfgu.load(Ordering::Acquire));
        // This simulated CPU follows the SDM: the base is BNDCFGU[63:12].
        self.mpx
            .write()
            .enable(config, config.base())
            .map_err(SimError::Enable)
    }

    /// Loads BNDCFGU as a user XRSTOR of component 4 would.
    pub fn set_bndcfgu(&self, value: u64) {
        self.bndcfgu.store(value, Ordering::Release);
    }

    /// Stops kernel management (Linux: `PR_MPX_DISABLE_MANAGEMENT`).
    pub fn disable_mpx_management(&self) -> Result<(), SimError> {
        self.mpx.write().disable();
        Ok(())
    }

    /// BNDSTX: stores bounds `[lower, upper]` (upper inclusive) for pointer
    /// `ptr` kept at `slot`. A no-op while MPX is off.
    pub fn bndstx(&self, slot: u64, ptr: u64, lower: u64, upper: u64) -> Result<(), SimError> {
        let entry = BoundsTableEntry::new(ptr, lower, upper);
        let mut bytes = [0u8; 32];
        let len = entry.to_bytes(&self.geometry, &mut bytes);
        let offset = self.geometry.table_entry_offset(slot);
        // One store per field, as wide as the field: a table is only aligned
        // to the field width (4 bytes in a 32-bit process), so wider stores
        // could straddle a page.
        let width = self.geometry.directory_entry_bytes();
        // `None`: MPX is off and BNDSTX is a NOP.
        self.walk(slot, |table| {
            let address = table.wrapping_add(offset);
            for (i, field) in bytes[..len].chunks(width as usize).enumerate() {
                let mut raw = [0u8; 8];
                raw[..field.len()].copy_from_slice(field);
                let at = address.wrapping_add(width * i as u64);
                self.store
                    .store(at, width, u64::from_le_bytes(raw))
                    .ok_or(at)?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// BNDLDX: loads the bounds kept for pointer `ptr` at `slot` as
    /// `(lower, upper)` (upper inclusive); INIT bounds `(0, u64::MAX)` if the
    /// stored pointer differs, or while MPX is off.
    pub fn bndldx(&self, slot: u64, ptr: u64) -> Result<(u64, u64), SimError> {
        const INIT: (u64, u64) = (0, u64::MAX);
        let width = self.geometry.directory_entry_bytes();
        let offset = self.geometry.table_entry_offset(slot);
        let fields = self.walk(slot, |table| {
            let load = |field: u64| {
                let at = table.wrapping_add(offset).wrapping_add(field * width);
                self.store.load(at, width).ok_or(at)
            };
            Ok((load(0)?, load(1)?, load(2)?))
        })?;
        let Some((lower, upper_complemented, pointer)) = fields else {
            return Ok(INIT);
        };
        let mask = self.geometry.entry_width().mask();
        if pointer != ptr & mask {
            return Ok(INIT);
        }
        Ok((lower, !upper_complemented & mask))
    }

    /// Executes BNDLDX/BNDSTX for `slot`: `Ok(None)` when MPX is off
    /// (the instruction is a NOP); otherwise the directory walk, then `access`
    /// on the table it found, after as many #BRs as it takes.
    ///
    /// `access` gets the table address and returns `Err(address)` for an
    /// access that found its page not present. One execution of the
    /// instruction holds off TLB shootdowns ([`memory::PageStore::instruction`]),
    /// so a table it walked to cannot be freed and reused before it is done.
    /// A page fault (on the entry or the table) aborts the execution; the
    /// fault is handled and the instruction restarts with a fresh walk, as
    /// on a CPU.
    fn walk<R>(
        &self,
        slot: u64,
        mut access: impl FnMut(u64) -> Result<R, u64>,
    ) -> Result<Option<R>, SimError> {
        let config = Bndcfg::from_raw(self.bndcfgu.load(Ordering::Acquire));
        if !config.is_enabled() {
            return Ok(None);
        }
        let g = self.geometry;
        let entry = config.base().wrapping_add(g.directory_entry_offset(slot));
        let mut bounds_faults = 0;
        let mut page_faults = 0;
        loop {
            let step = {
                let _in_flight = self.store.instruction();
                match self.store.load(entry, g.directory_entry_bytes()) {
                    None => Step::PageFault(entry),
                    Some(value) if DirectoryEntry::from_raw(value).is_valid() => {
                        match access(value & !(g.directory_entry_bytes() - 1)) {
                            Ok(result) => return Ok(Some(result)),
                            Err(address) => Step::PageFault(address),
                        }
                    }
                    Some(_) => Step::BoundsFault,
                }
            };
            if let Step::PageFault(address) = step {
                // A handled fault makes the page present; one that keeps
                // coming back (pages taken away as fast as they are faulted
                // in) ends like an access the kernel cannot satisfy.
                if page_faults == MAX_PAGE_FAULTS_PER_INSTRUCTION {
                    return Err(SimError::SegmentationFault { address });
                }
                page_faults += 1;
                self.page_fault(address)?;
                continue;
            }
            if bounds_faults == MAX_BR_PER_INSTRUCTION {
                break;
            }
            bounds_faults += 1;
            // #BR, BNDSTATUS = entry address | 2; the handler runs as a
            // kernel's does (decode the cause, allocate), and the
            // instruction is retried.
            let status = BndStatus::from_raw(entry | 2);
            let config = self.bndcfgu.load(Ordering::Acquire);
            let BrCause::MissingTable { entry } = self.mpx.bounds_exception(config, status) else {
                unreachable!("a directory miss is BNDSTATUS code 2");
            };
            if let Err(e) = self.mpx.allocate_table(&self.user, entry) {
                return Err(SimError::BoundsFault(e));
            }
        }
        Err(SimError::BoundsFault(AllocError::DirectoryUnreachable {
            entry,
        }))
    }

    /// A plain user load (8 bytes, naturally aligned).
    pub fn read_u64(&self, addr: u64) -> Result<u64, SimError> {
        if addr % 8 != 0 {
            return Err(SimError::Invalid);
        }
        self.user_load(addr, 8)
    }

    /// A plain user store (8 bytes, naturally aligned).
    pub fn write_u64(&self, addr: u64, value: u64) -> Result<(), SimError> {
        if addr % 8 != 0 {
            return Err(SimError::Invalid);
        }
        self.user_store(addr, 8, value)
    }

    /// A user-mode access: demand-pages through the page-fault path.
    fn user_load(&self, addr: u64, width: u64) -> Result<u64, SimError> {
        loop {
            if let Some(value) = self.store.load(addr, width) {
                return Ok(value);
            }
            self.page_fault(addr)?;
        }
    }

    fn user_store(&self, addr: u64, width: u64, value: u64) -> Result<(), SimError> {
        loop {
            if self.store.store(addr, width, value).is_some() {
                return Ok(());
            }
            self.page_fault(addr)?;
        }
    }

    /// The kernel's page-fault handler: takes the mm lock for read the
    /// non-sleeping way, then populates the page if a VMA covers it.
    fn page_fault(&self, addr: u64) -> Result<(), SimError> {
        loop {
            match self.mpx.lock().read_for_fault(FAULT_LOCK_SPINS) {
                Ok(mm) => {
                    return mm
                        .fault_in(addr, true)
                        .map_err(|_| SimError::SegmentationFault { address: addr })
                }
                Err(FaultLockError::WouldDeadlock) => return Err(SimError::WouldDeadlock),
                Err(FaultLockError::Contended) => std::thread::yield_now(),
            }
        }
    }

    /// Bounds-table mappings alive (VMA pieces tagged as tables): O(1), from
    /// the address space's counters.
    pub fn live_tables(&self) -> usize {
        self.mpx.lock().read().table_counts().count as usize
    }

    /// Table bytes backed by memory.
    pub fn resident_table_bytes(&self) -> u64 {
        self.mpx.resident_table_bytes()
    }

    /// All bytes backed by memory (data, directory and tables).
    pub fn resident_bytes(&self) -> u64 {
        self.store.total_resident()
    }

    /// `(start, end, is_bounds_table)` of every VMA, sorted.
    pub fn vmas(&self) -> Vec<(u64, u64, bool)> {
        self.mpx
            .lock()
            .read()
            .list()
            .map(|v| (v.start, v.end, v.is_bounds_table()))
            .collect()
    }

    /// Fault injection: puts the page holding `addr` out of reach (content
    /// kept), as if swapped out; the next access faults it back in.
    /// Returns whether the page was populated.
    pub fn swap_out(&self, addr: u64) -> bool {
        self.store.swap_out(addr)
    }

    /// Race injection: the next table the manager maps is "beaten" by another
    /// thread that writes `value` into the same directory entry after the
    /// manager looked at it and before its compare-exchange.
    pub fn race_next_table_install(&self, value: u64) {
        self.mpx.write().race_next_install = Some(value);
    }

    /// The raw directory entry covering `slot`, read without faulting (0 if
    /// its page was never touched); `None` while not managing.
    pub fn directory_entry(&self, slot: u64) -> Option<u64> {
        let base = self.mpx.directory_base()?;
        let entry = base + self.geometry.directory_entry_offset(slot);
        let width = self.geometry.directory_entry_bytes();
        Some(self.store.peek(entry, width))
    }

    /// The 8 bytes at `addr` (naturally aligned) as memory holds them, read
    /// without faulting and without changing any page's state: 0 if the
    /// page was never touched or was released. For inspecting tables.
    pub fn peek_u64(&self, addr: u64) -> u64 {
        self.store.peek(addr & !7, 8)
    }

    /// Fault injection into the manager's directory-entry accesses (see
    /// [`FaultPlan`]); `None` stops it, and drops a race set with
    /// [`SimProcess::race_next_exchange`] that has not happened. The access
    /// count goes on.
    pub fn inject(&self, plan: Option<FaultPlan>) {
        self.user.injection.set(plan);
    }

    /// Directory-entry accesses the manager made so far (what a [`FaultPlan`]
    /// numbers).
    pub fn manager_accesses(&self) -> u64 {
        self.user.injection.count()
    }

    /// Race injection: right before the manager's next compare-exchange of the
    /// directory entry covering `slot`, another thread stores `value` there.
    pub fn race_next_exchange(&self, slot: u64, value: u64) {
        if let Some(base) = self.mpx.directory_base() {
            let entry = base + self.geometry.directory_entry_offset(slot);
            self.user.injection.race_next_exchange(entry, value);
        }
    }

    /// Checks the manager's invariant over the managed directory: every valid
    /// entry names a live bounds-table mapping of exact table size made for
    /// that entry; every table mapped for an entry of the directory is named
    /// by it, or still has data in its span (the user may have cleared the
    /// entry); and the books balance (`tables_inherited + tables_allocated =
    /// tables_freed + live_tables`, which holds unless tables were unmapped
    /// while management was off); and, managed or not, the table counters
    /// behind the O(1) statistics equal a walk of the VMAs. A description of the first violation, if any. (Entries the
    /// user wrote with garbage are not the manager's: a test that writes some
    /// must not call this.)
    pub fn check_invariant(&self) -> Result<(), std::string::String> {
        use std::format;
        {
            // The address space's table counters (what the O(1) statistics
            // read) against a walk of every VMA, managed or not.
            let mm = self.mpx.lock().read();
            let mut walked = crate::mm::TableMappings::default();
            for v in mm.list().filter(|v| v.is_bounds_table()) {
                walked.count += 1;
                walked.bytes += v.end - v.start;
            }
            if mm.table_counts() != walked {
                return Err(format!(
                    "table counters {:?}, but the VMAs hold {walked:?}",
                    mm.table_counts()
                ));
            }
        }
        let Some(base) = self.mpx.directory_base() else {
            return Ok(());
        };
        let g = self.geometry;
        let width = g.directory_entry_bytes();
        let end = base + g.directory_bytes();
        let mm = self.mpx.lock().read();
        let names = |value: u64| match DirectoryEntry::from_raw(value).state(&g) {
            crate::arch::entry::EntryState::Table(t) => Some(t),
            _ => None,
        };
        let mut page = base;
        while let Some(p) = self.store.next_populated(page, end) {
            let mut entry = p.max(base);
            while entry < (p + PAGE_SIZE).min(end) {
                if let Some(table) = names(self.store.peek(entry, width)) {
                    let whole = mm.vma_after(table).is_some_and(|v| {
                        v.start == table
                            && v.end - v.start == g.table_bytes()
                            && v.kind
                                == VmaKind::BoundsTable {
                                    directory_entry: entry,
                                }
                    });
                    if !whole {
                        return Err(format!(
                            "entry {entry:#x} names {table:#x}, which is not a whole table made for it"
                        ));
                    }
                }
                entry += width;
            }
            page = p + PAGE_SIZE;
        }
        for vma in mm.list() {
            let VmaKind::BoundsTable { directory_entry } = vma.kind else {
                continue;
            };
            if directory_entry < base || directory_entry >= end {
                continue;
            }
            let named = names(self.store.peek(directory_entry, width))
                .is_some_and(|t| vma.start >= t && vma.end <= t + g.table_bytes());
            let index = (directory_entry - base) / width;
            let span = g.span_start(index);
            let data = mm
                .list()
                .any(|v| v.kind == VmaKind::Data && v.overlaps(span, span + g.span_bytes()));
            if !named && !data {
                return Err(format!(
                    "table {:#x}..{:#x} for entry {directory_entry:#x}: neither named nor needed",
                    vma.start, vma.end
                ));
            }
        }
        drop(mm);
        let s = self.stats();
        if s.tables_inherited + s.tables_allocated != s.tables_freed + s.live_tables {
            return Err(format!(
                "books: {} inherited, {} allocated, {} freed, {} live",
                s.tables_inherited, s.tables_allocated, s.tables_freed, s.live_tables
            ));
        }
        Ok(())
    }

    /// Times the page-fault path refused to wait on its own thread's write lock.
    pub fn would_deadlock_events(&self) -> u64 {
        self.mpx.lock().would_deadlock_events()
    }
}

fn round_up_len(len: u64) -> Result<u64, SimError> {
    if len == 0 {
        return Err(SimError::Invalid);
    }
    len.checked_next_multiple_of(PAGE_SIZE)
        .ok_or(SimError::Invalid)
}
