//! COM1 serial console (`uart_16550`) and the `kprint!`/`kprintln!` macros.

use core::fmt::{self, Write};
use spin::Mutex;
use uart_16550::{backend::PioBackend, Config, Uart16550Tty};

static COM1: Mutex<Option<Uart16550Tty<PioBackend>>> = Mutex::new(None);

/// Initializes COM1 (I/O port 0x3f8).
pub fn init() {
    // SAFETY: 0x3f8..0x400 is the standard COM1 register block and nothing else in
    // this kernel touches those ports.
    let tty = unsafe { Uart16550Tty::new_port(0x3f8, Config::default()) };
    *COM1.lock() = tty.ok();
}

/// Writes formatted text to the console (used by the macros), on a line of its own
/// if a process's raw output left one open.
pub fn print(args: fmt::Arguments<'_>) {
    end_raw_line();
    if let Some(tty) = COM1.lock().as_mut() {
        let _ = tty.write_fmt(args);
    }
}

/// Writes raw bytes (for user console output); non-ASCII bytes become `?`.
pub fn write_bytes(bytes: &[u8]) {
    if let Some(tty) = COM1.lock().as_mut() {
        for &b in bytes {
            let c = if b == b'\n' || (0x20..0x7f).contains(&b) {
                b
            } else {
                b'?'
            };
            let _ = tty.write_char(c as char);
        }
    }
}

/// Writes bytes exactly as given (a Linux process's fds 1 and 2).
pub fn write_raw(bytes: &[u8]) {
    if let Some(tty) = COM1.lock().as_mut() {
        tty.inner_mut().send_bytes_exact(bytes);
        if let Some(&last) = bytes.last() {
            LAST_RAW.store(last, core::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// The last byte [`write_raw`] sent (b'\n' before any): whether a process's output
/// ended its line.
static LAST_RAW: core::sync::atomic::AtomicU8 = core::sync::atomic::AtomicU8::new(b'\n');

/// Ends the line a process's raw output left open, if it did.
pub fn end_raw_line() {
    if LAST_RAW.swap(b'\n', core::sync::atomic::Ordering::Relaxed) != b'\n' {
        if let Some(tty) = COM1.lock().as_mut() {
            let _ = tty.write_char('\n');
        }
    }
}

/// Panic path: takes the console even if a panicking context held the lock.
pub fn print_emergency(args: fmt::Arguments<'_>) {
    if COM1.is_locked() {
        // SAFETY: we are on the way to halting the machine; the previous holder will
        // never run again, so breaking its lock cannot cause a data race that matters.
        unsafe { COM1.force_unlock() };
    }
    print(args);
}

/// Prints to the serial console.
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => { $crate::arch::serial::print(format_args!($($arg)*)) };
}

/// Prints a line to the serial console.
#[macro_export]
macro_rules! kprintln {
    () => { $crate::kprint!("\n") };
    ($($arg:tt)*) => { $crate::arch::serial::print(format_args!("{}\n", format_args!($($arg)*))) };
}
