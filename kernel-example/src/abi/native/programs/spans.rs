//! The programs that exercise allocation and freeing: hello, alloc, free, partial,
//! violation (with a wild read and a kernel read), disable, load-alloc, table-unmap.
//! Each exits with 0 when every expectation it checks holds, otherwise with the
//! number of the first failed check.

use super::super::layout::*;
use super::super::runtime::*;
use super::super::*;

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
    let free = free_frames();
    check!(munmap(DATA_BASE, N * SPAN) == 0, 5);
    check!(free_frames() == free + N, 9);
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
    let free = free_frames();
    check!(munmap(a, HALF) == 0, 6);
    // The table page that described only the unmapped half came back.
    check!(free_frames() == free + 1, 19);
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
    let free = free_frames();
    check!(munmap(b, HALF) == 0, 15);
    check!(free_frames() == free + 2, 20);
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
    let free = free_frames();
    check!(munmap(DATA_BASE, SPAN) == 0, 7);
    check!(free_frames() == free + 1, 10);
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
    let free = free_frames();
    check!(munmap(entry & !7, TABLE_SIZE) == 0, 5);
    check!(free_frames() == free + 1, 16);
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
