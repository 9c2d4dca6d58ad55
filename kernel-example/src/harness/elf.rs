//! Running one Linux program (`elf=/name` on the command line): the boot modules
//! become the in-memory files, the program runs with the arguments the command line
//! gives (`elfarg=` words, percent-encoded), and its end is reported as an
//! `MPX-EXIT` line, followed by the kernel's after-exit checks.
//!
//! ```text
//! MPX-ELF start /prog argc=2
//! ...whatever the program writes to fds 1 and 2...
//! MPX-EXIT status=0            (or MPX-EXIT signal=11)
//! MPX-ELF ...                  (notes, ENOSYS numbers, tables at exit, checks)
//! ```

use crate::abi::linux::{self, loader, RunLog};
use crate::arch::exit::Verdict;
use crate::arch::serial;
use crate::fs;
use crate::mm::boot_info::BootModule;
use crate::mm::{frames, heap};
use crate::proc::process::Exit;
use crate::proc::run::{self, Baseline, RunOptions};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use spin::Mutex;

/// The program's path, if the command line names one (`elf=/name`).
pub fn requested(command_line: &str) -> Option<&str> {
    words(command_line).find_map(|w| w.strip_prefix("elf="))
}

fn words(command_line: &str) -> impl Iterator<Item = &str> {
    command_line.split_ascii_whitespace()
}

/// Decodes `%XX` escapes (what `run-qemu.sh` writes for spaces, `%` and bytes
/// outside printable ASCII); `None` for a malformed escape.
pub fn percent_decode(word: &str) -> Option<String> {
    let bytes = word.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = core::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The guest path of a boot module: the last word of its string (`run-qemu.sh`
/// passes `HOSTPATH /guest`); `/` + the host file's base name if there is one word.
fn guest_path(module: &BootModule) -> Option<String> {
    let last = module.string.split_ascii_whitespace().last()?;
    if last.starts_with('/') && module.string.contains(' ') {
        return Some(String::from(last));
    }
    let base = last.rsplit('/').next().filter(|b| !b.is_empty())?;
    Some(alloc::format!("/{base}"))
}

/// Runs the program `path` names with the boot modules as its files; the verdict is
/// `Pass` when the kernel's checks after it balance, whatever the program's exit.
pub fn run(command_line: &str, path: &str, modules: &[BootModule]) -> Verdict {
    let before = (heap::used(), frames::free_count());
    let mut files = Vec::new();
    for module in modules {
        match (guest_path(module), module.bytes()) {
            (Some(guest), Some(bytes)) => files.push((guest, bytes)),
            _ => kprintln!(
                "MPX-ELF ignoring boot module {:?}: no usable name or range",
                module.string
            ),
        }
    }
    let mut args = Vec::new();
    for word in words(command_line).filter_map(|w| w.strip_prefix("elfarg=")) {
        match percent_decode(word) {
            Some(arg) => args.push(arg),
            None => {
                kprintln!("MPX-ELF bad argument encoding {:?}", word);
                return Verdict::Fail;
            }
        }
    }
    fs::init(files);
    let log = Arc::new(Mutex::new(RunLog::default()));
    let baseline = Baseline::now();
    let verdict = match loader::load(path, &args, log.clone()) {
        Err(why) => {
            kprintln!("MPX-ELF cannot run {}: {}", path, why);
            Verdict::Fail
        }
        Ok(start) => {
            kprintln!("MPX-ELF start {} argc={}", path, args.len() + 1);
            let outcome = run::run(
                start,
                baseline,
                RunOptions {
                    audit_unmaps: false,
                },
            );
            serial::end_raw_line();
            match outcome.exit {
                Exit::Code(code) => kprintln!("MPX-EXIT status={}", code),
                Exit::Killed(reason) => {
                    kprintln!("MPX-EXIT signal={}", linux::signal_for(reason))
                }
            }
            report(&log.lock());
            let stats = outcome.stats;
            kprintln!(
                "MPX-ELF bounds tables: {} allocated, {} freed, {} frames left at exit (peak {})",
                stats.tables_allocated,
                stats.tables_freed,
                outcome.table_frames_end,
                outcome.table_frames_peak
            );
            let log = log.lock();
            kprintln!(
                "MPX-ELF #BR: {} table allocations (code 2, {} lost races), {} violations (SEGV_BNDERR), {} others (SI_KERNEL); {} signals handled",
                stats.tables_allocated + stats.races_lost,
                stats.races_lost,
                log.bounds_violations,
                log.bounds_other,
                log.handled
            );
            drop(log);
            if outcome.invariant_failures == 0 {
                Verdict::Pass
            } else {
                kprintln!("KERNEL CHECK FAILED: table bookkeeping disagreed with the manager");
                Verdict::Fail
            }
        }
    };
    drop((log, args));
    fs::clear();
    if fs::file_bytes() != 0 {
        kprintln!(
            "KERNEL CHECK FAILED: {} bytes still charged to the file budget",
            fs::file_bytes()
        );
        return Verdict::Fail;
    }
    let after = (heap::used(), frames::free_count());
    kprintln!(
        "MPX-ELF kernel after the program: heap in use {} bytes (before: {}), frames free {} (before: {})",
        after.0,
        before.0,
        after.1,
        before.1
    );
    if after != before {
        kprintln!("KERNEL CHECK FAILED: heap or frames not back to where they were");
        return Verdict::Fail;
    }
    verdict
}

fn report(log: &RunLog) {
    for note in &log.notes {
        kprintln!("MPX-ELF note: {}", note);
    }
    if log.notes_dropped > 0 {
        kprintln!("MPX-ELF note: {} more notes not kept", log.notes_dropped);
    }
    if !log.unimplemented.is_empty() {
        let mut line = String::from("MPX-ELF unimplemented system calls (number x times):");
        for (number, times) in &log.unimplemented {
            line.push_str(&alloc::format!(" {number}x{times}"));
        }
        if log.unimplemented_others > 0 {
            line.push_str(&alloc::format!(
                " and {} calls of other numbers",
                log.unimplemented_others
            ));
        }
        kprintln!("{}", line);
    }
}
