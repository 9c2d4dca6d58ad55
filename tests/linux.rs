//! Unmodified Linux programs on the example kernel: the C programs in `tests/linux/`,
//! built now with the machine's `gcc -static -O2` (and `-lm`), each run by `./run-qemu.sh --elf`
//! (the command a user types) on every QEMU of the matrix, with their exact expected
//! output (`tests/linux/NAME.expected`: what the program writes between the kernel's
//! `MPX-ELF start` and `MPX-EXIT` lines) and exit status.
//!
//! After every run the kernel's own checks must hold: every frame and heap byte back
//! (`run-qemu.sh` exits with 125 otherwise). Without gcc (or QEMU) the tests print a
//! skip notice and pass, except under CI (`CI` set), where `.ci/run` installs both.

mod common;

use common::{emulators, kernel, qemu_available, skip_notice, top_dir, under_ci};
use common::{without_outer_cargo, Emulator, Profile};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// System calls glibc 2.36's start-up makes that the kernel leaves unimplemented on
/// purpose (`rseq`: glibc carries on without it).
const EXPECTED_ENOSYS: &[&str] = &["334x1"];

fn linux_dir() -> PathBuf {
    top_dir().join("tests/linux")
}

/// Whether gcc can build static programs here; otherwise skip (or fail under CI).
fn gcc_available() -> bool {
    static FOUND: OnceLock<bool> = OnceLock::new();
    *FOUND.get_or_init(|| {
        let works = Command::new("gcc")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !works {
            assert!(!under_ci(), "gcc not found (CI is set, so this fails)");
            skip_notice("gcc not found: the Linux-program tests need `gcc -static`");
        }
        works
    })
}

/// Builds `tests/linux/NAME.c` (once per test run) with `flags`; returns the program.
fn build(name: &str, flags: &[&str]) -> PathBuf {
    static BUILT: Mutex<Vec<(String, PathBuf)>> = Mutex::new(Vec::new());
    let key = format!("{name} {}", flags.join(" "));
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, path)) = built.iter().find(|(k, _)| *k == key) {
        return path.clone();
    }
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("linux");
    std::fs::create_dir_all(&out_dir).expect("create the programs' directory");
    let suffix = if flags.contains(&"-static") {
        ""
    } else {
        "-dynamic"
    };
    let program = out_dir.join(format!("{name}{suffix}"));
    let out = Command::new("gcc")
        .args(flags)
        .args(["-O2", "-Wall", "-o"])
        .arg(&program)
        .arg(linux_dir().join(format!("{name}.c")))
        .arg("-lm")
        .output()
        .expect("run gcc");
    assert!(
        out.status.success(),
        "gcc {name}.c failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    built.push((key, program.clone()));
    program
}

/// One `run-qemu.sh --elf` run.
struct Run {
    /// The serial output, `\r` removed.
    output: String,
    /// `run-qemu.sh`'s exit status.
    status: Option<i32>,
}

impl Run {
    /// What the program wrote: the lines between `MPX-ELF start` and `MPX-EXIT`.
    fn program_output(&self) -> String {
        let mut lines = self.output.lines();
        lines
            .by_ref()
            .find(|l| l.starts_with("MPX-ELF start "))
            .unwrap_or_else(|| panic!("no MPX-ELF start line in:\n{}", self.output));
        let mut text = String::new();
        for line in lines.take_while(|l| !l.starts_with("MPX-EXIT ")) {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// The kernel's `MPX-EXIT` line.
    fn exit_line(&self) -> &str {
        self.output
            .lines()
            .find(|l| l.starts_with("MPX-EXIT "))
            .unwrap_or_else(|| panic!("no MPX-EXIT line in:\n{}", self.output))
    }

    /// The system calls the kernel reported as unimplemented (`NUMBERxTIMES`).
    fn unimplemented(&self) -> Vec<&str> {
        self.output
            .lines()
            .find_map(|l| l.strip_prefix("MPX-ELF unimplemented system calls (number x times): "))
            .map(|rest| rest.split_whitespace().collect())
            .unwrap_or_default()
    }

    /// Checks the kernel's after-exit line: the heap and the free frames as before.
    fn assert_kernel_balanced(&self) {
        let line = self
            .output
            .lines()
            .find(|l| l.starts_with("MPX-ELF kernel after the program: "))
            .unwrap_or_else(|| panic!("no after-program line in:\n{}", self.output));
        let numbers: Vec<u64> = line
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|w| w.parse().ok())
            .collect();
        assert_eq!(numbers.len(), 4, "{line}");
        assert_eq!(
            numbers[0], numbers[1],
            "heap in use before and after: {line}"
        );
        assert_eq!(
            numbers[2], numbers[3],
            "frames free before and after: {line}"
        );
        assert!(
            !self.output.contains("KERNEL CHECK FAILED"),
            "{}",
            self.output
        );
    }
}

/// Runs `./run-qemu.sh OPTIONS --elf PROGRAM ARGS` on `emulator`.
fn run_elf(emulator: &Emulator, options: &[&str], program: &Path, args: &[&str]) -> Run {
    // The release kernel run-qemu.sh boots, built once by this test run (the script's
    // own build is then a no-op).
    kernel(Profile::Release);
    let mut command = Command::new(top_dir().join("run-qemu.sh"));
    without_outer_cargo(&mut command);
    let out = command
        .env("QEMU", &emulator.path)
        .args(options)
        .arg("--elf")
        .arg(program)
        .args(args)
        .output()
        .expect("run run-qemu.sh");
    let output = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    eprintln!(
        "--- {} {args:?} on QEMU {} ---\n{output}{}--- end ---",
        program.display(),
        emulator.version,
        String::from_utf8_lossy(&out.stderr)
    );
    Run {
        output,
        status: out.status.code(),
    }
}

/// The runs of `name` (built static) with `args` on every QEMU; empty without gcc or
/// QEMU.
fn run_everywhere(name: &str, options: &[&str], args: &[&str]) -> Vec<Run> {
    if !gcc_available() || !qemu_available() {
        return Vec::new();
    }
    let program = build(name, &["-static"]);
    emulators()
        .iter()
        .map(|emulator| run_elf(emulator, options, &program, args))
        .collect()
}

fn expected(name: &str) -> String {
    let path = linux_dir().join(format!("{name}.expected"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `name` everywhere and checks its exact output, `MPX-EXIT status=STATUS`, the
/// script's exit status and the kernel's balance.
fn check_program(name: &str, options: &[&str], args: &[&str], status: i32) -> Vec<Run> {
    let runs = run_everywhere(name, options, args);
    for run in &runs {
        assert_eq!(run.program_output(), expected(name), "{name}'s output");
        assert_eq!(run.exit_line(), format!("MPX-EXIT status={status}"));
        assert_eq!(run.status, Some(status), "run-qemu.sh's exit status");
        run.assert_kernel_balanced();
    }
    runs
}

#[test]
fn glibc_smoke_stdio_malloc_qsort_snprintf_clocks() {
    for run in check_program("smoke", &[], &["7", "two words"], 7) {
        assert_eq!(run.unimplemented(), EXPECTED_ENOSYS);
    }
}

#[test]
fn memory_hints_fixed_zero_page_mincore_madvise_brk_mremap() {
    for run in check_program("memory", &[], &[], 0) {
        assert_eq!(run.unimplemented(), EXPECTED_ENOSYS);
        // Reading 2 GiB end to end maps only the zero page: the run fits in 512 MiB
        // and the tables it used are freed (the balance check above).
    }
}

#[test]
fn files_proc_devices_descriptors_and_a_given_file() {
    let input = linux_dir().join("input.txt");
    let option = format!("{}:/input.txt", input.display());
    for run in check_program("files", &["--file", &option], &[], 0) {
        assert_eq!(run.unimplemented(), EXPECTED_ENOSYS);
    }
}

#[test]
fn bad_pointers_lengths_and_numbers_are_errors_not_faults() {
    for run in check_program("badinput", &[], &[], 0) {
        // Each unknown number once, with how many times it was made.
        assert_eq!(
            run.unimplemented(),
            ["334x1", "999x2", "5000x1", "18446744073709551615x1"]
        );
        assert!(!run.output.contains("process killed"), "{}", run.output);
    }
}

#[test]
fn limits_refuse_cleanly_and_the_process_carries_on() {
    for run in check_program("limits", &[], &[], 0) {
        // 64 numbers kept, the other 36 of the 100 unknown ones (and rseq) counted.
        let calls = run.unimplemented();
        assert_eq!(calls.len(), 64 + 6, "{calls:?}");
        assert_eq!(calls[0], "334x1");
        assert_eq!(calls[63], "1062x1");
        assert_eq!(
            calls[64..],
            ["and", "37", "calls", "of", "other", "numbers"]
        );
    }
}

#[test]
fn signals_frames_handlers_masks_and_altstacks_as_linux() {
    for run in check_program("signals", &[], &[], 0) {
        assert_eq!(run.unimplemented(), EXPECTED_ENOSYS);
    }
}

/// `signals MODE`: frames that cannot be returned from or built, and faults that
/// cannot be caught, kill the process with SIGSEGV (as on Linux).
#[test]
fn bad_signal_frames_and_uncatchable_faults_are_sigsegv() {
    for mode in ["forge", "mxcsr", "norestorer", "blocked", "stack"] {
        for run in run_everywhere("signals", &[], &[mode]) {
            assert_eq!(run.program_output(), format!("signals: {mode}\n"));
            assert_eq!(run.exit_line(), "MPX-EXIT signal=11", "signals {mode}");
            assert_eq!(
                run.status,
                Some(139),
                "run-qemu.sh's status for signals {mode}"
            );
            run.assert_kernel_balanced();
        }
    }
}

/// The runs of `name` on the QEMUs that execute unmodified MPX code as the SDM
/// says: 10.0 (7.2 skips a byte after every SIB-form BNDSTX/BNDLDX, its bug B).
fn run_mpx_program(name: &str) -> Vec<Run> {
    if !gcc_available() || !qemu_available() {
        return Vec::new();
    }
    let program = build(name, &["-static"]);
    let usable: Vec<&Emulator> = emulators()
        .iter()
        .filter(|e| e.major().is_some_and(|m| m >= 10))
        .collect();
    if usable.is_empty() {
        assert!(
            !under_ci(),
            "no QEMU 10 for the MPX programs (CI is set, so this fails)"
        );
        skip_notice("no QEMU 10: the MPX programs need one (scripts/qemu.sh ensure 10)");
    }
    usable
        .into_iter()
        .map(|emulator| run_elf(emulator, &["--qemu", "10"], &program, &[]))
        .collect()
}

/// Runs the MPX program `name` on QEMU 10 and checks its exact output, a 0 status
/// and the kernel's balance; returns the runs.
fn check_mpx_program(name: &str) -> Vec<Run> {
    let runs = run_mpx_program(name);
    for run in &runs {
        assert_eq!(run.program_output(), expected(name), "{name}'s output");
        assert_eq!(run.exit_line(), "MPX-EXIT status=0");
        assert_eq!(run.status, Some(0));
        run.assert_kernel_balanced();
    }
    runs
}

/// `(allocated, freed)` from the kernel's `MPX-ELF bounds tables:` line.
fn tables(run: &Run) -> (u64, u64) {
    let line = run
        .output
        .lines()
        .find_map(|l| l.strip_prefix("MPX-ELF bounds tables: "))
        .unwrap_or_else(|| panic!("no bounds-tables line in:\n{}", run.output));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

#[test]
fn mpx_runtime_violations_match_the_shadow() {
    for run in check_mpx_program("mpxrt") {
        // One table per MiB the stores used, all freed by the munmap of the data.
        let (allocated, freed) = tables(&run);
        assert!(
            allocated > 0 && allocated == freed,
            "{allocated} allocated, {freed} freed"
        );
    }
}

#[test]
fn mpx_unmap_leaves_no_entry_and_no_table() {
    for run in check_mpx_program("mpxunmap") {
        let (allocated, freed) = tables(&run);
        assert!(
            allocated > 100 && allocated == freed,
            "{allocated} allocated, {freed} freed"
        );
    }
}

#[test]
fn mpx_prctl_misuse_and_hostile_directories_are_refused() {
    for run in check_mpx_program("mpxmisc") {
        assert!(run
            .output
            .contains("#BR not handled: corrupt bounds-directory entry"));
        assert_eq!(tables(&run).0, 1);
    }
}

/// `ends MODE`: the kernel's `MPX-EXIT` line and run-qemu.sh's status (N, or 128+N
/// for signal N) for each way a process ends.
#[test]
fn exit_statuses_and_signals_reach_the_caller() {
    let cases: [(&[&str], &[&str], &str, i32); 10] = [
        (&[], &["exit", "42"], "MPX-EXIT status=42", 42),
        (&[], &["null"], "MPX-EXIT signal=11", 139),
        (&[], &["readonly"], "MPX-EXIT signal=11", 139),
        (&[], &["noexec"], "MPX-EXIT signal=11", 139),
        (&[], &["ud2"], "MPX-EXIT signal=4", 132),
        (&[], &["int3"], "MPX-EXIT signal=5", 133),
        (&[], &["divide"], "MPX-EXIT signal=8", 136),
        (&[], &["abort"], "MPX-EXIT signal=6", 134),
        (&[], &["term"], "MPX-EXIT signal=15", 143),
        // More than the machine has: killed, every frame back.
        (&["--mem", "128"], &["oom"], "MPX-EXIT signal=11", 139),
    ];
    for (options, args, exit_line, status) in cases {
        for run in run_everywhere("ends", options, args) {
            assert_eq!(
                run.program_output().lines().next(),
                Some(&*format!("ends: {}", args[0]))
            );
            assert!(!run.program_output().contains("still alive"));
            assert_eq!(run.exit_line(), exit_line, "ends {args:?}");
            assert_eq!(
                run.status,
                Some(status),
                "run-qemu.sh's status for ends {args:?}"
            );
            run.assert_kernel_balanced();
        }
    }
}

/// Files the kernel cannot run: a clear line, run-qemu.sh exits with 126, nothing
/// leaks.
#[test]
fn programs_that_cannot_run_are_refused_clearly() {
    if !gcc_available() || !qemu_available() {
        return;
    }
    let dynamic = build("ends", &[]);
    // The static program with one PT_LOAD spoiled: the first claims more file bytes
    // than memory; the last starts past the end of the file (the loader has mapped
    // the others by then: they must all come back).
    let program = std::fs::read(build("ends", &["-static"])).expect("read ends");
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("linux");
    let spoiled = |name: &str, spoil: &dyn Fn(&mut [u8], &[usize])| {
        let mut bytes = program.clone();
        let loads = pt_loads(&bytes);
        spoil(&mut bytes, &loads);
        let path = out_dir.join(name);
        std::fs::write(&path, bytes).expect("write a spoiled program");
        path
    };
    let too_much_file = spoiled("ends-filesz", &|b, loads| {
        let memsz = u64_at(b, loads[0] + 40);
        b[loads[0] + 32..loads[0] + 40].copy_from_slice(&(memsz + 4096).to_le_bytes());
    });
    let past_the_end = spoiled("ends-offset", &|b, loads| {
        let last = loads[loads.len() - 1];
        b[last + 8..last + 16].copy_from_slice(&(1u64 << 40).to_le_bytes());
    });
    let cases = [
        (
            linux_dir().join("input.txt"),
            "MPX-ELF cannot run /input.txt: not a static x86-64 ELF program: bad ELF header",
        ),
        (
            dynamic,
            "MPX-ELF cannot run /ends-dynamic: a dynamically linked program (build it with gcc -static)",
        ),
        (
            too_much_file,
            "MPX-ELF cannot run /ends-filesz: not a static x86-64 ELF program: a segment with more file bytes than memory",
        ),
        (
            past_the_end,
            "MPX-ELF cannot run /ends-offset: not a static x86-64 ELF program: segment beyond the file",
        ),
    ];
    for (file, line) in &cases {
        for emulator in emulators() {
            let run = run_elf(emulator, &[], file, &[]);
            assert!(
                run.output.lines().any(|l| l == *line),
                "{line}\n{}",
                run.output
            );
            assert_eq!(run.status, Some(126));
            run.assert_kernel_balanced();
        }
    }
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// The byte offsets of an ELF64 file's PT_LOAD program headers (`e_phoff` at 0x20,
/// `e_phentsize` at 0x36, `e_phnum` at 0x38).
fn pt_loads(elf: &[u8]) -> Vec<usize> {
    let phoff = u64_at(elf, 0x20) as usize;
    let entsize = u16::from_le_bytes([elf[0x36], elf[0x37]]) as usize;
    let count = u16::from_le_bytes([elf[0x38], elf[0x39]]) as usize;
    let loads: Vec<usize> = (0..count)
        .map(|i| phoff + i * entsize)
        .filter(|&at| u32::from_le_bytes(elf[at..at + 4].try_into().expect("4 bytes")) == 1)
        .collect();
    assert!(loads.len() >= 2, "a static program has several PT_LOADs");
    loads
}
