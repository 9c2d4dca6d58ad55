//! Trace hooks: what the manager did, as plain numbers a kernel can format.
//!
//! Linux 4.2+ had five `mpx` tracepoints (`mpx_new_bounds_table`,
//! `mpx_unmap_search`, `mpx_unmap_zap`, `mpx_bounds_register_exception`,
//! `bounds_exception_mpx`: `include/trace/events/mpx.h`); [`TraceEvent`] has
//! those and five more. A kernel passes a [`Trace`] to
//! [`MpxManager::with_trace`](crate::manager::MpxManager::with_trace); the
//! default, [`NoTrace`], does nothing and compiles to nothing.
//!
//! Events are emitted with the mm lock in whatever state the operation holds
//! it (often for write): an implementation must not take that lock, sleep, or
//! fault; copy the numbers into a buffer and format them later.

use core::fmt;

/// One thing the manager did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceEvent {
    /// A #BR installed a new table (Linux: `mpx_new_bounds_table`).
    NewTable {
        /// The directory entry's address.
        entry: u64,
        /// The table's address.
        table: u64,
    },
    /// The unmap hook looks for tables to free for `[start, end)` (Linux:
    /// `mpx_unmap_search`). Emitted once per hook run while managing.
    UnmapSearch {
        /// Start of the unmapped range.
        start: u64,
        /// End of the unmapped range.
        end: u64,
    },
    /// The pages `[start, end)` of a table kept in use were released (Linux:
    /// `mpx_unmap_zap`).
    UnmapZap {
        /// Start of the released table memory.
        start: u64,
        /// End of the released table memory.
        end: u64,
    },
    /// A bound violation was reported (Linux: `mpx_bounds_register_exception`).
    BoundsRegisterException {
        /// The address the failing check tested.
        address: u64,
        /// The bound register's lower bound.
        lower: u64,
        /// Its upper bound (inclusive, not complemented).
        upper: u64,
    },
    /// A #BR reached the manager (Linux: `bounds_exception_mpx`).
    BoundsException {
        /// The process's BNDCFGU.
        bndcfgu: u64,
        /// BNDSTATUS as the CPU wrote it.
        bndstatus: u64,
    },
    /// A table was unmapped whole: its span's data went, the user unmapped
    /// it, or its directory part went. (Not at teardown or exec, where
    /// everything goes at once.)
    TableFreed {
        /// The directory entry it was made for.
        entry: u64,
        /// The table's address.
        table: u64,
    },
    /// A #BR found a table installed by someone else; its own was dropped.
    RaceLost {
        /// The directory entry's address.
        entry: u64,
    },
    /// A directory entry with address bits but no valid bit was refused (by a
    /// #BR or the unmap hook); nothing was unmapped for it.
    CorruptEntry {
        /// The directory entry's address.
        entry: u64,
        /// What it held.
        value: u64,
    },
    /// A directory page was made present (`AddressSpace::fault_in`) for an
    /// entry access that faulted with faults disabled.
    FaultResolved {
        /// The address whose page was faulted in.
        address: u64,
    },
    /// A #BR was refused because the process is at its table limit.
    LimitReached {
        /// The directory entry's address.
        entry: u64,
        /// The limit, in tables.
        limit: u64,
    },
}

impl fmt::Display for TraceEvent {
    /// One line in the style of Linux's trace output (`name: field:value`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TraceEvent::NewTable { entry, table } => {
                write!(
                    f,
                    "mpx_new_bounds_table: table_vaddr:{table:#x} entry:{entry:#x}"
                )
            }
            TraceEvent::UnmapSearch { start, end } => {
                write!(f, "mpx_unmap_search: [{start:#x}:{end:#x}]")
            }
            TraceEvent::UnmapZap { start, end } => {
                write!(f, "mpx_unmap_zap: [{start:#x}:{end:#x}]")
            }
            TraceEvent::BoundsRegisterException {
                address,
                lower,
                upper,
            } => write!(
                f,
                "mpx_bounds_register_exception: address referenced: {address:#x} \
                 bounds: lower: {lower:#x} ~upper: {:#x}",
                !upper
            ),
            TraceEvent::BoundsException { bndcfgu, bndstatus } => write!(
                f,
                "bounds_exception_mpx: bndcfgu:{bndcfgu:#x} bndstatus:{bndstatus:#x}"
            ),
            TraceEvent::TableFreed { entry, table } => {
                write!(
                    f,
                    "mpx_table_freed: table_vaddr:{table:#x} entry:{entry:#x}"
                )
            }
            TraceEvent::RaceLost { entry } => write!(f, "mpx_race_lost: entry:{entry:#x}"),
            TraceEvent::CorruptEntry { entry, value } => {
                write!(f, "mpx_corrupt_entry: entry:{entry:#x} value:{value:#x}")
            }
            TraceEvent::FaultResolved { address } => {
                write!(f, "mpx_fault_resolved: address:{address:#x}")
            }
            TraceEvent::LimitReached { entry, limit } => {
                write!(f, "mpx_limit_reached: entry:{entry:#x} limit:{limit}")
            }
        }
    }
}

/// Receives the manager's [`TraceEvent`]s.
///
/// Called on whatever CPU runs the operation, possibly several at once, with
/// the mm lock possibly held for write: record, do not block (see the module
/// documentation).
pub trait Trace: Sync {
    /// One event. The default ignores it.
    #[inline(always)]
    fn event(&self, event: TraceEvent) {
        let _ = event;
    }
}

/// No tracing: every event is dropped at compile time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoTrace;

impl Trace for NoTrace {}

impl<T: Trace + ?Sized> Trace for &T {
    #[inline]
    fn event(&self, event: TraceEvent) {
        (**self).event(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn events_format_as_linux_did_with_plain_numbers() {
        let e = TraceEvent::BoundsRegisterException {
            address: 0x1010,
            lower: 0x1000,
            upper: 0x100f,
        };
        assert_eq!(
            format!("{e}"),
            "mpx_bounds_register_exception: address referenced: 0x1010 bounds: lower: 0x1000 \
             ~upper: 0xffffffffffffeff0"
        );
        assert_eq!(
            format!(
                "{}",
                TraceEvent::UnmapSearch {
                    start: 0x1000,
                    end: 0x2000
                }
            ),
            "mpx_unmap_search: [0x1000:0x2000]"
        );
        NoTrace.event(e);
        let by_reference: &dyn Trace = &&NoTrace;
        by_reference.event(e);
    }
}
