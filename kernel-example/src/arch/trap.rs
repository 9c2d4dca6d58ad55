//! Traps: the saved register frame, and the dispatcher that hands each trap to the
//! handler the kernel installed for it ([`install`]).
//!
//! The arch layer imports nothing from the rest of the kernel: the handlers for system
//! calls, `#BR`, page faults and other user exceptions, and a hook that may claim a
//! kernel-mode trap (the boot probes'), are function pointers installed once at boot.
//! Aborts (`#DF`, `#MC`) and NMIs are fatal whichever ring they interrupted; any other
//! kernel-mode trap nobody claims is fatal too.

use super::gdt;
use spin::Once;

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
/// The vector number the `syscall` entry stub puts in its frame (not an IDT vector).
pub const VECTOR_SYSCALL_INSTRUCTION: u64 = 0x100;

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

/// The kernel's trap handlers.
#[derive(Clone, Copy, Debug)]
pub struct Handlers {
    /// `int 0x80` from ring 3.
    pub syscall: fn(&mut TrapFrame),
    /// The `syscall` instruction from ring 3.
    pub syscall_instruction: fn(&mut TrapFrame),
    /// `#BR` from ring 3.
    pub bound_range: fn(&mut TrapFrame),
    /// `#PF` from ring 3 (the kernel itself never faults on user memory: it reaches it
    /// through the physical map).
    pub page_fault: fn(&mut TrapFrame),
    /// Any other exception from ring 3.
    pub user_exception: fn(&mut TrapFrame),
    /// A kernel-mode trap other than an abort: returns whether it claimed (and handled)
    /// the trap; otherwise the trap is fatal.
    pub kernel_trap: fn(&mut TrapFrame) -> bool,
    /// Runs first on every trap from ring 3 (saves the process's extended state).
    pub user_entry: fn(&mut TrapFrame),
    /// Runs last before returning to ring 3 (restores it, with what the handler
    /// changed).
    pub user_exit: fn(&mut TrapFrame),
}

static HANDLERS: Once<Handlers> = Once::new();

/// Installs the kernel's handlers (once, before any process runs).
pub fn install(handlers: Handlers) {
    HANDLERS.call_once(|| handlers);
}

/// Called by the common stub with interrupts disabled.
///
/// Aborts (`#DF`, `#MC`) and NMIs are fatal whichever ring they interrupted: the
/// machine state is not trustworthy.
pub(super) extern "C" fn dispatch(frame: &mut TrapFrame) {
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
    if fatal {
        kernel_fault(frame, "fatal");
    }
    let Some(handlers) = HANDLERS.get() else {
        kernel_fault(frame, "trap before the handlers were installed:");
    };
    if !frame.is_from_user() {
        if (handlers.kernel_trap)(frame) {
            return;
        }
        kernel_fault(frame, "unexpected exception in the kernel");
    }
    (handlers.user_entry)(frame);
    match frame.vector {
        VECTOR_SYSCALL => (handlers.syscall)(frame),
        VECTOR_SYSCALL_INSTRUCTION => (handlers.syscall_instruction)(frame),
        VECTOR_BOUND_RANGE => (handlers.bound_range)(frame),
        VECTOR_PAGE_FAULT => (handlers.page_fault)(frame),
        _ => (handlers.user_exception)(frame),
    }
    (handlers.user_exit)(frame);
}

/// Reports a fatal kernel-mode trap and leaves QEMU with the panic verdict.
pub fn kernel_fault(frame: &TrapFrame, what: &str) -> ! {
    let cr2 = x86_64::registers::control::Cr2::read_raw();
    super::serial::print_emergency(format_args!(
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
    super::exit::exit_qemu(super::exit::Verdict::Panic)
}

/// Short name of an exception vector.
pub fn exception_name(vector: u64) -> &'static str {
    const NAMES: [&str; 21] = [
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "coproc", "#TS", "#NP",
        "#SS", "#GP", "#PF", "reserved", "#MF", "#AC", "#MC", "#XM", "#VE",
    ];
    NAMES.get(vector as usize).copied().unwrap_or("exception")
}
