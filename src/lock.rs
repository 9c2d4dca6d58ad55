//! The mm lock: Linux's `mmap_sem` as a `spin::RwLock` with intent-named verbs.
//!
//! # Protocol
//! - Changing the VMA set (map, unmap, the unmap hook) needs the lock **for
//!   write**: [`MmLock::write`] returns an [`MmWriteGuard`]. The
//!   [`MpxManager`](crate::manager::MpxManager) owns its process's lock and
//!   issues its own write guard,
//!   [`MpxWriteGuard`](crate::manager::MpxWriteGuard), whose methods are the
//!   operations that need it (enable, disable, munmap): they cannot run
//!   without the lock, nor with another process's.
//! - Resolving a page fault needs the lock **for read**. The page-fault path
//!   must use [`MmLock::read_for_fault`], which never spins on a writer that
//!   is the faulting context itself: that writer can only be waiting for the
//!   fault to finish, so spinning would deadlock. It reports
//!   [`FaultLockError::WouldDeadlock`] instead (and counts it); the access then
//!   fails like a fault with page faults disabled.
//! - Code that holds the write lock touches user memory only through
//!   [`UserAccess`](crate::mm::UserAccess), whose accesses run with page faults
//!   disabled, and resolves a fault explicitly with
//!   [`AddressSpace::fault_in`](crate::mm::AddressSpace::fault_in) (Linux's
//!   `get_user_pages`) before retrying.
//!
//! The lock cannot know on its own which CPU or thread is running; the
//! kernel gives it a [`ContextId`] function at construction: a thread id, or
//! a CPU number (or a constant on a single CPU) only if the holder of the
//! write lock can be neither preempted nor migrated while it holds it;
//! otherwise another thread on the same CPU would be refused as if it were
//! the writer.
//!
//! `spin::RwLock` lets readers in while a writer waits, so a steady stream of
//! page faults can delay a munmap; a kernel that needs fairness must provide
//! it around this lock.

use crate::sync::{
    const_unless_loom, spin_loop, AtomicU64, Ordering, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
use core::fmt;
use core::ops::{Deref, DerefMut};
// A statistic, not part of the protocol: kept out of `crate::sync`.
use core::sync::atomic::AtomicU64 as Counter;

/// Returns an identifier of the running context (CPU or thread), never `u64::MAX`.
pub type ContextId = fn() -> u64;

const NO_WRITER: u64 = u64::MAX;

/// Why [`MmLock::read_for_fault`] did not take the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultLockError {
    /// The running context holds the lock for write: waiting would never end.
    WouldDeadlock,
    /// Another context holds the lock for write; retrying later will succeed.
    Contended,
}

impl fmt::Display for FaultLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FaultLockError::WouldDeadlock => {
                "mm lock held for write by the faulting context itself"
            }
            FaultLockError::Contended => "mm lock held for write by another context",
        })
    }
}

/// A process's mm state `T` behind its mm lock.
pub struct MmLock<T> {
    inner: RwLock<T>,
    writer: AtomicU64,
    context: ContextId,
    would_deadlock: Counter,
}

impl<T> MmLock<T> {
    const_unless_loom! {
        /// Wraps `mm`. `context` names the running CPU or thread (see [`ContextId`]).
        pub fn new(mm: T, context: ContextId) -> MmLock<T> {
            MmLock {
                inner: RwLock::new(mm),
                writer: AtomicU64::new(NO_WRITER),
                context,
                would_deadlock: Counter::new(0),
            }
        }
    }

    /// The context function the lock was made with.
    pub(crate) fn context(&self) -> ContextId {
        self.context
    }

    /// Takes the lock for read, spinning while a writer holds it.
    ///
    /// Not for the page-fault path: use [`MmLock::read_for_fault`] there.
    pub fn read(&self) -> MmReadGuard<'_, T> {
        self.debug_assert_not_own_writer();
        MmReadGuard(self.inner.read())
    }

    /// Takes the lock for write (`mmap_write_lock`), spinning until it is free.
    pub fn write(&self) -> MmWriteGuard<'_, T> {
        self.debug_assert_not_own_writer();
        let guard = self.inner.write();
        self.writer.store((self.context)(), Ordering::Relaxed);
        MmWriteGuard {
            guard,
            writer: &self.writer,
        }
    }

    /// Taking the lock again from the context that holds it for write would
    /// spin forever: say so in debug builds instead.
    fn debug_assert_not_own_writer(&self) {
        debug_assert_ne!(
            self.writer.load(Ordering::Relaxed),
            (self.context)(),
            "mm lock taken again by the context that holds it for write"
        );
    }

    /// Takes the lock for write if it is free right now.
    pub fn try_write(&self) -> Option<MmWriteGuard<'_, T>> {
        let guard = self.inner.try_write()?;
        self.writer.store((self.context)(), Ordering::Relaxed);
        Some(MmWriteGuard {
            guard,
            writer: &self.writer,
        })
    }

    /// Takes the lock for read from the page-fault path, without sleeping.
    ///
    /// Spins only while a writer *other than the running context* holds the
    /// lock, at most `spins` times; a write lock held by the running context
    /// is refused at once with [`FaultLockError::WouldDeadlock`] and counted.
    pub fn read_for_fault(&self, spins: usize) -> Result<MmReadGuard<'_, T>, FaultLockError> {
        let me = (self.context)();
        let mut tries = 0usize;
        loop {
            if let Some(guard) = self.inner.try_read() {
                return Ok(MmReadGuard(guard));
            }
            if self.writer.load(Ordering::Relaxed) == me {
                self.would_deadlock
                    .fetch_add(1, core::sync::atomic::Ordering::Relaxed);
                return Err(FaultLockError::WouldDeadlock);
            }
            if tries >= spins {
                return Err(FaultLockError::Contended);
            }
            tries += 1;
            spin_loop();
        }
    }

    /// How many times the fault path found the lock held for write by the
    /// faulting context itself. A correct kernel and crate keep this at 0.
    pub fn would_deadlock_events(&self) -> u64 {
        self.would_deadlock
            .load(core::sync::atomic::Ordering::Relaxed)
    }

    /// Whether some context holds the lock for write right now.
    pub fn is_write_locked(&self) -> bool {
        self.inner.writer_count() != 0
    }
}

impl<T> fmt::Debug for MmLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MmLock")
            .field("write_locked", &self.is_write_locked())
            .field("would_deadlock", &self.would_deadlock_events())
            .finish_non_exhaustive()
    }
}

/// The mm lock held for read (`mmap_read_lock`).
pub struct MmReadGuard<'a, T>(RwLockReadGuard<'a, T>);

impl<T> Deref for MmReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for MmReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MmReadGuard")
    }
}

/// The mm lock held for write (`mmap_write_lock`): proof for functions that need it.
pub struct MmWriteGuard<'a, T> {
    guard: RwLockWriteGuard<'a, T>,
    writer: &'a AtomicU64,
}

impl<T> Drop for MmWriteGuard<'_, T> {
    fn drop(&mut self) {
        // Forget the owner before the inner guard releases the lock.
        self.writer.store(NO_WRITER, Ordering::Relaxed);
    }
}

impl<T> Deref for MmWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for MmWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T> fmt::Debug for MmWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MmWriteGuard")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu0() -> u64 {
        0
    }

    #[test]
    fn fault_path_refuses_own_writer() {
        let lock = MmLock::new(5u32, cpu0);
        {
            let mut w = lock.write();
            *w += 1;
            assert!(lock.is_write_locked());
            assert_eq!(
                lock.read_for_fault(1000).unwrap_err(),
                FaultLockError::WouldDeadlock
            );
        }
        assert_eq!(lock.would_deadlock_events(), 1);
        assert_eq!(*lock.read_for_fault(0).unwrap(), 6);
        assert!(lock.try_write().is_some());
    }

    #[test]
    fn fault_path_reports_contention_from_other_context() {
        use std::sync::atomic::AtomicU64 as Cur;
        static CURRENT: Cur = Cur::new(1);
        fn current() -> u64 {
            CURRENT.load(Ordering::Relaxed)
        }
        let lock = MmLock::new((), current);
        let w = lock.write();
        CURRENT.store(2, Ordering::Relaxed);
        assert_eq!(
            lock.read_for_fault(10).unwrap_err(),
            FaultLockError::Contended
        );
        drop(w);
        assert!(lock.read_for_fault(0).is_ok());
        assert_eq!(lock.would_deadlock_events(), 0);
    }
}
