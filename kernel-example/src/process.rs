//! User processes: the mm state behind the crate's mm lock, demand paging, and the
//! switch into and out of ring 3.
//!
//! One process runs at a time, to completion: [`run`] builds its address space, enters
//! ring 3 with `iretq` after saving the kernel's callee-saved registers, and gets control
//! back when the process exits or is killed ([`kill_current`] restores those registers
//! and returns from the entry call, abandoning the trap stack it ran on).

use crate::abi::REPORT_KEYS;
use crate::cpu::{XsaveArea, XFEATURE_BNDCSR, XFEATURE_BNDREGS};
use crate::interrupts::TrapFrame;
use crate::{frames, gdt, heap, paging};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use mpx::arch::EntryWidth;
use mpx::arch::Mode;
use mpx::manager::MpxManager;
use mpx::mm::{AccessFault, AddressSpace, MmError, Residency, UserAccess, Vma, VmaKind};
use x86_64::structures::paging::{PageTableFlags, PhysFrame};
use x86_64::PhysAddr;

const PAGE: u64 = 4096;
/// Where the ring-3 program image is mapped (linker.ld's `USER_IMAGE_VMA`).
pub const USER_IMAGE_BASE: u64 = 0x40_0000;
/// Top of the user stack.
pub const USER_STACK_TOP: u64 = 0x7000_0000_0000;
/// Size of the user stack mapping (populated on demand).
pub const USER_STACK_SIZE: u64 = 256 * 1024;
/// Lowest address `mmap` picks by itself.
pub const MMAP_BASE: u64 = 0x1000_0000_0000;

/// What backs a VMA's pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backing {
    /// Zero-filled on first touch; frames owned by the process.
    Anonymous,
    /// The program image in the kernel binary: mapped read-only, never freed.
    Image {
        /// Physical address of the VMA's first page.
        phys: u64,
    },
}

/// A VMA as the kernel keeps it: the crate's view plus what backs it.
#[derive(Clone, Copy, Debug)]
pub struct KernelVma {
    /// Range and kind, as the crate sees them.
    pub vma: Vma,
    /// What backs the pages.
    pub backing: Backing,
    /// Whether user writes are allowed.
    pub writable: bool,
}

/// A process's mm state (inside the mm lock its [`MpxManager`] owns).
pub struct Mm {
    root: PhysFrame,
    vmas: BTreeMap<u64, KernelVma>,
    table_frames: AtomicU64,
    table_frames_peak: AtomicU64,
}

/// Why [`Mm::map`] failed.
pub type MapResult = Result<u64, MmError>;

impl Mm {
    fn new() -> Option<Mm> {
        Some(Mm {
            root: paging::new_user_root()?,
            vmas: BTreeMap::new(),
            table_frames: AtomicU64::new(0),
            table_frames_peak: AtomicU64::new(0),
        })
    }

    /// The PML4 of this address space.
    pub fn root(&self) -> PhysFrame {
        self.root
    }

    /// Frames currently backing bounds-table VMAs.
    pub fn table_frames(&self) -> u64 {
        self.table_frames.load(Ordering::Relaxed)
    }

    /// The most frames that backed bounds-table VMAs at once.
    pub fn table_frames_peak(&self) -> u64 {
        self.table_frames_peak.load(Ordering::Relaxed)
    }

    /// Bounds-table VMAs (a table split by a partial user `munmap` counts per piece).
    pub fn table_vmas(&self) -> u64 {
        self.vmas
            .values()
            .filter(|v| v.vma.is_bounds_table())
            .count() as u64
    }

    /// The kernel VMA containing `address`.
    pub fn find(&self, address: u64) -> Option<KernelVma> {
        let (_, vma) = self.vmas.range(..=address).next_back()?;
        (vma.vma.end > address).then_some(*vma)
    }

    fn range_is_free(&self, start: u64, end: u64) -> bool {
        if let Some((_, before)) = self.vmas.range(..end).next_back() {
            if before.vma.end > start {
                return false;
            }
        }
        true
    }

    /// First free, page-aligned range of `len` bytes at or above [`MMAP_BASE`].
    fn find_free(&self, len: u64) -> Option<u64> {
        let mut candidate = MMAP_BASE;
        for (_, vma) in self.vmas.range(MMAP_BASE..) {
            if vma.vma.start >= candidate.checked_add(len)? {
                break;
            }
            candidate = candidate.max(vma.vma.end);
        }
        (candidate.checked_add(len)? <= paging::USER_END).then_some(candidate)
    }

    /// Maps `[start, start+len)` (or a free range if `start` is `None`).
    pub fn map(
        &mut self,
        start: Option<u64>,
        len: u64,
        kind: VmaKind,
        backing: Backing,
        writable: bool,
    ) -> MapResult {
        if len == 0 || !len.is_multiple_of(PAGE) {
            return Err(MmError::Invalid);
        }
        let start = match start {
            Some(s) => {
                let end = s.checked_add(len).ok_or(MmError::Invalid)?;
                if s % PAGE != 0 || s == 0 || end > paging::USER_END {
                    return Err(MmError::Invalid);
                }
                if !self.range_is_free(s, end) {
                    return Err(MmError::NoAddressSpace);
                }
                s
            }
            None => self.find_free(len).ok_or(MmError::NoAddressSpace)?,
        };
        let vma = Vma {
            start,
            end: start + len,
            kind,
        };
        self.vmas.insert(
            start,
            KernelVma {
                vma,
                backing,
                writable,
            },
        );
        if let Backing::Image { phys } = backing {
            for off in (0..len).step_by(PAGE as usize) {
                let frame = PhysFrame::containing_address(PhysAddr::new(phys + off));
                paging::map_user(self.root, start + off, frame, false).ok_or(MmError::NoMemory)?;
            }
        }
        Ok(start)
    }

    /// Frees the frames of present pages in `[start, end)` of `vma` (kept mapped
    /// as demand-zero). Returns the bytes freed.
    fn free_pages(&self, vma: &KernelVma, start: u64, end: u64) -> u64 {
        let mut freed = 0;
        let mut cursor = start;
        while let Some(page) = paging::next_present(self.root, cursor, end) {
            if let Some(frame) = paging::unmap_user(self.root, page) {
                if vma.backing == Backing::Anonymous {
                    frames::free(frame);
                    freed += PAGE;
                    if vma.vma.is_bounds_table() {
                        self.table_frames.fetch_sub(1, Ordering::Relaxed);
                    }
                }
            }
            cursor = page + PAGE;
        }
        freed
    }

    /// Removes every VMA part inside `[start, end)` for which `which` holds, freeing
    /// the pages. VMAs straddling the bounds are split.
    pub fn unmap(&mut self, start: u64, end: u64, which: impl Fn(&KernelVma) -> bool) {
        let keys: alloc::vec::Vec<u64> = self
            .vmas
            .range(..end)
            .filter(|(_, v)| v.vma.end > start && which(v))
            .map(|(&k, _)| k)
            .collect();
        for key in keys {
            let vma = self.vmas.remove(&key).expect("listed above");
            let (lo, hi) = (vma.vma.start.max(start), vma.vma.end.min(end));
            self.free_pages(&vma, lo, hi);
            if vma.vma.start < lo {
                let mut left = vma;
                left.vma.end = lo;
                self.vmas.insert(left.vma.start, left);
            }
            if hi < vma.vma.end {
                let mut right = vma;
                right.vma.start = hi;
                if let Backing::Image { phys } = vma.backing {
                    right.backing = Backing::Image {
                        phys: phys + (hi - vma.vma.start),
                    };
                }
                self.vmas.insert(hi, right);
            }
        }
    }

    /// Resolves a fault on `address`: makes its page present (zero-filled for
    /// anonymous memory). Fails if no VMA allows the access.
    pub fn populate(&self, address: u64, write: bool) -> Result<(), MmError> {
        let vma = self.find(address).ok_or(MmError::Fault)?;
        if write && !vma.writable {
            return Err(MmError::Fault);
        }
        let page = address & !(PAGE - 1);
        if paging::translate(self.root, page).is_some() {
            return Ok(());
        }
        match vma.backing {
            Backing::Image { .. } => Err(MmError::Fault),
            Backing::Anonymous => {
                let frame = frames::alloc().ok_or(MmError::NoMemory)?;
                if paging::map_user(self.root, page, frame, vma.writable).is_none() {
                    frames::free(frame);
                    return Err(MmError::NoMemory);
                }
                if vma.vma.is_bounds_table() {
                    let now = self.table_frames.fetch_add(1, Ordering::Relaxed) + 1;
                    self.table_frames_peak.fetch_max(now, Ordering::Relaxed);
                }
                Ok(())
            }
        }
    }

    /// Unmaps everything and frees the page tables; the mm is unusable afterwards.
    fn teardown(&mut self) {
        self.unmap(0, paging::USER_END, |_| true);
        paging::free_user_root(self.root);
    }
}

impl AddressSpace for Mm {
    fn vma_after(&self, address: u64) -> Option<Vma> {
        if let Some(vma) = self.find(address) {
            return Some(vma.vma);
        }
        self.vmas.range(address..).next().map(|(_, v)| v.vma)
    }

    fn map_bounds_table(&mut self, len: u64, directory_entry: u64) -> Result<u64, MmError> {
        self.map(
            None,
            len,
            VmaKind::BoundsTable { directory_entry },
            Backing::Anonymous,
            true,
        )
    }

    fn unmap_bounds_table(&mut self, start: u64, end: u64) -> Result<(), MmError> {
        self.unmap(start, end, |v| v.vma.is_bounds_table());
        Ok(())
    }

    fn release_pages(&mut self, start: u64, end: u64) -> u64 {
        let mut freed = 0;
        let mut cursor = start;
        while let Some(vma) = self.vma_after(cursor).filter(|v| v.start < end) {
            let kvma = self.find(vma.start).expect("just found");
            freed += self.free_pages(&kvma, vma.start.max(start), vma.end.min(end));
            cursor = vma.end;
        }
        freed
    }

    fn is_populated(&self, address: u64) -> bool {
        address < paging::USER_END && paging::translate(self.root, address).is_some()
    }

    fn next_populated_page(&self, start: u64, end: u64) -> Option<u64> {
        paging::next_present(self.root, start, end)
    }

    fn fault_in(&self, address: u64, write: bool) -> Result<(), MmError> {
        self.populate(address, write)
    }
}

impl Residency for Mm {
    fn resident_bytes(&self, start: u64, end: u64) -> u64 {
        let mut bytes = 0;
        let mut cursor = start;
        while let Some(page) = paging::next_present(self.root, cursor, end) {
            bytes += PAGE;
            cursor = page + PAGE;
        }
        bytes
    }
}

/// User memory access over the page tables, with "page faults disabled": a page that is
/// not present (or not writable, for a write) is reported, never faulted on.
#[derive(Clone, Copy, Debug)]
pub struct UserMemory {
    root: PhysFrame,
}

impl UserMemory {
    fn entry_ptr(
        &self,
        address: u64,
        width: EntryWidth,
        write: bool,
    ) -> Result<*mut u8, AccessFault> {
        let fault = AccessFault { address };
        if address >= paging::USER_END || !address.is_multiple_of(width.bytes()) {
            return Err(fault);
        }
        let (phys, flags) = paging::translate(self.root, address).ok_or(fault)?;
        if !flags.contains(PageTableFlags::USER_ACCESSIBLE)
            || (write && !flags.contains(PageTableFlags::WRITABLE))
        {
            return Err(fault);
        }
        Ok(paging::phys_to_virt(phys).as_mut_ptr())
    }
}

impl UserAccess for UserMemory {
    fn read_entry(&self, address: u64, width: EntryWidth) -> Result<u64, AccessFault> {
        let ptr = self.entry_ptr(address, width, false)?;
        // SAFETY: `ptr` is the physical-map alias of a present user page, aligned to the
        // width; the atomic access matches what the CPU and user threads do.
        Ok(unsafe {
            match width {
                EntryWidth::Four => {
                    u64::from((*ptr.cast::<core::sync::atomic::AtomicU32>()).load(Ordering::SeqCst))
                }
                EntryWidth::Eight => (*ptr.cast::<AtomicU64>()).load(Ordering::SeqCst),
            }
        })
    }

    fn compare_exchange_entry(
        &self,
        address: u64,
        width: EntryWidth,
        current: u64,
        new: u64,
    ) -> Result<Result<u64, u64>, AccessFault> {
        let ptr = self.entry_ptr(address, width, true)?;
        // SAFETY: as in `read_entry`, for a present writable user page.
        Ok(unsafe {
            match width {
                EntryWidth::Four => (*ptr.cast::<core::sync::atomic::AtomicU32>())
                    .compare_exchange(
                        current as u32,
                        new as u32,
                        Ordering::SeqCst,
                        Ordering::SeqCst,
                    )
                    .map(u64::from)
                    .map_err(u64::from),
                EntryWidth::Eight => (*ptr.cast::<AtomicU64>()).compare_exchange(
                    current,
                    new,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                ),
            }
        })
    }
}

/// Why a process was killed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillReason {
    /// A bounds violation (#BR code 1); the report was printed.
    BoundsViolation {
        /// The checked address, if the instruction could be decoded.
        address: Option<u64>,
        /// Lower bound.
        lower: Option<u64>,
        /// Upper bound (as an address, not complemented).
        upper: Option<u64>,
    },
    /// A #BR the manager could not handle (like SIGSEGV).
    BoundsError,
    /// A page fault on an address no VMA allows.
    SegmentationFault(u64),
    /// Another exception (vector).
    Exception(u64),
    /// A bad system call number.
    BadSyscall(u64),
}

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// `exit(code)`.
    Code(u64),
    /// Killed by the kernel.
    Killed(KillReason),
}

/// A process: its mm (behind the lock its MPX manager owns) and XSAVE area.
pub struct Process {
    /// Bounds-table management, owning the mm state behind the mm lock.
    pub mm: MpxManager<Mm>,
    /// Saved extended state; component 4 carries `BNDCFGU`.
    pub xsave: spin::Mutex<XsaveArea>,
    /// `mmap` system calls the kernel served for this process.
    pub mmap_calls: AtomicU64,
    /// `munmap` system calls the kernel served for this process.
    pub munmap_calls: AtomicU64,
    /// Numbers the program reported (`SYS_REPORT`), by key; `u64::MAX` = none.
    pub reports: [AtomicU64; REPORT_KEYS],
    /// Times the kernel's own bookkeeping disagreed with the manager's.
    invariant_failures: AtomicU64,
    kernel_rsp: u64,
    exit: Option<Exit>,
}

/// [`Process::reports`] value meaning "not reported".
const NOT_REPORTED: u64 = u64::MAX;

impl Process {
    /// User access to this process's memory.
    pub fn user(&self) -> UserMemory {
        UserMemory {
            root: self.mm.lock().read().root(),
        }
    }

    /// Checks the kernel's view of the bounds tables against the manager's and
    /// counts (and prints) every disagreement: one bounds-table VMA per live
    /// table, and the frames the kernel accounts to table VMAs equal to the
    /// resident table bytes the manager measures. Call without the mm lock held.
    ///
    /// While management is off, a table the user unmaps is ordinary memory to the
    /// manager and is not counted as freed, so then only "no more table VMAs than
    /// live tables" is required.
    pub fn check_table_accounting(&self, when: &str) {
        let stats = self.mm.statistics();
        let resident = self.mm.resident_table_bytes();
        let (table_vmas, table_frames) = {
            let mm = self.mm.lock().read();
            (mm.table_vmas(), mm.table_frames())
        };
        let managed = self.mm.directory_base().is_some();
        let mut ok = true;
        if table_vmas > stats.live_tables || (managed && table_vmas != stats.live_tables) {
            kprintln!(
                "  KERNEL CHECK FAILED ({}): {} bounds-table VMAs but {} live tables",
                when,
                table_vmas,
                stats.live_tables
            );
            ok = false;
        }
        if table_frames * PAGE != resident {
            kprintln!(
                "  KERNEL CHECK FAILED ({}): {} table frames accounted, {} table bytes resident",
                when,
                table_frames,
                resident
            );
            ok = false;
        }
        if !ok {
            self.invariant_failures.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn context_id() -> u64 {
    0
}

static CURRENT: AtomicPtr<Process> = AtomicPtr::new(core::ptr::null_mut());

/// The running process.
///
/// # Panics
/// If no process is running.
pub fn current() -> &'static Process {
    let ptr = CURRENT.load(Ordering::Acquire);
    assert!(!ptr.is_null(), "no current process");
    // SAFETY: `run` keeps the boxed process alive (and does not move it) while CURRENT
    // points at it, and clears CURRENT before dropping it.
    unsafe { &*ptr }
}

core::arch::global_asm!(
    r#"
    .section .text.enter_user, "ax"
    .global mpx_enter_user
/* rdi = entry, rsi = user rsp, rdx = &saved kernel rsp, rcx = user cs, r8 = user ss,
   r9 = first argument for the program. Returns (in rax) when the process leaves. */
mpx_enter_user:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov [rdx], rsp
    push r8
    push rsi
    push 0x2
    push rcx
    push rdi
    mov rdi, r9
    xor eax, eax
    xor ebx, ebx
    xor ecx, ecx
    xor edx, edx
    xor esi, esi
    xor ebp, ebp
    xor r8d, r8d
    xor r9d, r9d
    xor r10d, r10d
    xor r11d, r11d
    xor r12d, r12d
    xor r13d, r13d
    xor r14d, r14d
    xor r15d, r15d
    iretq

    .global mpx_leave_user
/* rdi = saved kernel rsp: returns from mpx_enter_user. */
mpx_leave_user:
    mov rsp, rdi
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret
    .text
"#
);

extern "C" {
    fn mpx_enter_user(entry: u64, rsp: u64, saved: *mut u64, cs: u64, ss: u64, arg: u64);
    fn mpx_leave_user(saved: u64) -> !;
}

/// Ends the current process and returns to [`run`]'s caller. Holds no locks.
pub fn kill_current(exit: Exit) -> ! {
    let ptr = CURRENT.load(Ordering::Acquire);
    assert!(!ptr.is_null(), "kill_current without a process");
    // SAFETY: CURRENT points at the live process (see `current`); we are its only
    // user on this CPU (interrupts off), and we leave its context for good.
    let rsp = unsafe {
        (*ptr).exit = Some(exit);
        (*ptr).kernel_rsp
    };
    // SAFETY: `rsp` was saved by `mpx_enter_user` on the kernel stack of `run`, which
    // is still live below us (traps run on other stacks).
    unsafe { mpx_leave_user(rsp) }
}

/// What a finished process leaves behind for the scenario checks.
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    /// How it ended.
    pub exit: Exit,
    /// Manager statistics at exit (before teardown).
    pub stats: mpx::manager::Statistics,
    /// Frames in bounds-table VMAs at exit.
    pub table_frames_end: u64,
    /// Peak of frames in bounds-table VMAs.
    pub table_frames_peak: u64,
    /// Free frames before the process was created minus after it was torn down.
    pub frames_leaked: i64,
    /// Heap bytes in use after teardown minus before the process was created.
    pub heap_leaked: isize,
    /// Times the kernel's table bookkeeping disagreed with the manager's
    /// (checked after every `munmap` and at exit).
    pub invariant_failures: u64,
    /// `mmap` / `munmap` system calls served.
    pub mmap_calls: u64,
    /// `munmap` system calls served.
    pub munmap_calls: u64,
    /// What the program reported, by `REPORT_*` key.
    pub reports: [Option<u64>; REPORT_KEYS],
}

/// Runs the ring-3 program at `entry` (an address in the user image) to completion.
pub fn run(entry: u64, arg: u64) -> Outcome {
    let free_before = frames::free_count();
    let heap_before = heap::used();
    let mm = Mm::new().expect("out of memory for a process");
    let process = Box::new(Process {
        mm: MpxManager::new(mm, Mode::Long64, context_id),
        xsave: spin::Mutex::new(XsaveArea::new()),
        mmap_calls: AtomicU64::new(0),
        munmap_calls: AtomicU64::new(0),
        reports: [const { AtomicU64::new(NOT_REPORTED) }; REPORT_KEYS],
        invariant_failures: AtomicU64::new(0),
        kernel_rsp: 0,
        exit: None,
    });
    {
        let mut mm = process.mm.write();
        let (image_phys, image_len) = crate::user::image();
        mm.map(
            Some(USER_IMAGE_BASE),
            image_len,
            VmaKind::Data,
            Backing::Image { phys: image_phys },
            false,
        )
        .expect("map the program image");
        mm.map(
            Some(USER_STACK_TOP - USER_STACK_SIZE),
            USER_STACK_SIZE,
            VmaKind::Data,
            Backing::Anonymous,
            true,
        )
        .expect("map the stack");
    }
    let raw = Box::into_raw(process);
    CURRENT.store(raw, Ordering::Release);
    // SAFETY: `raw` is the live box just leaked; nothing else aliases it mutably.
    let process = unsafe { &mut *raw };
    paging::activate(process.mm.lock().read().root());
    // Load the task's MPX state (BNDCFGU disabled, bound registers INIT).
    process
        .xsave
        .lock()
        .restore(XFEATURE_BNDREGS | XFEATURE_BNDCSR);
    let sel = gdt::selectors();
    // SAFETY: entry and stack are mapped user memory of this process; the saved-rsp
    // slot lives in the boxed process, which outlives the call.
    unsafe {
        mpx_enter_user(
            entry,
            USER_STACK_TOP - 8,
            &mut process.kernel_rsp,
            u64::from(sel.user_code.0),
            u64::from(sel.user_data.0),
            arg,
        )
    };
    paging::activate(paging::kernel_root());
    CURRENT.store(core::ptr::null_mut(), Ordering::Release);
    // SAFETY: CURRENT no longer points at it; we own the box again.
    let process = unsafe { Box::from_raw(raw) };
    process.check_table_accounting("at exit");
    let stats = process.mm.statistics();
    let reports = process
        .reports
        .each_ref()
        .map(|r| Some(r.load(Ordering::Relaxed)).filter(|&v| v != NOT_REPORTED));
    let (mmap_calls, munmap_calls, invariant_failures) = (
        process.mmap_calls.load(Ordering::Relaxed),
        process.munmap_calls.load(Ordering::Relaxed),
        process.invariant_failures.load(Ordering::Relaxed),
    );
    let exit = process.exit.expect("process left without an exit");
    let (table_frames_end, table_frames_peak) = {
        let mut mm = process.mm.write();
        let counts = (mm.table_frames(), mm.table_frames_peak());
        mm.teardown();
        counts
    };
    drop(process);
    let frames_leaked = free_before as i64 - frames::free_count() as i64;
    let heap_leaked = heap::used() as isize - heap_before as isize;
    Outcome {
        exit,
        stats,
        table_frames_end,
        table_frames_peak,
        frames_leaked,
        heap_leaked,
        invariant_failures,
        mmap_calls,
        munmap_calls,
        reports,
    }
}

/// How often the page-fault path retries an mm lock held for write by another
/// context before giving up. This kernel runs one CPU and takes no fault while it
/// holds the lock, so a held lock is always a bug, and waiting would not help.
const FAULT_LOCK_SPINS: usize = 0;

/// The page-fault handler (vector 14): demand paging for the running process.
///
/// Takes the mm lock for read with [`mpx::lock::MmLock::read_for_fault`], which never waits
/// for a writer that is the faulting context itself. A fault no VMA allows (or a
/// protection fault) kills the process, like SIGSEGV; the kernel carries on. A
/// kernel-mode page fault is fatal: the kernel reaches user memory only through
/// the physical map.
pub fn handle_page_fault(frame: &mut TrapFrame) {
    let address = x86_64::registers::control::Cr2::read_raw();
    if !frame.is_from_user() {
        crate::interrupts::kernel_fault(frame, "kernel page fault");
    }
    let write = frame.error_code & 2 != 0;
    let protection = frame.error_code & 1 != 0;
    let resolved = {
        let process = current();
        match process.mm.lock().read_for_fault(FAULT_LOCK_SPINS) {
            Ok(mm) if !protection => mm.populate(address, write).is_ok(),
            Ok(_) => false,
            Err(e) => {
                kprintln!("page fault: mm lock unavailable ({:?})", e);
                false
            }
        }
    };
    if !resolved {
        kprintln!(
            "process killed: segmentation fault at {:#x} (rip {:#x}, error {:#x})",
            address,
            frame.rip,
            frame.error_code
        );
        kill_current(Exit::Killed(KillReason::SegmentationFault(address)));
    }
}
