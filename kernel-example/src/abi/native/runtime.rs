//! The ring-3 runtime the native programs share: system calls and MPX instructions.
//!
//! Everything here runs in ring 3 and can reach only the user image, its stack and
//! what it maps: no kernel code, so every helper is `#[inline(always)]` and avoids
//! anything that could become a call into `core` (formatting, slices with bounds
//! checks, `memset`). MPX instructions are emitted as bytes (LLVM's assembler rejects
//! the mnemonics), in forms whose result is the SDM's on QEMU 7.2, QEMU 10.0 and SDM
//! hardware alike (the boot probes check each, see `quirk`): `BNDSTX`/`BNDLDX` use
//! `[rdi+rcx]` (no displacement, base not rbp/r13) followed by exactly one `nop`,
//! which QEMU 7.2's instruction-length bug (B) swallows and everything else executes;
//! bound checks use the memory form `[reg]`, never a register operand, which QEMU 10
//! gets wrong (bug C); `BNDMK` uses `[rsi+rdx]`.

use super::layout::*;
use super::*;
use core::arch::asm;

/// Half a span.
pub(super) const HALF: u64 = SPAN / 2;

#[inline(always)]
pub(super) fn sys(n: u64, a: u64, b: u64, c: u64) -> u64 {
    let ret;
    // SAFETY: `int 0x80` enters the kernel's system-call gate, which preserves every
    // register except rax.
    unsafe {
        asm!("int 0x80", inlateout("rax") n => ret, in("rdi") a, in("rsi") b, in("rdx") c,
             options(nostack))
    };
    ret
}

#[inline(always)]
pub(super) fn exit(code: u64) -> ! {
    sys(SYS_EXIT, code, 0, 0);
    loop {
        core::hint::spin_loop();
    }
}

#[inline(always)]
pub(super) fn stat(which: u64) -> u64 {
    sys(SYS_MPX_STAT, which, 0, 0)
}

/// Free frames plus this process's page-table frames: what stays the same when the
/// kernel frees a page table that maps nothing any more, so that the difference
/// across an unmap counts exactly the data and bounds-table frames it returned.
#[inline(always)]
pub(super) fn free_frames() -> u64 {
    stat(STAT_FREE_FRAMES) + stat(STAT_PAGE_TABLE_FRAMES)
}

#[inline(always)]
pub(super) fn mmap_fixed(addr: u64, len: u64) -> bool {
    sys(SYS_MMAP, addr, len, MAP_FIXED) == addr
}

#[inline(always)]
pub(super) fn munmap(addr: u64, len: u64) -> u64 {
    sys(SYS_MUNMAP, addr, len, 0)
}

/// Maps a bounds directory and asks the kernel to manage tables. 0 on failure.
#[inline(always)]
pub(super) fn enable_mpx() -> u64 {
    let bd = sys(SYS_MMAP, 0, DIRECTORY_SIZE, 0);
    if bd >= 1 << 47 || sys(SYS_MPX_ENABLE, bd, 0, 0) != 0 {
        return 0;
    }
    bd
}

// The directory and table arithmetic of `mpx::arch::Geometry`, as constants taken from
// the crate at compile time: ring-3 code cannot call into the kernel image, so every
// value must be a `const` (a call to a `const fn` at run time would be a call there).
const SPAN_SHIFT: u32 = SPAN.trailing_zeros();
const DIR_INDEX_MASK: u64 = GEOMETRY.directory_entries() - 1;
const DIR_ENTRY_BYTES: u64 = GEOMETRY.directory_entry_bytes();
const SLOT_SHIFT: u32 = (SPAN / GEOMETRY.table_entries()).trailing_zeros();
const TABLE_INDEX_MASK: u64 = GEOMETRY.table_entries() - 1;
const TABLE_ENTRY_BYTES: u64 = GEOMETRY.table_entry_bytes();
const WORD_BYTES: u64 = GEOMETRY.entry_width().bytes();

/// Address of the directory entry for linear address `la`
/// (`Geometry::directory_entry_offset`).
#[inline(always)]
pub(super) fn entry_addr(bd: u64, la: u64) -> u64 {
    bd + ((la >> SPAN_SHIFT) & DIR_INDEX_MASK) * DIR_ENTRY_BYTES
}

/// Address of word `word` (0..4) of the bounds-table entry for `la` in `table`
/// (`Geometry::table_entry_offset`).
#[inline(always)]
pub(super) fn table_word_addr(table: u64, la: u64, word: u64) -> u64 {
    table + ((la >> SLOT_SHIFT) & TABLE_INDEX_MASK) * TABLE_ENTRY_BYTES + word * WORD_BYTES
}

/// Reads the 8 bytes at `address` with one `mov`.
///
/// The programs read the directory, the tables and their data mappings: memory the
/// kernel maps, which holds no Rust object of the program. An address the process
/// cannot read does not return: the kernel kills the process.
#[inline(always)]
pub(super) fn peek(address: u64) -> u64 {
    let value;
    // SAFETY: the asm reads 8 bytes at `address` and writes only its output register;
    // it aliases no Rust object (see above), and a bad address ends the process.
    unsafe {
        asm!("mov {}, qword ptr [{}]", lateout(reg) value, in(reg) address,
             options(nostack, readonly, preserves_flags))
    };
    value
}

/// Writes `value` to the 8 bytes at `address` with one `mov` (see [`peek`]).
#[inline(always)]
pub(super) fn poke(address: u64, value: u64) {
    // SAFETY: as in `peek`: the target is kernel-provided memory that holds no Rust
    // object of the program (a directory entry or a data word).
    unsafe {
        asm!("mov qword ptr [{}], {}", in(reg) address, in(reg) value,
             options(nostack, preserves_flags))
    };
}

/// `bndmk bnd0, [rsi+rdx]`: bnd0 = [lower, upper] (upper inclusive).
#[inline(always)]
pub(super) fn bndmk0(lower: u64, upper: u64) {
    // SAFETY: BNDMK only writes bnd0.
    unsafe {
        asm!(".byte 0xf3, 0x0f, 0x1b, 0x04, 0x16", in("rsi") lower, in("rdx") upper - lower, options(nostack))
    };
}

/// `bndmk bnd1, [rsi+rdx]`.
#[inline(always)]
pub(super) fn bndmk1(lower: u64, upper: u64) {
    // SAFETY: BNDMK only writes bnd1.
    unsafe {
        asm!(".byte 0xf3, 0x0f, 0x1b, 0x0c, 0x16", in("rsi") lower, in("rdx") upper - lower, options(nostack))
    };
}

/// `bndstx [rdi+rcx], bnd0; nop`: stores bnd0 for pointer `ptr` kept at `slot`.
#[inline(always)]
pub(super) fn bndstx0(slot: u64, ptr: u64) {
    // SAFETY: BNDSTX writes only the bounds-table entry for `slot`, in memory the
    // kernel manages for this process.
    unsafe {
        asm!(".byte 0x0f, 0x1b, 0x04, 0x0f", "nop", in("rdi") slot, in("rcx") ptr, options(nostack))
    };
}

/// `bndldx bnd1, [rdi+rcx]; nop`, then `bndmov [rsi], bnd1`: the bounds loaded for
/// pointer `ptr` kept at `slot`, as (lower, stored upper).
#[inline(always)]
pub(super) fn bndldx1(slot: u64, ptr: u64) -> (u64, u64) {
    let mut out = [0u64; 2];
    // SAFETY: BNDLDX reads the bounds-table entry; BNDMOV writes 16 bytes to `out`.
    unsafe {
        asm!(".byte 0x0f, 0x1a, 0x0c, 0x0f", "nop", ".byte 0x66, 0x0f, 0x1b, 0x0e",
             in("rdi") slot, in("rcx") ptr, in("rsi") out.as_mut_ptr(), options(nostack))
    };
    (out[0], out[1])
}

/// `bndcu bnd0, [rcx]`: checks `address` (the operand's effective address; no
/// memory is read). The memory form, because QEMU 10 checks `2·RAX` in the register
/// form (bug C, found by the boot probe).
#[inline(always)]
pub(super) fn bndcu0(address: u64) {
    // SAFETY: BNDCU only compares (and raises #BR when out of bounds).
    unsafe { asm!(".byte 0xf2, 0x0f, 0x1a, 0x01", in("rcx") address, options(nostack)) };
}

/// Returns `$code` from the enclosing program body unless `$cond` holds.
macro_rules! check {
    ($cond:expr, $code:expr) => {
        if !$cond {
            return $code;
        }
    };
}

pub(super) use check;
