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

use crate::cpu::{self, XsaveArea, XFEATURE_BNDCSR};
use crate::interrupts::{TrapFrame, VECTOR_BOUND_RANGE};
use crate::{frames, gdt, paging};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use x86_64::structures::paging::PhysFrame;

/// Virtual address of the generated code.
pub const CODE: u64 = 0x1000_0000;
/// Virtual address of the data page (registers in and out, saved RSP, operands).
pub const DATA: u64 = 0x1000_1000;
/// First byte of the data page that cases may use for their operands.
pub const OPERANDS: u64 = DATA + 0x100;
/// One-byte instructions after the tested bytes.
pub const TAIL: u32 = 8;

const PAGE: u64 = 4096;
const REGS_IN: u64 = DATA;
const REGS_OUT: u64 = DATA + 0x40;
const SAVED_RSP: u64 = DATA + 0x80;
const RSP_AFTER: u64 = DATA + 0x88;
const FAR_POINTER: u64 = DATA + 0x90;
/// Register numbers the stub loads and stores (all but RSP).
const GPRS: [u8; 7] = [0, 1, 2, 3, 5, 6, 7];

/// The mode a case's bytes run in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuMode {
    /// 64-bit mode (CS.L = 1).
    Long64,
    /// Compatibility mode (a 32-bit code segment): addresses and registers are 32-bit.
    Compat32,
}

/// General registers by number (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi); RSP is
/// ignored.
pub type Regs = [u64; 8];

/// Register numbers, for building [`Regs`].
pub mod reg {
    /// RAX.
    pub const RAX: usize = 0;
    /// RCX.
    pub const RCX: usize = 1;
    /// RDX.
    pub const RDX: usize = 2;
    /// RBX.
    pub const RBX: usize = 3;
    /// RSI.
    pub const RSI: usize = 6;
    /// RDI.
    pub const RDI: usize = 7;
}

/// One run of instruction bytes.
#[derive(Clone, Copy, Debug)]
pub struct Case<'a> {
    /// The mode to run in.
    pub mode: CpuMode,
    /// `IA32_BNDCFGS` while the case runs (0 afterwards).
    pub bndcfgs: u64,
    /// Register values on entry (RSP ignored; after the tested instruction, RAX is the
    /// tail counter in compatibility mode).
    pub regs: Regs,
    /// Bytes run first (setting up bound registers).
    pub setup: &'a [u8],
    /// The instruction under test: the counted tail follows it directly.
    pub test: &'a [u8],
    /// Bytes run after the tail (storing results).
    pub after: &'a [u8],
}

/// What a [`Case`] did.
#[derive(Clone, Copy, Debug, Default)]
pub struct Outcome {
    /// BNDSTATUS of the `#BR` the case raised, if it raised one.
    pub bound_fault: Option<u64>,
    /// Vector of another exception, if one was taken (the run stopped there).
    pub exception: Option<u64>,
    /// How many tail instructions ran ([`TAIL`] when the test bytes were decoded
    /// with their real length). `None` after an exception.
    pub tail_executed: Option<u32>,
    /// Registers on exit (meaningless after an exception; RAX counts the tail in
    /// compatibility mode).
    pub regs: Regs,
}

impl Outcome {
    /// Bytes after the tested instruction that the CPU skipped.
    pub fn skipped(&self) -> Option<u32> {
        self.tail_executed.map(|n| TAIL.saturating_sub(n))
    }
}

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
    root: PhysFrame,
    pages: Vec<(u64, PhysFrame)>,
}

/// A frame or page-table frame could not be allocated.
#[derive(Clone, Copy, Debug)]
pub struct OutOfFrames;

impl Machine {
    /// A scratch address space with the code and data pages mapped.
    pub fn new() -> Result<Machine, OutOfFrames> {
        let root = paging::new_user_root().ok_or(OutOfFrames)?;
        let mut machine = Machine {
            root,
            pages: Vec::new(),
        };
        machine.map_zeroed(CODE)?;
        machine.map_zeroed(DATA)?;
        paging::activate(root);
        Ok(machine)
    }

    /// Maps a zeroed page at `va` (page aligned, below 2^47) if none is there.
    pub fn map_zeroed(&mut self, va: u64) -> Result<(), OutOfFrames> {
        if self.frame_of(va).is_some() {
            return Ok(());
        }
        let frame = frames::alloc().ok_or(OutOfFrames)?;
        if paging::map_user(self.root, va, frame, true).is_none() {
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
        paging::phys_to_virt(phys).as_mut_ptr()
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
        paging::activate(paging::kernel_root());
        for &(va, frame) in &self.pages {
            paging::unmap_user(self.root, va);
            frames::free(frame);
        }
        paging::free_user_root(self.root);
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
        area.save(XFEATURE_BNDCSR);
        BR_STATUS.store(area.bndstatus(), Ordering::SeqCst);
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

/// A byte buffer for one stub.
struct Emitter {
    buf: [u8; 1024],
    len: usize,
}

impl Default for Emitter {
    fn default() -> Self {
        Emitter {
            buf: [0; 1024],
            len: 0,
        }
    }
}

impl Emitter {
    fn bytes(&mut self, bytes: &[u8]) {
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    fn abs32(&mut self, address: u64) {
        let address = u32::try_from(address).expect("probe address below 4 GiB");
        self.bytes(&address.to_le_bytes());
    }

    /// `mov [abs32], r64` (64-bit mode: REX.W 89 /r with a SIB of no base and no index).
    fn store64(&mut self, reg: u8, address: u64) {
        self.bytes(&[0x48, 0x89, (reg << 3) | 4, 0x25]);
        self.abs32(address);
    }

    /// `mov r64, [abs32]` (64-bit mode).
    fn load64(&mut self, reg: u8, address: u64) {
        self.bytes(&[0x48, 0x8b, (reg << 3) | 4, 0x25]);
        self.abs32(address);
    }

    /// `mov [abs32], r32` (32-bit mode: ModRM 00 reg 101 = disp32).
    fn store32(&mut self, reg: u8, address: u64) {
        self.bytes(&[0x89, (reg << 3) | 5]);
        self.abs32(address);
    }

    /// `mov r32, [abs32]` (32-bit mode).
    fn load32(&mut self, reg: u8, address: u64) {
        self.bytes(&[0x8b, (reg << 3) | 5]);
        self.abs32(address);
    }

    /// The 64-bit exit: `mov rsp, [SAVED_RSP]; ret`.
    fn exit64(&mut self) {
        self.load64(4, SAVED_RSP);
        self.bytes(&[0xc3]);
    }
}

/// The 64-bit stub; returns the offset of its exit.
fn emit_long(e: &mut Emitter, case: &Case<'_>) -> u64 {
    e.store64(4, SAVED_RSP);
    for &r in &GPRS {
        e.load64(r, REGS_IN + 8 * u64::from(r));
    }
    e.bytes(case.setup);
    e.bytes(case.test);
    for _ in 0..TAIL {
        e.bytes(&[0x50]); // push rax
    }
    e.store64(4, RSP_AFTER);
    e.load64(4, SAVED_RSP);
    e.bytes(case.after);
    for &r in &GPRS {
        e.store64(r, REGS_OUT + 8 * u64::from(r));
    }
    let exit = e.len as u64;
    e.exit64();
    exit
}

/// The compatibility-mode stub: a 64-bit entry that far-returns into the 32-bit code
/// segment, the 32-bit body, a far jump back through [`FAR_POINTER`], and the 64-bit
/// exit. Returns the offset of the exit.
fn emit_compat(e: &mut Emitter, case: &Case<'_>) -> u64 {
    let sel = gdt::selectors();
    let code32 = u8::try_from(sel.kernel_code32.0).expect("small selector");
    assert!(code32 < 0x80, "push imm8 sign-extends");
    e.store64(4, SAVED_RSP);
    // push code32; push body; lretq. The body's offset is patched below.
    e.bytes(&[0x6a, code32, 0x68]);
    let patch = e.len;
    e.bytes(&[0, 0, 0, 0, 0x48, 0xcb]);
    let body = CODE + e.len as u64;
    e.buf[patch..patch + 4].copy_from_slice(&(body as u32).to_le_bytes());
    for &r in &GPRS {
        e.load32(r, REGS_IN + 8 * u64::from(r));
    }
    e.bytes(case.setup);
    e.bytes(case.test);
    for _ in 0..TAIL {
        e.bytes(&[0x40]); // inc eax
    }
    e.bytes(case.after);
    for &r in &GPRS {
        e.store32(r, REGS_OUT + 8 * u64::from(r));
    }
    // jmp far [FAR_POINTER] (FF /5, m16:32).
    e.bytes(&[0xff, 0x2d]);
    e.abs32(FAR_POINTER);
    let exit = e.len as u64;
    e.exit64();
    exit
}
