//! The programs that attack or churn: corrupt directory entries (three ways) and
//! the random `churn` workload.

use super::super::layout::*;
use super::super::runtime::*;
use super::super::*;

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
    let free = free_frames();
    check!(munmap(DATA_BASE, SPAN) == EFAULT.wrapping_neg(), 4);
    // The table is not freed (its entry no longer names it): nothing came back.
    check!(stat(STAT_TABLES_FREED) == 0, 5);
    check!(free_frames() == free, 6);
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
