//! The ring-3 programs, linked into the user image (`.user.text` at 4 MiB).
//!
//! Everything here runs in ring 3 and can reach only the user image, its stack and
//! what it maps: no kernel code, so every helper is `#[inline(always)]` and the
//! programs avoid anything that could become a call into `core` (formatting, slices
//! with bounds checks, `memset`). MPX instructions are emitted as bytes (LLVM's
//! assembler rejects the mnemonics), in forms whose result is the SDM's on QEMU 7.2,
//! QEMU 10.0 and SDM hardware alike (the boot probes check each, see `quirk`):
//! `BNDSTX`/`BNDLDX` use `[rdi+rcx]` (no displacement, base not rbp/r13) followed by
//! exactly one `nop`, which QEMU 7.2's instruction-length bug (B) swallows and
//! everything else executes; bound checks use the memory form `[reg]`, never a
//! register operand, which QEMU 10 gets wrong (bug C); `BNDMK` uses `[rsi+rdx]`.
//!
//! Each program exits with 0 when every expectation it checks holds, otherwise
//! with the number of the first failed check.

use crate::abi::layout::*;
use crate::abi::*;
use core::arch::asm;

const HALF: u64 = SPAN / 2;

#[inline(always)]
fn sys(n: u64, a: u64, b: u64, c: u64) -> u64 {
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
fn exit(code: u64) -> ! {
    sys(SYS_EXIT, code, 0, 0);
    loop {
        core::hint::spin_loop();
    }
}

#[inline(always)]
fn stat(which: u64) -> u64 {
    sys(SYS_MPX_STAT, which, 0, 0)
}

#[inline(always)]
fn mmap_fixed(addr: u64, len: u64) -> bool {
    sys(SYS_MMAP, addr, len, MAP_FIXED) == addr
}

#[inline(always)]
fn munmap(addr: u64, len: u64) -> u64 {
    sys(SYS_MUNMAP, addr, len, 0)
}

/// Maps a bounds directory and asks the kernel to manage tables. 0 on failure.
#[inline(always)]
fn enable_mpx() -> u64 {
    let bd = sys(SYS_MMAP, 0, DIRECTORY_SIZE, 0);
    if bd >= 1 << 47 || sys(SYS_MPX_ENABLE, bd, 0, 0) != 0 {
        return 0;
    }
    bd
}

/// Address of the directory entry for linear address `la` (BD index = LA[47:20]).
#[inline(always)]
fn entry_addr(bd: u64, la: u64) -> u64 {
    bd + ((la >> 20) & ((1 << 28) - 1)) * 8
}

/// Address of word `word` (0..4) of the bounds-table entry for `la` in `table`
/// (BT index = LA[19:3], 32-byte entries).
#[inline(always)]
fn table_word_addr(table: u64, la: u64, word: u64) -> u64 {
    table + ((la >> 3) & 0x1_ffff) * 32 + word * 8
}

/// Reads the 8 bytes at `address` with one `mov`.
///
/// The programs read the directory, the tables and their data mappings: memory the
/// kernel maps, which holds no Rust object of the program. An address the process
/// cannot read does not return: the kernel kills the process.
#[inline(always)]
fn peek(address: u64) -> u64 {
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
fn poke(address: u64, value: u64) {
    // SAFETY: as in `peek`: the target is kernel-provided memory that holds no Rust
    // object of the program (a directory entry or a data word).
    unsafe {
        asm!("mov qword ptr [{}], {}", in(reg) address, in(reg) value,
             options(nostack, preserves_flags))
    };
}

/// `bndmk bnd0, [rsi+rdx]`: bnd0 = [lower, upper] (upper inclusive).
#[inline(always)]
fn bndmk0(lower: u64, upper: u64) {
    // SAFETY: BNDMK only writes bnd0.
    unsafe {
        asm!(".byte 0xf3, 0x0f, 0x1b, 0x04, 0x16", in("rsi") lower, in("rdx") upper - lower, options(nostack))
    };
}

/// `bndmk bnd1, [rsi+rdx]`.
#[inline(always)]
fn bndmk1(lower: u64, upper: u64) {
    // SAFETY: BNDMK only writes bnd1.
    unsafe {
        asm!(".byte 0xf3, 0x0f, 0x1b, 0x0c, 0x16", in("rsi") lower, in("rdx") upper - lower, options(nostack))
    };
}

/// `bndstx [rdi+rcx], bnd0; nop`: stores bnd0 for pointer `ptr` kept at `slot`.
#[inline(always)]
fn bndstx0(slot: u64, ptr: u64) {
    // SAFETY: BNDSTX writes only the bounds-table entry for `slot`, in memory the
    // kernel manages for this process.
    unsafe {
        asm!(".byte 0x0f, 0x1b, 0x04, 0x0f", "nop", in("rdi") slot, in("rcx") ptr, options(nostack))
    };
}

/// `bndldx bnd1, [rdi+rcx]; nop`, then `bndmov [rsi], bnd1`: the bounds loaded for
/// pointer `ptr` kept at `slot`, as (lower, stored upper).
#[inline(always)]
fn bndldx1(slot: u64, ptr: u64) -> (u64, u64) {
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
fn bndcu0(address: u64) {
    // SAFETY: BNDCU only compares (and raises #BR when out of bounds).
    unsafe { asm!(".byte 0xf2, 0x0f, 0x1a, 0x01", in("rcx") address, options(nostack)) };
}

macro_rules! check {
    ($cond:expr, $code:expr) => {
        if !$cond {
            return $code;
        }
    };
}

#[link_section = ".user.rodata"]
static HELLO: [u8; 18] = *b"hello from ring 3\n";

/// Writes a greeting and exits 0: proof that the kernel carries on.
#[link_section = ".user.text"]
pub extern "C" fn prog_hello(_: u64) -> ! {
    let n = sys(SYS_WRITE, HELLO.as_ptr() as u64, HELLO.len() as u64, 0);
    exit(if n == HELLO.len() as u64 { 0 } else { 1 })
}

/// `alloc`: stores into fresh spans allocate one table each; loads read the bounds back.
#[link_section = ".user.text"]
pub extern "C" fn prog_alloc(_: u64) -> ! {
    exit(alloc())
}

#[inline(always)]
fn alloc() -> u64 {
    let bd = enable_mpx();
    check!(bd != 0, 1);
    // A misaligned directory is refused (and management stays as it was).
    check!(
        sys(SYS_MPX_ENABLE, bd + 8, 0, 0) == EINVAL.wrapping_neg(),
        5
    );
    check!(mmap_fixed(DATA_BASE, ALLOC_SPANS * SPAN), 2);
    let mut i = 0;
    while i < ALLOC_SPANS {
        let p = DATA_BASE + i * SPAN + i * 64;
        bndmk0(p, p + 15);
        bndstx0(p, p);
        check!(stat(STAT_TABLES_ALLOCATED) == i + 1, 10 + i);
        check!(peek(entry_addr(bd, p)) & 1 == 1, 30 + i);
        i += 1;
    }
    check!(stat(STAT_TABLE_FRAMES) == ALLOC_SPANS, 3);
    let mut i = 0;
    while i < ALLOC_SPANS {
        let p = DATA_BASE + i * SPAN + i * 64;
        let (lower, upper) = bndldx1(p, p);
        check!(lower == p && upper == !(p + 15), 50 + i);
        i += 1;
    }
    check!(stat(STAT_TABLES_ALLOCATED) == ALLOC_SPANS, 4);
    0
}

/// `free`: unmapping the spans frees their tables and clears their entries.
#[link_section = ".user.text"]
pub extern "C" fn prog_free(_: u64) -> ! {
    exit(free())
}

#[inline(always)]
fn free() -> u64 {
    const N: u64 = 4;
    let bd = enable_mpx();
    check!(bd != 0, 1);
    check!(mmap_fixed(DATA_BASE, N * SPAN), 2);
    let mut i = 0;
    while i < N {
        let p = DATA_BASE + i * SPAN + 0x100;
        bndmk0(p, p + 7);
        bndstx0(p, p);
        i += 1;
    }
    check!(stat(STAT_TABLES_ALLOCATED) == N, 3);
    check!(stat(STAT_TABLE_FRAMES) == N, 4);
    // The data pages were never touched: exactly the N table frames come back.
    let free = stat(STAT_FREE_FRAMES);
    check!(munmap(DATA_BASE, N * SPAN) == 0, 5);
    check!(stat(STAT_FREE_FRAMES) == free + N, 9);
    check!(stat(STAT_TABLES_FREED) == N, 6);
    check!(stat(STAT_LIVE_TABLES) == 0, 7);
    check!(stat(STAT_TABLE_FRAMES) == 0, 8);
    let mut i = 0;
    while i < N {
        check!(peek(entry_addr(bd, DATA_BASE + i * SPAN)) == 0, 10 + i);
        i += 1;
    }
    0
}

/// `partial`: a neighbour in the same span keeps the table; the pages describing the
/// unmapped half are released.
#[link_section = ".user.text"]
pub extern "C" fn prog_partial(_: u64) -> ! {
    exit(partial())
}

#[inline(always)]
fn partial() -> u64 {
    let bd = enable_mpx();
    check!(bd != 0, 1);
    let (a, b) = (DATA_BASE, DATA_BASE + HALF);
    check!(mmap_fixed(a, HALF) && mmap_fixed(b, HALF), 2);
    let (p, q) = (a + 0x1000, b + 0x1000);
    bndmk0(p, p + 7);
    bndstx0(p, p);
    bndmk0(q, q + 7);
    bndstx0(q, q);
    check!(stat(STAT_TABLES_ALLOCATED) == 1, 3);
    check!(stat(STAT_TABLE_FRAMES) == 2, 4);
    let entry = peek(entry_addr(bd, p));
    check!(entry & 1 == 1, 5);
    let table = entry & !7;
    let free = stat(STAT_FREE_FRAMES);
    check!(munmap(a, HALF) == 0, 6);
    // The table page that described only the unmapped half came back.
    check!(stat(STAT_FREE_FRAMES) == free + 1, 19);
    check!(stat(STAT_TABLES_FREED) == 0, 7);
    check!(stat(STAT_LIVE_TABLES) == 1, 8);
    check!(stat(STAT_TABLE_FRAMES) == 1, 9);
    check!(stat(STAT_BYTES_RELEASED) >= 4096, 10);
    check!(peek(entry_addr(bd, p)) == entry, 11);
    // p's entry lived in the released page: it reads back as zeros.
    check!(peek(table_word_addr(table, p, 0)) == 0, 12);
    check!(peek(table_word_addr(table, p, 1)) == 0, 21);
    check!(peek(table_word_addr(table, p, 2)) == 0, 13);
    let (lower, upper) = bndldx1(q, q);
    check!(lower == q && upper == !(q + 7), 14);
    // The rest of the table goes with the last mapping of the span.
    let free = stat(STAT_FREE_FRAMES);
    check!(munmap(b, HALF) == 0, 15);
    check!(stat(STAT_FREE_FRAMES) == free + 2, 20);
    check!(stat(STAT_TABLES_FREED) == 1, 16);
    check!(stat(STAT_TABLE_FRAMES) == 0, 17);
    check!(peek(entry_addr(bd, p)) == 0, 18);
    0
}

/// `violation`: an out-of-range BNDCU; the kernel reports it and kills the process.
#[link_section = ".user.text"]
pub extern "C" fn prog_violation(_: u64) -> ! {
    exit(violation())
}

#[inline(always)]
fn violation() -> u64 {
    check!(enable_mpx() != 0, 1);
    check!(mmap_fixed(DATA_BASE, 4096), 2);
    let buf = DATA_BASE;
    bndmk0(buf, buf + VIOLATION_LEN - 1);
    bndcu0(buf + 8);
    bndcu0(buf + VIOLATION_OFFSET);
    99
}

/// Touches an address no mapping covers: the kernel kills it like SIGSEGV.
#[link_section = ".user.text"]
pub extern "C" fn prog_segv(_: u64) -> ! {
    exit(peek(SEGV_ADDRESS))
}

/// Reads kernel memory (present, supervisor-only): killed like SIGSEGV, and the read
/// returns nothing.
#[link_section = ".user.text"]
pub extern "C" fn prog_kernel_read(_: u64) -> ! {
    exit(peek(KERNEL_ADDRESS))
}

/// `disable`: after management is switched off, unmaps leave tables alone and a
/// directory miss is not handled (the process is killed).
#[link_section = ".user.text"]
pub extern "C" fn prog_disable(_: u64) -> ! {
    exit(disable())
}

#[inline(always)]
fn disable() -> u64 {
    let bd = enable_mpx();
    check!(bd != 0, 1);
    check!(mmap_fixed(DATA_BASE, 2 * SPAN), 2);
    let p = DATA_BASE + 0x80;
    bndmk0(p, p + 7);
    bndstx0(p, p);
    check!(stat(STAT_TABLES_ALLOCATED) == 1, 3);
    let entry = peek(entry_addr(bd, p));
    check!(sys(SYS_MPX_DISABLE, 0, 0, 0) == 0, 4);
    check!(munmap(DATA_BASE, SPAN) == 0, 5);
    check!(stat(STAT_TABLES_FREED) == 0, 6);
    check!(peek(entry_addr(bd, p)) == entry, 7);
    check!(stat(STAT_TABLE_FRAMES) == 1, 8);
    let q = DATA_BASE + SPAN + 0x80;
    bndstx0(q, q);
    99
}

/// `load-alloc`: BNDLDX in an empty span allocates a table and loads INIT bounds.
#[link_section = ".user.text"]
pub extern "C" fn prog_load_alloc(_: u64) -> ! {
    exit(load_alloc())
}

#[inline(always)]
fn load_alloc() -> u64 {
    let bd = enable_mpx();
    check!(bd != 0, 1);
    check!(mmap_fixed(DATA_BASE, SPAN), 2);
    let p = DATA_BASE + 0x2000;
    bndmk1(p, p + 31);
    let (lower, upper) = bndldx1(p, p);
    check!(lower == 0 && upper == 0, 3);
    check!(stat(STAT_TABLES_ALLOCATED) == 1, 4);
    check!(peek(entry_addr(bd, p)) & 1 == 1, 5);
    check!(stat(STAT_TABLE_FRAMES) == 1, 6);
    let free = stat(STAT_FREE_FRAMES);
    check!(munmap(DATA_BASE, SPAN) == 0, 7);
    check!(stat(STAT_FREE_FRAMES) == free + 1, 10);
    check!(stat(STAT_TABLES_FREED) == 1, 8);
    check!(stat(STAT_TABLE_FRAMES) == 0, 9);
    0
}

/// `table-unmap`: the user unmaps a table; the entry is invalidated without recursion
/// and the next store gets a new table.
#[link_section = ".user.text"]
pub extern "C" fn prog_table_unmap(_: u64) -> ! {
    exit(table_unmap())
}

#[inline(always)]
fn table_unmap() -> u64 {
    let bd = enable_mpx();
    check!(bd != 0, 1);
    check!(mmap_fixed(DATA_BASE, SPAN), 2);
    let p = DATA_BASE + 0x40;
    bndmk0(p, p + 7);
    bndstx0(p, p);
    check!(stat(STAT_TABLES_ALLOCATED) == 1, 3);
    let entry = peek(entry_addr(bd, p));
    check!(entry & 1 == 1, 4);
    let free = stat(STAT_FREE_FRAMES);
    check!(munmap(entry & !7, TABLE_SIZE) == 0, 5);
    check!(stat(STAT_FREE_FRAMES) == free + 1, 16);
    check!(peek(entry_addr(bd, p)) == 0, 6);
    check!(stat(STAT_TABLES_FREED) == 1, 7);
    check!(stat(STAT_LIVE_TABLES) == 0, 8);
    check!(stat(STAT_TABLE_FRAMES) == 0, 9);
    bndstx0(p, p);
    check!(stat(STAT_TABLES_ALLOCATED) == 2, 10);
    let again = peek(entry_addr(bd, p));
    check!(again & 1 == 1, 11);
    let (lower, upper) = bndldx1(p, p);
    check!(lower == p && upper == !(p + 7), 12);
    check!(munmap(DATA_BASE, SPAN) == 0, 13);
    check!(stat(STAT_TABLES_FREED) == 2, 14);
    check!(stat(STAT_TABLE_FRAMES) == 0, 15);
    0
}

/// `corrupt`, first half: a garbage directory entry, then a store: the #BR cannot be
/// handled and the process is killed.
#[link_section = ".user.text"]
pub extern "C" fn prog_corrupt_store(_: u64) -> ! {
    exit(corrupt_store())
}

#[inline(always)]
fn corrupt_store() -> u64 {
    let bd = enable_mpx();
    check!(bd != 0, 1);
    check!(mmap_fixed(DATA_BASE, SPAN), 2);
    let p = DATA_BASE;
    poke(entry_addr(bd, p), 0xdead_0000);
    bndmk0(p, p + 7);
    bndstx0(p, p);
    99
}

/// `corrupt`, second half: a table, then garbage over its entry, then munmap: the
/// unmap hook reports the corruption and munmap fails with `EFAULT`.
#[link_section = ".user.text"]
pub extern "C" fn prog_corrupt_unmap(_: u64) -> ! {
    exit(corrupt_unmap())
}

#[inline(always)]
fn corrupt_unmap() -> u64 {
    let bd = enable_mpx();
    check!(bd != 0, 1);
    check!(mmap_fixed(DATA_BASE, SPAN), 2);
    let p = DATA_BASE;
    bndmk0(p, p + 7);
    bndstx0(p, p);
    check!(stat(STAT_TABLES_ALLOCATED) == 1, 3);
    poke(entry_addr(bd, p), 0xdead_0000);
    let free = stat(STAT_FREE_FRAMES);
    check!(munmap(DATA_BASE, SPAN) == EFAULT.wrapping_neg(), 4);
    // The table is not freed (its entry no longer names it): nothing came back.
    check!(stat(STAT_TABLES_FREED) == 0, 5);
    check!(stat(STAT_FREE_FRAMES) == free, 6);
    0
}

/// `corrupt`, third part: a valid-looking entry that points at the process's own
/// data. `munmap` of the span fails with `EFAULT` and the data is left alone.
#[link_section = ".user.text"]
pub extern "C" fn prog_corrupt_pointer(_: u64) -> ! {
    exit(corrupt_pointer())
}

#[inline(always)]
fn corrupt_pointer() -> u64 {
    const MARKER: u64 = 0x5eed_f00d_cafe_0001;
    let bd = enable_mpx();
    check!(bd != 0, 1);
    check!(mmap_fixed(DATA_BASE, 2 * SPAN), 2);
    let (data, p) = (DATA_BASE, DATA_BASE + SPAN);
    poke(data, MARKER);
    bndmk0(p, p + 7);
    bndstx0(p, p);
    check!(stat(STAT_TABLES_ALLOCATED) == 1, 3);
    // Valid bit set, "table" = the first span's data.
    poke(entry_addr(bd, p), data | 1);
    check!(munmap(p, SPAN) == EFAULT.wrapping_neg(), 4);
    check!(stat(STAT_TABLES_FREED) == 0, 5);
    check!(peek(data) == MARKER, 6);
    check!(peek(entry_addr(bd, p)) == data | 1, 7);
    check!(munmap(data, SPAN) == 0, 8);
    0
}

/// `churn`: [`CHURN_OPS`] random operations over 32 spans (64 half-span slots), each
/// one `mmap`, one `munmap` or one bounds store, counted by kind and reported to the
/// kernel; then everything is unmapped and no table may survive.
#[link_section = ".user.text"]
pub extern "C" fn prog_churn(seed: u64) -> ! {
    exit(churn(seed))
}

#[inline(always)]
fn churn(seed: u64) -> u64 {
    let bd = enable_mpx();
    check!(bd != 0, 1);
    // xorshift64: any non-zero seed gives a different sequence.
    let mut rng: u64 = if seed == 0 { CHURN_DEFAULT_SEED } else { seed };
    let mut used: u64 = 0;
    let (mut mmaps, mut munmaps, mut stores) = (0u64, 0u64, 0u64);
    let mut op = 0;
    while op < CHURN_OPS {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let slot = rng & 63;
        let addr = DATA_BASE + slot * HALF;
        if used & (1 << slot) == 0 {
            check!(mmap_fixed(addr, HALF), 2);
            mmaps += 1;
            used |= 1 << slot;
        } else {
            let choice = (rng >> 8) & 7;
            if choice < 6 {
                let p = addr + ((rng >> 16) & (HALF / 8 - 1)) * 8;
                bndmk0(p, p + 63);
                bndstx0(p, p);
                stores += 1;
            } else if choice == 6 {
                check!(munmap(addr, HALF) == 0, 3);
                munmaps += 1;
                used &= !(1 << slot);
            } else {
                let first = slot & !1;
                check!(munmap(DATA_BASE + first * HALF, SPAN) == 0, 4);
                munmaps += 1;
                used &= !(3 << first);
            }
        }
        if op % 1000 == 999 {
            check!(stat(STAT_LIVE_TABLES) <= 32, 5);
        }
        op += 1;
    }
    check!(mmaps + munmaps + stores == CHURN_OPS, 11);
    check!(sys(SYS_REPORT, REPORT_MMAPS, mmaps, 0) == 0, 12);
    check!(sys(SYS_REPORT, REPORT_MUNMAPS, munmaps, 0) == 0, 12);
    check!(sys(SYS_REPORT, REPORT_STORES, stores, 0) == 0, 12);
    check!(stat(STAT_TABLES_ALLOCATED) > 32, 6);
    check!(munmap(DATA_BASE, 32 * SPAN) == 0, 7);
    check!(stat(STAT_LIVE_TABLES) == 0, 8);
    check!(stat(STAT_TABLE_FRAMES) == 0, 9);
    check!(stat(STAT_TABLES_FREED) == stat(STAT_TABLES_ALLOCATED), 10);
    0
}

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

/// Physical address and length of the user image (page multiples).
pub fn image() -> (u64, u64) {
    let (phys, start, end): (u64, u64, u64);
    // SAFETY: loads linker-script symbols as absolute constants.
    unsafe {
        asm!("movabs {}, offset __user_image_phys", "movabs {}, offset __user_image_start",
             "movabs {}, offset __user_image_end",
             out(reg) phys, out(reg) start, out(reg) end, options(nomem, nostack));
    }
    (phys, end - start)
}
