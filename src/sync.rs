//! The synchronisation the manager's protocol rests on, in one place, so that
//! a model checker can take it over.
//!
//! Normally these are `core`'s atomics and `spin`'s reader-writer lock. Built
//! with `RUSTFLAGS="--cfg loom"` they are [loom](https://docs.rs/loom)'s, and
//! `tests/loom.rs` explores every interleaving of #BR, munmap, enable and
//! disable. Only what orders the protocol goes through here: the mm lock,
//! its writer mark, and the directory base. Statistics counters stay plain
//! `core` atomics (they order nothing, and leaving them out keeps the models
//! small).
//!
//! Loom's constructors are not `const`, so constructors built on these types
//! are declared with [`const_unless_loom!`].

#[cfg(not(loom))]
pub(crate) use core::hint::spin_loop;
#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{AtomicU64, Ordering};
#[cfg(not(loom))]
pub(crate) use spin::{RwLock, RwLockReadGuard, RwLockWriteGuard};

#[cfg(loom)]
pub(crate) use loom::hint::spin_loop;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering};
#[cfg(loom)]
pub(crate) use loom_lock::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// Declares a function `const` except under `cfg(loom)`, where what it builds
/// cannot be made in a constant.
macro_rules! const_unless_loom {
    ($(#[$meta:meta])* $vis:vis fn $name:ident $($rest:tt)*) => {
        #[cfg(not(loom))]
        $(#[$meta])* $vis const fn $name $($rest)*
        #[cfg(loom)]
        $(#[$meta])* $vis fn $name $($rest)*
    };
}
pub(crate) use const_unless_loom;

/// `spin`'s reader-writer lock interface over loom's lock.
#[cfg(loom)]
mod loom_lock {
    use core::ops::{Deref, DerefMut};
    // Only `is_write_locked` reads this: a plain atomic keeps it out of the model.
    use core::sync::atomic::{AtomicUsize, Ordering};

    /// A reader-writer lock the model checker schedules.
    #[derive(Debug)]
    pub(crate) struct RwLock<T> {
        inner: loom::sync::RwLock<T>,
        writers: AtomicUsize,
    }

    /// Shared access.
    pub(crate) struct RwLockReadGuard<'a, T>(loom::sync::RwLockReadGuard<'a, T>);

    /// Exclusive access.
    pub(crate) struct RwLockWriteGuard<'a, T> {
        guard: loom::sync::RwLockWriteGuard<'a, T>,
        writers: &'a AtomicUsize,
    }

    impl<T> RwLock<T> {
        pub(crate) fn new(value: T) -> RwLock<T> {
            RwLock {
                inner: loom::sync::RwLock::new(value),
                writers: AtomicUsize::new(0),
            }
        }

        pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
            // A poisoned lock means a model thread panicked: the model fails anyway.
            RwLockReadGuard(self.inner.read().unwrap_or_else(|e| e.into_inner()))
        }

        pub(crate) fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
            self.inner.try_read().ok().map(RwLockReadGuard)
        }

        pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
            let guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
            self.writers.store(1, Ordering::Relaxed);
            RwLockWriteGuard {
                guard,
                writers: &self.writers,
            }
        }

        pub(crate) fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
            let guard = self.inner.try_write().ok()?;
            self.writers.store(1, Ordering::Relaxed);
            Some(RwLockWriteGuard {
                guard,
                writers: &self.writers,
            })
        }

        pub(crate) fn writer_count(&self) -> usize {
            self.writers.load(Ordering::Relaxed)
        }
    }

    impl<T> Deref for RwLockReadGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            &self.0
        }
    }

    impl<T> Drop for RwLockWriteGuard<'_, T> {
        fn drop(&mut self) {
            self.writers.store(0, Ordering::Relaxed);
        }
    }

    impl<T> Deref for RwLockWriteGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            &self.guard
        }
    }

    impl<T> DerefMut for RwLockWriteGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            &mut self.guard
        }
    }
}
