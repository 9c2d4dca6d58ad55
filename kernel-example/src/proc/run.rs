//! Running one process to completion: build its address space, enter ring 3 with
//! `iretq` after saving the kernel's callee-saved registers, and get control back
//! when the process exits or is killed ([`kill_current`] restores those registers
//! and returns from the entry call, abandoning the trap stack it ran on).

use super::process::{self, Exit, Process, NOT_REPORTED};
use crate::abi::native::REPORT_KEYS;
use crate::arch::gdt;
use crate::mm::layout::PAGE;
use crate::mm::paging;
use crate::mm::space::{Backing, Mm};
use crate::mm::{frames, heap};
use alloc::boxed::Box;
use core::sync::atomic::Ordering;
use mpx::arch::xsave::{XSTATE_BNDCSR, XSTATE_BNDREGS};
use mpx::manager::Statistics;
use mpx::mm::VmaKind;

/// Where the ring-3 program image is mapped (linker.ld's `USER_IMAGE_VMA`).
pub const USER_IMAGE_BASE: u64 = 0x40_0000;
/// Top of the user stack.
pub const USER_STACK_TOP: u64 = 0x7000_0000_0000;
/// Size of the user stack mapping (populated on demand).
pub const USER_STACK_SIZE: u64 = 256 * 1024;

/// The program image to map at [`USER_IMAGE_BASE`]: physical address and length.
#[derive(Clone, Copy, Debug)]
pub struct Image {
    /// Physical address of the image (page aligned).
    pub phys: u64,
    /// Length in bytes (a page multiple).
    pub len: u64,
}

/// How the harness wants a process watched.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// Check the kernel's table bookkeeping against the manager's after every
    /// `munmap` (it is always checked at exit).
    pub audit_unmaps: bool,
}

/// What a finished process leaves behind for the scenario checks.
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
    /// Free frames before the process was created minus after it was torn down.
    pub frames_leaked: i64,
    /// Heap bytes in use after teardown minus before the process was created.
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

/// Runs the ring-3 program at `entry` of `image` to completion.
///
/// # Panics
/// If there is no memory for a process at all (the scenarios size themselves well
/// within the machine).
pub fn run(image: Image, entry: u64, arg: u64, options: RunOptions) -> Outcome {
    let free_before = frames::free_count();
    let heap_before = heap::used();
    let mut mm = Mm::new().expect("out of memory for a process");
    mm.map(
        Some(USER_IMAGE_BASE),
        image.len,
        VmaKind::Data,
        Backing::Image { phys: image.phys },
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
    let process: &Process = Box::leak(Box::new(Process::new(mm, options.audit_unmaps)));
    // SAFETY: the leaked box stays alive and unmoved until `Box::from_raw` below,
    // after `clear_current`; it is only used through shared references.
    unsafe { process::set_current(process) };
    process.mm.read().activate();
    // Load the task's MPX state (BNDCFGU disabled, bound registers INIT).
    process.xsave.lock().restore(XSTATE_BNDREGS | XSTATE_BNDCSR);
    let sel = gdt::selectors();
    // SAFETY: entry and stack are mapped user memory of this process; the saved-rsp
    // slot is an atomic in the process, which outlives the call.
    unsafe {
        mpx_enter_user(
            entry,
            USER_STACK_TOP - 8,
            process.kernel_rsp.as_ptr(),
            u64::from(sel.user_code.0),
            u64::from(sel.user_data.0),
            arg,
        )
    };
    paging::activate_kernel();
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
        frames_leaked: free_before as i64 - frames::free_count() as i64,
        heap_leaked: heap::used() as isize - heap_before as isize,
        invariant_failures,
        mmap_calls,
        munmap_calls,
        reports,
    }
}

const _: () = assert!(USER_IMAGE_BASE.is_multiple_of(PAGE) && USER_STACK_SIZE.is_multiple_of(PAGE));

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
