//! Running one process to completion: activate its address space, enter ring 3 with
//! `iretq` after saving the kernel's callee-saved registers, and get control back
//! when the process exits or is killed ([`kill_current`] restores those registers
//! and returns from the entry call, abandoning the trap stack it ran on).
//!
//! What a process starts with (its address space, entry point and stack) is built by
//! its ABI ([`Start`]); this layer runs it and reports what it left behind.

use super::process::{self, Abi, Exit, Process, NOT_REPORTED, REPORT_KEYS};
use crate::arch::{cpu, gdt};
use crate::mm::paging;
use crate::mm::space::Mm;
use crate::mm::{frames, heap};
use alloc::boxed::Box;
use core::sync::atomic::Ordering;
use mpx::manager::Statistics;

/// A process ready to run, as its ABI built it.
pub struct Start {
    /// Its address space, with its program and stack mapped.
    pub mm: Mm,
    /// The ABI it speaks.
    pub abi: Box<dyn Abi>,
    /// Where it starts.
    pub entry: u64,
    /// Its initial stack pointer.
    pub stack: u64,
    /// Its first argument register (`rdi`); every other register starts at 0.
    pub arg: u64,
}

/// How the harness wants a process watched.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// Check the kernel's table bookkeeping against the manager's after every
    /// `munmap` (it is always checked at exit).
    pub audit_unmaps: bool,
}

/// What a finished process leaves behind for the checks.
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    /// How it ended.
    pub exit: Exit,
    /// Manager statistics at exit (before teardown).
    pub stats: Statistics,
    /// Frames in bounds-table VMAs at exit.
    pub table_frames_end: u64,
    /// Peak of frames in bounds-table VMAs.
    pub table_frames_peak: u64,
    /// Free frames before the process was created minus after it was torn down
    /// (counted from `frames_before`, which the caller takes before building the
    /// process's address space).
    pub frames_leaked: i64,
    /// Heap bytes in use after teardown minus `heap_before`.
    pub heap_leaked: isize,
    /// Times the kernel's table bookkeeping disagreed with the manager's.
    pub invariant_failures: u64,
    /// `mmap` system calls served.
    pub mmap_calls: u64,
    /// `munmap` system calls served.
    pub munmap_calls: u64,
    /// What the program reported, by `REPORT_*` key.
    pub reports: [Option<u64>; REPORT_KEYS],
}

/// The frame and heap counts before a process, to check after it.
#[derive(Clone, Copy, Debug)]
pub struct Baseline {
    frames: u64,
    heap: usize,
}

impl Baseline {
    /// The counts now (take it before building the process's address space).
    pub fn now() -> Baseline {
        Baseline {
            frames: frames::free_count(),
            heap: heap::used(),
        }
    }
}

extern "C" {
    fn mpx_enter_user(entry: u64, rsp: u64, saved: *mut u64, cs: u64, ss: u64, arg: u64);
    fn mpx_leave_user(saved: u64) -> !;
}

/// Ends the running process with `exit` and returns to [`run`]'s caller. Holds no
/// locks (the caller must not either).
pub fn kill_current(exit: Exit) -> ! {
    let rsp = process::with_current(|p| {
        p.set_exit(exit);
        p.kernel_rsp.load(Ordering::Acquire)
    });
    // SAFETY: `rsp` was saved by `mpx_enter_user` on the kernel stack of `run`, which
    // is still live below us (traps run on other stacks).
    unsafe { mpx_leave_user(rsp) }
}

/// Runs the process `start` describes to completion; `baseline` was taken before
/// its address space was built.
pub fn run(start: Start, baseline: Baseline, options: RunOptions) -> Outcome {
    let process: &Process = Box::leak(Box::new(Process::new(
        start.mm,
        start.abi,
        options.audit_unmaps,
    )));
    // SAFETY: the leaked box stays alive and unmoved until `Box::from_raw` below,
    // after `clear_current`; it is only used through shared references.
    unsafe { process::set_current(process) };
    process.mm.read().activate();
    // Load the task's initial extended state: x87, SSE and MPX in their init states
    // (BNDCFGU disabled, bound registers INIT), MXCSR at its reset value.
    process.xsave.lock().restore(crate::arch::xsave::ALL);
    let sel = gdt::selectors();
    // SAFETY: entry and stack are mapped user memory of this process (its ABI built
    // them); the saved-rsp slot is an atomic in the process, which outlives the call.
    unsafe {
        mpx_enter_user(
            start.entry,
            start.stack,
            process.kernel_rsp.as_ptr(),
            u64::from(sel.user_code.0),
            u64::from(sel.user_data.0),
            start.arg,
        )
    };
    paging::activate_kernel();
    cpu::set_fs_base(0);
    process::clear_current();
    process.audit("at exit");
    let stats = process.mm.statistics();
    let reports = process
        .reports
        .each_ref()
        .map(|r| Some(r.load(Ordering::Relaxed)).filter(|&v| v != NOT_REPORTED));
    let exit = process.exit().expect("process left without an exit");
    let (table_frames_end, table_frames_peak) = {
        let mm = process.mm.read();
        (mm.table_frames(), mm.table_frames_peak())
    };
    process.mm.teardown();
    let (invariant_failures, mmap_calls, munmap_calls) = (
        process.invariant_failures(),
        process.mmap_calls.load(Ordering::Relaxed),
        process.munmap_calls.load(Ordering::Relaxed),
    );
    // SAFETY: CURRENT no longer points at the process and no reference to it is left
    // (the ones above end here): the box is ours again.
    drop(unsafe { Box::from_raw(core::ptr::from_ref(process).cast_mut()) });
    Outcome {
        exit,
        stats,
        table_frames_end,
        table_frames_peak,
        frames_leaked: baseline.frames as i64 - frames::free_count() as i64,
        heap_leaked: heap::used() as isize - baseline.heap as isize,
        invariant_failures,
        mmap_calls,
        munmap_calls,
        reports,
    }
}

core::arch::global_asm!(
    r#"
    .section .text.enter_user, "ax"
    .global mpx_enter_user
/* rdi = entry, rsi = user rsp, rdx = &saved kernel rsp (an AtomicU64), rcx = user cs, r8 = user ss,
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
    push 0x202
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
