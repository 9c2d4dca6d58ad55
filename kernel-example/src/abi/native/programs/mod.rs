//! The ring-3 programs (linked into the user image, `.user.text` at 4 MiB) and how
//! the kernel finds them.

mod hostile;
mod spans;

use super::syscall::Native;
use crate::mm::layout::PAGE;
use crate::mm::space::{At, MapRequest, Mm, Policy};
use crate::mm::vma::{Backing, Placement, Prot, VmaName};
use crate::proc::run::Start;
use alloc::boxed::Box;
use core::arch::asm;
use hostile::*;
use mpx::mm::VmaKind;
use spans::*;

/// The ring-3 programs the kernel can start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    /// [`prog_hello`].
    Hello,
    /// [`prog_alloc`].
    Alloc,
    /// [`prog_free`].
    Free,
    /// [`prog_partial`].
    Partial,
    /// [`prog_violation`].
    Violation,
    /// [`prog_load_alloc`].
    LoadAlloc,
    /// [`prog_table_unmap`].
    TableUnmap,
    /// [`prog_corrupt_store`].
    CorruptStore,
    /// [`prog_corrupt_unmap`].
    CorruptUnmap,
    /// [`prog_corrupt_pointer`].
    CorruptPointer,
    /// [`prog_churn`].
    Churn,
    /// [`prog_segv`].
    Segv,
    /// [`prog_kernel_read`].
    KernelRead,
    /// [`prog_disable`].
    Disable,
}

macro_rules! address_of {
    ($f:path) => {{
        let address: u64;
        // SAFETY: only loads a link-time constant (absolute relocation; the user image
        // is linked at 4 MiB, out of reach of RIP-relative addressing from -2 GiB).
        unsafe { asm!("movabs {}, offset {}", out(reg) address, sym $f, options(nomem, nostack)) };
        address
    }};
}

impl Program {
    /// The program's entry point (a user virtual address).
    pub fn entry(self) -> u64 {
        match self {
            Program::Hello => address_of!(prog_hello),
            Program::Alloc => address_of!(prog_alloc),
            Program::Free => address_of!(prog_free),
            Program::Partial => address_of!(prog_partial),
            Program::Violation => address_of!(prog_violation),
            Program::LoadAlloc => address_of!(prog_load_alloc),
            Program::TableUnmap => address_of!(prog_table_unmap),
            Program::CorruptStore => address_of!(prog_corrupt_store),
            Program::CorruptUnmap => address_of!(prog_corrupt_unmap),
            Program::CorruptPointer => address_of!(prog_corrupt_pointer),
            Program::Churn => address_of!(prog_churn),
            Program::Segv => address_of!(prog_segv),
            Program::KernelRead => address_of!(prog_kernel_read),
            Program::Disable => address_of!(prog_disable),
        }
    }
}

/// Where the user image is in physical memory (page multiples).
fn image() -> (u64, u64) {
    let (phys, start, end): (u64, u64, u64);
    // SAFETY: loads linker-script symbols as absolute constants.
    unsafe {
        asm!("movabs {}, offset __user_image_phys", "movabs {}, offset __user_image_start",
             "movabs {}, offset __user_image_end",
             out(reg) phys, out(reg) start, out(reg) end, options(nomem, nostack));
    }
    (phys, end - start)
}

/// Where the ring-3 program image is mapped (linker.ld's `USER_IMAGE_VMA`).
pub const USER_IMAGE_BASE: u64 = 0x40_0000;
/// Top of the user stack.
pub const USER_STACK_TOP: u64 = 0x7000_0000_0000;
/// Size of the user stack mapping (populated on demand).
pub const USER_STACK_SIZE: u64 = 256 * 1024;
/// Lowest address `mmap` picks by itself.
pub const MMAP_BASE: u64 = 0x1000_0000_0000;

/// A native process running `program` with `arg` in `rdi`: the image and a stack
/// mapped, frames for every page touched (no zero page: the programs count frames).
///
/// # Panics
/// If there is no memory for a process at all (the scenarios size themselves well
/// within the machine).
pub fn start(program: Program, arg: u64) -> Start {
    let policy = Policy {
        placement: Placement::BottomUp(MMAP_BASE),
        floor: PAGE,
        ceiling: crate::mm::layout::USER_END,
        zero_page_reads: false,
    };
    let mut mm = Mm::new(policy).expect("out of memory for a process");
    let (phys, len) = image();
    let data = |at, len, backing, prot| MapRequest {
        at: At::Exactly(at),
        len,
        kind: VmaKind::Data,
        backing,
        prot,
        name: VmaName::None,
    };
    mm.map(data(
        USER_IMAGE_BASE,
        len,
        Backing::Image { phys },
        Prot::READ | Prot::EXEC,
    ))
    .expect("map the program image");
    mm.map(data(
        USER_STACK_TOP - USER_STACK_SIZE,
        USER_STACK_SIZE,
        Backing::Anonymous,
        Prot::READ | Prot::WRITE,
    ))
    .expect("map the stack");
    Start {
        mm,
        abi: Box::new(Native),
        entry: program.entry(),
        stack: USER_STACK_TOP - 8,
        arg,
    }
}
