//! The native process ABI: the system calls the scenario programs use (`int 0x80`
//! with the number in `rax` and arguments in `rdi`, `rsi`, `rdx`; the result comes
//! back in `rax`: a value, or a negated error number), the kernel's side of them
//! ([`syscall`]), and the ring-3 side: the [`runtime`] and the [`programs`].
//!
//! The constants here are shared by both sides.

pub mod programs;
pub mod runtime;
pub mod syscall;

/// `exit(code)`: ends the process.
pub const SYS_EXIT: u64 = 0;
/// `write(buf, len)`: writes bytes to the console.
pub const SYS_WRITE: u64 = 1;
/// `mmap(addr, len, flags)`: anonymous read-write memory; returns its address.
pub const SYS_MMAP: u64 = 2;
/// `munmap(addr, len)`: unmaps (and tells the MPX manager first).
pub const SYS_MUNMAP: u64 = 3;
/// `mpx_enable(directory)`: program BNDCFGU for the directory and start management.
pub const SYS_MPX_ENABLE: u64 = 4;
/// `mpx_disable()`: stop management (tables stay mapped).
pub const SYS_MPX_DISABLE: u64 = 5;
/// `mpx_stat(which)`: one statistic, see the `STAT_*` constants.
pub const SYS_MPX_STAT: u64 = 6;
/// `report(key, value)`: hands the kernel a number the program counted (see the
/// `REPORT_*` constants), for the kernel to print and cross-check.
pub const SYS_REPORT: u64 = 7;

/// `mmap` flag: map exactly at `addr` (which must be free).
pub const MAP_FIXED: u64 = 1;

/// Statistic: tables installed over the process's life.
pub const STAT_TABLES_ALLOCATED: u64 = 0;
/// Statistic: tables freed.
pub const STAT_TABLES_FREED: u64 = 1;
/// Statistic: tables live now.
pub const STAT_LIVE_TABLES: u64 = 2;
/// Statistic: frames backing bounds-table mappings now (kernel accounting).
pub const STAT_TABLE_FRAMES: u64 = 3;
/// Statistic: bytes released from tables that stay mapped.
pub const STAT_BYTES_RELEASED: u64 = 4;
/// Statistic: free physical frames in the whole machine (the frame allocator's count).
pub const STAT_FREE_FRAMES: u64 = 5;
/// Statistic: frames of this process's page tables (an unmap may free some that map
/// nothing any more).
pub const STAT_PAGE_TABLE_FRAMES: u64 = 6;

/// Report key: `mmap` calls the program made.
pub const REPORT_MMAPS: u64 = 0;
/// Report key: `munmap` calls the program made.
pub const REPORT_MUNMAPS: u64 = 1;
/// Report key: bounds stores (`BNDSTX`) the program executed.
pub const REPORT_STORES: u64 = 2;

/// Invalid argument.
pub const EINVAL: u64 = 22;
/// Out of memory / address space.
pub const ENOMEM: u64 = 12;
/// Bad address, or the unmap hook found a corrupt directory.
pub const EFAULT: u64 = 14;
/// MPX cannot be managed (disabled configuration).
pub const ENXIO: u64 = 6;

/// The MPX geometry of the (64-bit) scenario programs, from the crate.
pub const GEOMETRY: mpx::arch::Geometry = mpx::arch::Geometry::LONG64;

/// Constants the scenarios share between the ring-3 side and the kernel side.
pub mod layout {
    use super::GEOMETRY;

    /// Where the scenarios put their data mappings (1 MiB aligned).
    pub const DATA_BASE: u64 = 0x3000_0000_0000;
    /// One span: the addresses one directory entry covers.
    pub const SPAN: u64 = GEOMETRY.span_bytes();
    /// Size of a bounds table.
    pub const TABLE_SIZE: u64 = GEOMETRY.table_bytes();
    /// Size of the bounds directory.
    pub const DIRECTORY_SIZE: u64 = GEOMETRY.directory_bytes();
    /// Spans the `alloc` scenario stores into.
    pub const ALLOC_SPANS: u64 = 8;
    /// Offset of the checked address from the buffer in the `violation` scenario.
    pub const VIOLATION_OFFSET: u64 = 100;
    /// Bytes the `violation` scenario's bounds allow.
    pub const VIOLATION_LEN: u64 = 16;
    /// An address no scenario maps (the `violation` scenario's wild read).
    pub const SEGV_ADDRESS: u64 = 0x2000_0000_0000;
    /// A kernel address that is mapped, but for the kernel only: the start of the
    /// physical map (the `violation` scenario's read of kernel memory).
    pub const KERNEL_ADDRESS: u64 = 0xFFFF_8000_0000_0000;
    /// Operations (each one `mmap`, `munmap` or bounds store) of the `churn` scenario.
    pub const CHURN_OPS: u64 = 12_000;
    /// The fewest operations the issue asks of `churn`.
    pub const CHURN_MIN_OPS: u64 = 10_000;
    /// Seed of `churn`'s random sequence unless the command line names one
    /// (`churn_seed=N`).
    pub const CHURN_DEFAULT_SEED: u64 = 0x9e37_79b9_7f4a_7c15;
}
