//! The `syscall` instruction: its MSRs (EFER.SCE, STAR, LSTAR, FMASK) and the data
//! its entry stub (in `idt`) reads. A `syscall` reaches the trap dispatcher as
//! vector [`super::trap::VECTOR_SYSCALL_INSTRUCTION`] with a normal [`super::trap::TrapFrame`].

use super::gdt;
use x86_64::registers::model_specific::{Efer, EferFlags, LStar, SFMask, Star};
use x86_64::registers::rflags::RFlags;
use x86_64::VirtAddr;

extern "C" {
    fn mpx_syscall_entry();
    static mut mpx_syscall_stack: u64;
    static mut mpx_syscall_user_cs: u64;
    static mut mpx_syscall_user_ss: u64;
}

/// Enables `syscall` from ring 3. Call once, after `gdt::init`.
///
/// # Panics
/// If the GDT's selectors do not have the order SYSCALL/SYSRET need (they do).
pub fn init() {
    let sel = gdt::selectors();
    // SAFETY: the entry stub reads these three words only on `syscall`, which cannot
    // happen before this function enables it; nothing else touches them.
    unsafe {
        (&raw mut mpx_syscall_stack).write(gdt::trap_stack_top());
        (&raw mut mpx_syscall_user_cs).write(u64::from(sel.user_code.0));
        (&raw mut mpx_syscall_user_ss).write(u64::from(sel.user_data.0));
    }
    Star::write(
        sel.user_code,
        sel.user_data,
        sel.kernel_code,
        sel.kernel_data,
    )
    .expect("GDT order for SYSCALL/SYSRET");
    LStar::write(VirtAddr::new(mpx_syscall_entry as *const () as u64));
    SFMask::write(
        RFlags::INTERRUPT_FLAG
            | RFlags::DIRECTION_FLAG
            | RFlags::TRAP_FLAG
            | RFlags::ALIGNMENT_CHECK
            | RFlags::NESTED_TASK,
    );
    // SAFETY: the entry point, STAR and FMASK are set up above; enabling SCE only
    // makes `syscall` enter that stub.
    unsafe { Efer::update(|f| f.insert(EferFlags::SYSTEM_CALL_EXTENSIONS)) };
}
