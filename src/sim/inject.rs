//! Fault and race injection into the kernel's accesses to directory entries,
//! for tests that make every access of a scenario fail in turn.
//!
//! Every [`UserAccess`](crate::mm::UserAccess) call the manager makes through
//! the simulator's user access is numbered from 0. A plan makes access `N`
//! fail (once, or every access from `N` on), and says whether the
//! `fault_in` that follows each injected failure succeeds (the page comes
//! back) or fails (the page cannot be made present). A race makes the next
//! compare-exchange of one entry find another value there, as if another
//! thread had written it between the manager's read and its exchange.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// Which accesses fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailWhen {
    /// Access number `N` only.
    Once(u64),
    /// Access `N` and every later one.
    FromOn(u64),
}

/// A fault-injection plan for [`SimProcess::inject`](super::SimProcess::inject).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultPlan {
    /// Which accesses fail.
    pub fail: FailWhen,
    /// Whether the `fault_in` after an injected failure fails too.
    pub fault_in_fails: bool,
}

const NEVER: u64 = u64::MAX;

/// The injection state a simulated process's user access and address space
/// share.
#[derive(Debug)]
pub(crate) struct Injection {
    accesses: AtomicU64,
    fail_at: AtomicU64,
    from_on: AtomicBool,
    fault_in_fails: AtomicBool,
    /// The next `fault_in` fails (set by an injected failure when the plan says so).
    fail_next_fault_in: AtomicBool,
    /// Before the next compare-exchange of this entry, store this value there.
    race: Mutex<Option<(u64, u64)>>,
}

impl Default for Injection {
    fn default() -> Injection {
        Injection {
            accesses: AtomicU64::new(0),
            fail_at: AtomicU64::new(NEVER),
            from_on: AtomicBool::new(false),
            fault_in_fails: AtomicBool::new(false),
            fail_next_fault_in: AtomicBool::new(false),
            race: Mutex::new(None),
        }
    }
}

impl Injection {
    pub(crate) fn set(&self, plan: Option<FaultPlan>) {
        let (at, from_on, fault_in_fails) = match plan {
            None => (NEVER, false, false),
            Some(FaultPlan {
                fail: FailWhen::Once(n),
                fault_in_fails,
            }) => (n, false, fault_in_fails),
            Some(FaultPlan {
                fail: FailWhen::FromOn(n),
                fault_in_fails,
            }) => (n, true, fault_in_fails),
        };
        self.fail_at.store(at, Ordering::SeqCst);
        self.from_on.store(from_on, Ordering::SeqCst);
        self.fault_in_fails.store(fault_in_fails, Ordering::SeqCst);
        self.fail_next_fault_in.store(false, Ordering::SeqCst);
        if plan.is_none() {
            *self.race.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }

    /// Accesses made so far.
    pub(crate) fn count(&self) -> u64 {
        self.accesses.load(Ordering::SeqCst)
    }

    /// Numbers one access; whether it must fail.
    pub(crate) fn access_fails(&self) -> bool {
        let n = self.accesses.fetch_add(1, Ordering::SeqCst);
        let at = self.fail_at.load(Ordering::SeqCst);
        let fails = if self.from_on.load(Ordering::SeqCst) {
            n >= at
        } else {
            n == at
        };
        if fails && self.fault_in_fails.load(Ordering::SeqCst) {
            self.fail_next_fault_in.store(true, Ordering::SeqCst);
        }
        fails
    }

    /// Whether this `fault_in` must fail (consumes the flag).
    pub(crate) fn fault_in_fails(&self) -> bool {
        self.fail_next_fault_in.swap(false, Ordering::SeqCst)
    }

    pub(crate) fn race_next_exchange(&self, entry: u64, value: u64) {
        *self.race.lock().unwrap_or_else(|e| e.into_inner()) = Some((entry, value));
    }

    /// The value to store at `entry` before exchanging it, if a race is set for it.
    pub(crate) fn take_race(&self, entry: u64) -> Option<u64> {
        let mut race = self.race.lock().unwrap_or_else(|e| e.into_inner());
        match *race {
            Some((at, value)) if at == entry => {
                *race = None;
                Some(value)
            }
            _ => None,
        }
    }
}
