//! The ring-3 programs (linked into the user image, `.user.text` at 4 MiB) and how
//! the kernel finds them.

mod hostile;
mod spans;

use crate::proc::run::Image;
use core::arch::asm;
use hostile::*;
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
pub fn image() -> Image {
    let (phys, start, end): (u64, u64, u64);
    // SAFETY: loads linker-script symbols as absolute constants.
    unsafe {
        asm!("movabs {}, offset __user_image_phys", "movabs {}, offset __user_image_start",
             "movabs {}, offset __user_image_end",
             out(reg) phys, out(reg) start, out(reg) end, options(nomem, nostack));
    }
    Image {
        phys,
        len: end - start,
    }
}
