//! The IDT and the interrupt entry stubs (in `global_asm!`).
//!
//! Every stub pushes a vector number (and a zero error code where the CPU pushes
//! none), then the common path saves the general-purpose registers, saves the x87/SSE
//! state with `FXSAVE64` on a 64-byte-aligned stack (the prebuilt `core` uses SSE),
//! calls [`super::trap::dispatch`] with a pointer to the [`TrapFrame`], restores and
//! `iretq`s. Bound registers and `BNDCFGU` are left alone: the kernel runs with
//! supervisor MPX off, so nothing in it changes them.

use super::gdt;
use super::trap::{
    self, VECTOR_BOUND_RANGE, VECTOR_DOUBLE_FAULT, VECTOR_PAGE_FAULT, VECTOR_SYSCALL,
};
use spin::Once;
use x86_64::structures::idt::InterruptDescriptorTable;
use x86_64::{PrivilegeLevel, VirtAddr};

core::arch::global_asm!(
    r#"
    .macro TRAP_STUB n, has_error
    .balign 16
trap_stub_\n:
    .if \has_error == 0
    push 0
    .endif
    push \n
    jmp trap_common
    .endm

    .section .text.trap_stubs, "ax"
    TRAP_STUB 0, 0
    TRAP_STUB 1, 0
    TRAP_STUB 2, 0
    TRAP_STUB 3, 0
    TRAP_STUB 4, 0
    TRAP_STUB 5, 0
    TRAP_STUB 6, 0
    TRAP_STUB 7, 0
    TRAP_STUB 8, 1
    TRAP_STUB 9, 0
    TRAP_STUB 10, 1
    TRAP_STUB 11, 1
    TRAP_STUB 12, 1
    TRAP_STUB 13, 1
    TRAP_STUB 14, 1
    TRAP_STUB 15, 0
    TRAP_STUB 16, 0
    TRAP_STUB 17, 1
    TRAP_STUB 18, 0
    TRAP_STUB 19, 0
    TRAP_STUB 20, 0
    TRAP_STUB 21, 1
    TRAP_STUB 22, 0
    TRAP_STUB 23, 0
    TRAP_STUB 24, 0
    TRAP_STUB 25, 0
    TRAP_STUB 26, 0
    TRAP_STUB 27, 0
    TRAP_STUB 28, 0
    TRAP_STUB 29, 1
    TRAP_STUB 30, 1
    TRAP_STUB 31, 0
    TRAP_STUB 128, 0

/* The `syscall` instruction (EFER.SCE, IA32_LSTAR): build the same frame an interrupt
   from ring 3 would (SS, RSP, RFLAGS from R11, CS, RIP from RCX, error code 0,
   vector 0x100) on the trap stack, and go the common way; the return is an iretq,
   never a sysret (no non-canonical-RCX hazard). Interrupts are off (IA32_FMASK). */
    .global mpx_syscall_entry
mpx_syscall_entry:
    mov [rip + mpx_syscall_scratch], rsp
    mov rsp, [rip + mpx_syscall_stack]
    push qword ptr [rip + mpx_syscall_user_ss]
    push qword ptr [rip + mpx_syscall_scratch]
    push r11
    push qword ptr [rip + mpx_syscall_user_cs]
    push rcx
    push 0
    push 0x100
    jmp trap_common

trap_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    mov rbp, rsp
/* RFLAGS.AC off (a process may have set it): SMAP must hold in the kernel. */
    pushfq
    and dword ptr [rsp], 0xfffbffff
    popfq
    and rsp, -64
    sub rsp, 512
/* A trap from ring 0 keeps the interrupted kernel code's x87/SSE state here (the
   handlers use SSE too); a trap from ring 3 has the dispatcher save and restore the
   process's whole extended state (XSAVE), which a handler may change (signals). The
   saved CS is at [rbp + 18*8]. */
    test qword ptr [rbp + 18*8], 3
    jnz 1f
    fxsave64 [rsp]
1:  cld
    mov rdi, rbp
    call {dispatch}
    test qword ptr [rbp + 18*8], 3
    jnz 2f
    fxrstor64 [rsp]
2:  mov rsp, rbp
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16
    iretq

    .section .bss.syscall_entry, "aw", @nobits
    .balign 8
    .global mpx_syscall_scratch
mpx_syscall_scratch:
    .skip 8
    .global mpx_syscall_stack
mpx_syscall_stack:
    .skip 8
    .global mpx_syscall_user_cs
mpx_syscall_user_cs:
    .skip 8
    .global mpx_syscall_user_ss
mpx_syscall_user_ss:
    .skip 8

    .section .rodata.trap_stub_table, "a"
    .balign 8
    .global trap_stub_table
trap_stub_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,128
    .quad trap_stub_\n
    .endr
    .text
"#,
    dispatch = sym trap::dispatch,
);

extern "C" {
    /// Addresses of the stubs for vectors 0..=31, then 0x80.
    static trap_stub_table: [u64; 33];
}

static IDT: Once<InterruptDescriptorTable> = Once::new();

/// Builds and loads the IDT (every stub hands a [`TrapFrame`] to the dispatcher).
pub fn init() {
    let idt = IDT.call_once(|| {
        let mut idt = InterruptDescriptorTable::new();
        // SAFETY: the table is defined in the assembly above with 33 entries and is
        // never written.
        let stubs: &[u64; 33] = unsafe { &trap_stub_table };
        for (i, &addr) in stubs.iter().enumerate() {
            let vector = if i < 32 {
                i as u8
            } else {
                VECTOR_SYSCALL as u8
            };
            let addr = VirtAddr::new(addr);
            // SAFETY: (all arms) every address is a stub that follows the trap-frame
            // protocol above (error code or a pushed zero) and ends in `iretq`.
            let options = unsafe {
                match vector {
                    8 => idt.double_fault.set_handler_addr(addr),
                    10 => idt.invalid_tss.set_handler_addr(addr),
                    11 => idt.segment_not_present.set_handler_addr(addr),
                    12 => idt.stack_segment_fault.set_handler_addr(addr),
                    13 => idt.general_protection_fault.set_handler_addr(addr),
                    14 => idt.page_fault.set_handler_addr(addr),
                    17 => idt.alignment_check.set_handler_addr(addr),
                    18 => idt.machine_check.set_handler_addr(addr),
                    21 => idt.cp_protection_exception.set_handler_addr(addr),
                    29 => idt.vmm_communication_exception.set_handler_addr(addr),
                    30 => idt.security_exception.set_handler_addr(addr),
                    15 | 22..=27 | 31 => continue, // reserved vectors stay absent
                    v => idt[v].set_handler_addr(addr),
                }
            };
            let ist = match u64::from(vector) {
                VECTOR_DOUBLE_FAULT => Some(gdt::DOUBLE_FAULT_IST),
                VECTOR_BOUND_RANGE => Some(gdt::BOUND_RANGE_IST),
                VECTOR_PAGE_FAULT => Some(gdt::PAGE_FAULT_IST),
                _ => None,
            };
            if let Some(ist) = ist {
                // SAFETY: gdt::init put valid, unused stacks in these IST slots.
                unsafe { options.set_stack_index(ist) };
            }
            // `int 0x80`, `int3` (#BP, 3) and `int $4` (#OF): ring 3 may raise them
            // itself, as on Linux (a debugger's breakpoint is SIGTRAP, not #GP).
            if u64::from(vector) == VECTOR_SYSCALL || vector == 3 || vector == 4 {
                options.set_privilege_level(PrivilegeLevel::Ring3);
            }
        }
        idt
    });
    idt.load();
}
