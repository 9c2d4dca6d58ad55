//! The simulated kernel's trace buffer: the manager's events, recorded while
//! switched on.

use crate::trace::{Trace, TraceEvent};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::vec::Vec;

/// Records [`TraceEvent`]s while on (off at first). Each process has its own
/// buffer: a forked child gets a new, empty one, on if the parent's is.
#[derive(Debug, Default)]
pub struct SimTrace {
    on: AtomicBool,
    events: Arc<Mutex<Vec<TraceEvent>>>,
}

impl SimTrace {
    /// Starts or stops recording.
    pub fn record(&self, on: bool) {
        self.on.store(on, Ordering::Relaxed);
    }

    /// The events recorded so far, emptying the buffer.
    pub fn take(&self) -> Vec<TraceEvent> {
        core::mem::take(&mut *self.events.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Clone for SimTrace {
    fn clone(&self) -> SimTrace {
        SimTrace {
            on: AtomicBool::new(self.on.load(Ordering::Relaxed)),
            events: Arc::default(),
        }
    }
}

impl Trace for SimTrace {
    fn event(&self, event: TraceEvent) {
        if self.on.load(Ordering::Relaxed) {
            self.events
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(event);
        }
    }
}
