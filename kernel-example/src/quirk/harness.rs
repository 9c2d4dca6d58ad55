//! A ring-0 instruction harness for the boot probes.
//!
//! [`Machine`] is a scratch address space with a code page at [`CODE`] and a data page
//! at [`DATA`] (both below 2 GiB, so 32-bit absolute addresses reach them from either
//! mode). [`Machine::run`] assembles, into the code page, a stub that loads the general
//! registers from the data page, runs a [`Case`]'s `setup` and `test` bytes, then a
//! tail of [`TAIL`] one-byte instructions whose execution is counted, then the
//! `after` bytes, and stores the registers back. It runs in 64-bit mode or, through a
//! 32-bit ring-0 code segment, in compatibility mode, with `IA32_BNDCFGS` set to the
//! case's value for exactly that run.
//!
//! Traps taken inside the code page while a case runs do not reach the kernel's fault
//! paths: a `#BR` records BNDSTATUS and turns supervisor MPX off, so the instruction
//! re-executes as a no-op; any other exception records its vector and resumes at the
//! stub's exit. A probe therefore never ends the boot, whatever the CPU does.
//!
//! The tail tells how many bytes an instruction really took: an emulator that decodes
//! an instruction as longer than it is skips the first tail instructions. In 64-bit
//! mode the tail is `push rax` (0x50, counted from RSP), in compatibility mode
//! `inc eax` (0x40, a REX prefix in 64-bit mode). Both bytes, read as a SIB byte,
//! name base RAX and so no displacement: QEMU 7.2's bug B re-reads the byte after an
//! instruction as a SIB, and a SIB with base EBP would pull in four more bytes.

use super::case::*;
use super::emit::{emit_compat, emit_long, Emitter};
use crate::arch::trap::{TrapFrame, VECTOR_BOUND_RANGE};
use crate::arch::xsave::XsaveArea;
use crate::arch::{cpu, gdt};
use crate::mm::frames;
use crate::mm::layout::phys_to_virt;
use crate::mm::paging::{self, PageTables};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use mpx::arch::xsave::XSTATE_BNDCSR;
use x86_64::structures::paging::PhysFrame;

/// Whether a case is running (the trap hook acts only then).
static RUNNING: AtomicBool = AtomicBool::new(false);
/// BNDSTATUS of a `#BR` taken by the running case, or 0.
static BR_STATUS: AtomicU64 = AtomicU64::new(0);
/// Whether a `#BR` was taken.
static BR_TAKEN: AtomicBool = AtomicBool::new(false);
/// Vector of another exception + 1, or 0.
static EXCEPTION: AtomicU64 = AtomicU64::new(0);
/// Where the trap hook resumes after an exception (the stub's 64-bit exit).
static EXIT_RIP: AtomicU64 = AtomicU64::new(0);

/// A scratch address space for probing (the kernel half shared, the user half private).
///
/// Creating one switches to it; dropping it switches back to the kernel's tables and
/// frees every page it mapped. Boot-time only: nothing else may run meanwhile.
pub struct Machine {
    tables: PageTables,
    pages: Vec<(u64, PhysFrame)>,
}

/// A frame or page-table frame could not be allocated.
#[derive(Clone, Copy, Debug)]
pub struct OutOfFrames;

impl Machine {
    /// A scratch address space with the code and data pages mapped.
    pub fn new() -> Result<Machine, OutOfFrames> {
        let mut machine = Machine {
            tables: PageTables::new().ok_or(OutOfFrames)?,
            pages: Vec::new(),
        };
        machine.map_zeroed(CODE)?;
        machine.map_zeroed(DATA)?;
        machine.tables.activate();
        Ok(machine)
    }

    /// Maps a zeroed page at `va` (page aligned, below 2^47) if none is there.
    pub fn map_zeroed(&mut self, va: u64) -> Result<(), OutOfFrames> {
        if self.frame_of(va).is_some() {
            return Ok(());
        }
        let frame = frames::alloc().ok_or(OutOfFrames)?;
        if self.tables.map(va, frame, true).is_none() {
            frames::free(frame);
            return Err(OutOfFrames);
        }
        self.pages.push((va, frame));
        Ok(())
    }

    fn frame_of(&self, va: u64) -> Option<PhysFrame> {
        let page = va & !(PAGE - 1);
        self.pages
            .iter()
            .find(|&&(v, _)| v == page)
            .map(|&(_, f)| f)
    }

    /// The kernel-side pointer to `len` bytes at `va`, all inside one mapped page.
    fn bytes_at(&self, va: u64, len: u64) -> *mut u8 {
        let frame = self.frame_of(va).expect("probe address not mapped");
        assert!(va % PAGE + len <= PAGE, "probe access crosses a page");
        let phys = frame.start_address() + va % PAGE;
        phys_to_virt(phys).as_mut_ptr()
    }

    /// Writes `bytes` at `va` (one mapped page).
    pub fn write(&mut self, va: u64, bytes: &[u8]) {
        let dst = self.bytes_at(va, bytes.len() as u64);
        // SAFETY: `dst..dst+len` lies in a frame this machine owns (checked by
        // `bytes_at`), reached through the physical map; no reference to it exists.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len()) };
    }

    /// Reads `N` bytes at `va` (one mapped page).
    pub fn read<const N: usize>(&self, va: u64) -> [u8; N] {
        let src = self.bytes_at(va, N as u64);
        let mut out = [0u8; N];
        // SAFETY: as in `write`; `out` is a distinct local buffer.
        unsafe { core::ptr::copy_nonoverlapping(src, out.as_mut_ptr(), N) };
        out
    }

    /// Writes a little-endian u64 at `va`.
    pub fn write_u64(&mut self, va: u64, value: u64) {
        self.write(va, &value.to_le_bytes());
    }

    /// Reads a little-endian u64 at `va`.
    pub fn read_u64(&self, va: u64) -> u64 {
        u64::from_le_bytes(self.read(va))
    }

    /// Writes a little-endian u32 at `va`.
    pub fn write_u32(&mut self, va: u64, value: u32) {
        self.write(va, &value.to_le_bytes());
    }

    /// Reads a little-endian u32 at `va`.
    pub fn read_u32(&self, va: u64) -> u32 {
        u32::from_le_bytes(self.read(va))
    }

    /// Runs `case` and reports what happened.
    pub fn run(&mut self, case: &Case<'_>) -> Outcome {
        let mut code = Emitter::default();
        let exit = match case.mode {
            CpuMode::Long64 => emit_long(&mut code, case),
            CpuMode::Compat32 => emit_compat(&mut code, case),
        };
        let mut page = [0xccu8; PAGE as usize];
        page[..code.len].copy_from_slice(&code.buf[..code.len]);
        self.write(CODE, &page);
        for (i, &value) in case.regs.iter().enumerate() {
            self.write_u64(REGS_IN + 8 * i as u64, value);
            self.write_u64(REGS_OUT + 8 * i as u64, 0);
        }
        self.write_u64(RSP_AFTER, 0);
        let sel = gdt::selectors();
        let mut far = [0u8; 8];
        far[..4].copy_from_slice(&((CODE + exit) as u32).to_le_bytes());
        far[4..6].copy_from_slice(&sel.kernel_code.0.to_le_bytes());
        self.write(FAR_POINTER, &far);

        BR_TAKEN.store(false, Ordering::SeqCst);
        BR_STATUS.store(0, Ordering::SeqCst);
        EXCEPTION.store(0, Ordering::SeqCst);
        EXIT_RIP.store(CODE + exit, Ordering::SeqCst);
        RUNNING.store(true, Ordering::SeqCst);
        // SAFETY: the case's value is written only for this run; the kernel has no
        // MPX instructions or BND-prefixed branches, and the only MPX code that runs
        // meanwhile is the case's own, in the scratch pages. Reserved bits of a
        // case's value are the prober's responsibility (all cases use base | flags).
        unsafe { cpu::write_bndcfgs(case.bndcfgs) };
        // SAFETY: the stub at CODE was just written for this case: it saves RSP in
        // the data page, touches only the scratch pages (and, for its counted pushes,
        // the 64 bytes below RSP: the kernel has no red zone), restores RSP and
        // returns here with every general register but RSP possibly changed. RBX
        // and RBP cannot be asm operands, so they are saved on the stack around the
        // call. Traps inside the stub are resumed by `on_kernel_trap`.
        unsafe {
            core::arch::asm!(
                "push rbx",
                "push rbp",
                "call {code}",
                "pop rbp",
                "pop rbx",
                code = in(reg) CODE,
                out("rax") _, out("rcx") _, out("rdx") _, out("rsi") _, out("rdi") _,
                out("r8") _, out("r9") _, out("r10") _, out("r11") _,
            )
        };
        // SAFETY: turning supervisor MPX off is always valid.
        unsafe { cpu::write_bndcfgs(0) };
        RUNNING.store(false, Ordering::SeqCst);

        let exception = match EXCEPTION.load(Ordering::SeqCst) {
            0 => None,
            v => Some(v - 1),
        };
        let bound_fault = BR_TAKEN
            .load(Ordering::SeqCst)
            .then(|| BR_STATUS.load(Ordering::SeqCst));
        let mut out = Outcome {
            bound_fault,
            exception,
            ..Outcome::default()
        };
        for (i, slot) in out.regs.iter_mut().enumerate() {
            *slot = self.read_u64(REGS_OUT + 8 * i as u64);
        }
        if exception.is_none() {
            out.tail_executed = Some(match case.mode {
                CpuMode::Compat32 => {
                    (out.regs[reg::RAX] as u32).wrapping_sub(case.regs[reg::RAX] as u32)
                }
                CpuMode::Long64 => {
                    let (before, after) = (self.read_u64(SAVED_RSP), self.read_u64(RSP_AFTER));
                    (before.wrapping_sub(after) / 8) as u32
                }
            });
        }
        out
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        paging::activate_kernel();
        for &(va, frame) in &self.pages {
            self.tables.unmap(va);
            frames::free(frame);
        }
        // The page-table frames go with `self.tables`.
    }
}

/// Called by the trap dispatcher for every kernel-mode trap: handles it when it was
/// raised by a running probe case (returns true), otherwise leaves it to the kernel.
pub fn on_kernel_trap(frame: &mut TrapFrame) -> bool {
    if !RUNNING.load(Ordering::SeqCst) || !(CODE..CODE + PAGE).contains(&frame.rip) {
        return false;
    }
    if frame.vector == VECTOR_BOUND_RANGE {
        let mut area = XsaveArea::new();
        area.save(XSTATE_BNDCSR);
        BR_STATUS.store(area.bndstatus().raw(), Ordering::SeqCst);
        BR_TAKEN.store(true, Ordering::SeqCst);
        // SAFETY: disabling supervisor MPX is always valid; the faulting instruction
        // then re-executes as a no-op.
        unsafe { cpu::write_bndcfgs(0) };
        return true;
    }
    let _ = EXCEPTION.compare_exchange(0, frame.vector + 1, Ordering::SeqCst, Ordering::SeqCst);
    // SAFETY: as above.
    unsafe { cpu::write_bndcfgs(0) };
    // Resume at the stub's 64-bit exit, which reloads the saved RSP and returns.
    frame.rip = EXIT_RIP.load(Ordering::SeqCst);
    frame.cs = u64::from(gdt::selectors().kernel_code.0);
    true
}
