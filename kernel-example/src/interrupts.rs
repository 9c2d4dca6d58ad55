//! IDT, the interrupt entry stubs (in `global_asm!`) and the Rust trap dispatcher.
//!
//! Every stub pushes a vector number (and a zero error code where the CPU pushes
//! none), then the common path saves the general-purpose registers, saves the x87/SSE
//! state with `FXSAVE64` on a 64-byte-aligned stack (the prebuilt `core` uses SSE),
//! calls [`trap_dispatch`] with a pointer to the [`TrapFrame`], restores and `iretq`s.
//! Bound registers and `BNDCFGU` are left alone: the kernel runs with supervisor MPX
//! off, so nothing in it changes them.

use crate::gdt;
use spin::Once;
use x86_64::structures::idt::InterruptDescriptorTable;
use x86_64::{PrivilegeLevel, VirtAddr};

/// Vector of the `#BR` (BOUND range exceeded) exception.
pub const VECTOR_BOUND_RANGE: u64 = 5;
/// Vector of the page-fault exception.
pub const VECTOR_PAGE_FAULT: u64 = 14;
/// Vector of the double-fault exception.
pub const VECTOR_DOUBLE_FAULT: u64 = 8;
/// Vector of the non-maskable interrupt.
pub const VECTOR_NMI: u64 = 2;
/// Vector of the machine-check exception.
pub const VECTOR_MACHINE_CHECK: u64 = 18;
/// Software-interrupt vector of the system call gate (callable from ring 3).
pub const VECTOR_SYSCALL: u64 = 0x80;

/// The registers saved on entry, in stack order (lowest address first): the
/// general-purpose registers pushed by `trap_common` (r15 first), the vector and
/// error code pushed by the stub, then the interrupt frame the CPU pushed.
/// Changes to the general-purpose registers and the CPU frame take effect at `iretq`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct TrapFrame {
    /// Saved r15.
    pub r15: u64,
    /// Saved r14.
    pub r14: u64,
    /// Saved r13.
    pub r13: u64,
    /// Saved r12.
    pub r12: u64,
    /// Saved r11.
    pub r11: u64,
    /// Saved r10.
    pub r10: u64,
    /// Saved r9.
    pub r9: u64,
    /// Saved r8.
    pub r8: u64,
    /// Saved rbp.
    pub rbp: u64,
    /// Saved rdi (first system-call argument).
    pub rdi: u64,
    /// Saved rsi (second system-call argument).
    pub rsi: u64,
    /// Saved rdx (third system-call argument).
    pub rdx: u64,
    /// Saved rcx.
    pub rcx: u64,
    /// Saved rbx.
    pub rbx: u64,
    /// Saved rax (system-call number in, result out).
    pub rax: u64,
    /// Vector number pushed by the stub.
    pub vector: u64,
    /// Error code pushed by the CPU, or 0.
    pub error_code: u64,
    /// Where the interrupted code resumes (for a fault: the faulting instruction).
    pub rip: u64,
    /// Code selector of the interrupted code (RPL 3 for ring 3).
    pub cs: u64,
    /// Saved RFLAGS.
    pub rflags: u64,
    /// Stack pointer of the interrupted code.
    pub rsp: u64,
    /// Stack selector of the interrupted code.
    pub ss: u64,
}

impl TrapFrame {
    /// Whether the trap interrupted ring 3.
    pub fn is_from_user(&self) -> bool {
        self.cs & 3 == 3
    }
}

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
    and rsp, -64
    sub rsp, 512
    fxsave64 [rsp]
    cld
    mov rdi, rbp
    call {dispatch}
    fxrstor64 [rsp]
    mov rsp, rbp
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

    .section .rodata.trap_stub_table, "a"
    .balign 8
    .global trap_stub_table
trap_stub_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,128
    .quad trap_stub_\n
    .endr
    .text
"#,
    dispatch = sym trap_dispatch,
);

extern "C" {
    /// Addresses of the stubs for vectors 0..=31, then 0x80.
    static trap_stub_table: [u64; 33];
}

static IDT: Once<InterruptDescriptorTable> = Once::new();

/// Builds and loads the IDT.
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
            if u64::from(vector) == VECTOR_SYSCALL {
                options.set_privilege_level(PrivilegeLevel::Ring3);
            }
        }
        idt
    });
    idt.load();
}

/// Called by the common stub with interrupts disabled.
///
/// Aborts (`#DF`, `#MC`) and NMIs are fatal whichever ring they interrupted: the
/// machine state is not trustworthy. Other exceptions from ring 3 end the process.
extern "C" fn trap_dispatch(frame: &mut TrapFrame) {
    let ist = match frame.vector {
        VECTOR_DOUBLE_FAULT => Some(gdt::DOUBLE_FAULT_IST),
        VECTOR_BOUND_RANGE => Some(gdt::BOUND_RANGE_IST),
        VECTOR_PAGE_FAULT => Some(gdt::PAGE_FAULT_IST),
        _ => None,
    };
    if let Some(slot) = ist {
        if !gdt::is_on_ist_stack(slot, frame as *const TrapFrame as u64) {
            kernel_fault(frame, "not on its IST stack:");
        }
    }
    let fatal = matches!(
        frame.vector,
        VECTOR_DOUBLE_FAULT | VECTOR_MACHINE_CHECK | VECTOR_NMI
    );
    // A boot probe's own traps (its #BRs and whatever a CPU raises on its bytes).
    if !fatal && !frame.is_from_user() && crate::quirk::harness::on_kernel_trap(frame) {
        return;
    }
    match frame.vector {
        VECTOR_DOUBLE_FAULT | VECTOR_MACHINE_CHECK | VECTOR_NMI => kernel_fault(frame, "fatal"),
        VECTOR_SYSCALL if frame.is_from_user() => crate::syscall::handle(frame),
        VECTOR_BOUND_RANGE => crate::bounds::handle_bound_range(frame),
        VECTOR_PAGE_FAULT => crate::process::handle_page_fault(frame),
        _ if frame.is_from_user() => {
            kprintln!(
                "user exception {} (error {:#x}) at rip {:#x}",
                exception_name(frame.vector),
                frame.error_code,
                frame.rip
            );
            crate::process::kill_current(crate::process::Exit::Killed(
                crate::process::KillReason::Exception(frame.vector),
            ));
        }
        _ => kernel_fault(frame, "unexpected exception in the kernel"),
    }
}

/// Reports a fatal kernel-mode trap and leaves QEMU with the panic verdict.
pub fn kernel_fault(frame: &TrapFrame, what: &str) -> ! {
    let cr2 = x86_64::registers::control::Cr2::read_raw();
    crate::serial::print_emergency(format_args!(
        "KERNEL FAULT: {} {} (vector {}, error {:#x}) rip {:#x} rsp {:#x} cr2 {:#x}\n{:#x?}\n",
        what,
        exception_name(frame.vector),
        frame.vector,
        frame.error_code,
        frame.rip,
        frame.rsp,
        cr2,
        frame
    ));
    crate::exit::exit_qemu(crate::exit::Verdict::Panic)
}

/// Short name of an exception vector.
pub fn exception_name(vector: u64) -> &'static str {
    const NAMES: [&str; 21] = [
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "coproc", "#TS", "#NP",
        "#SS", "#GP", "#PF", "reserved", "#MF", "#AC", "#MC", "#XM", "#VE",
    ];
    NAMES.get(vector as usize).copied().unwrap_or("exception")
}
