//! Boots the example kernel (`kernel-example/`) in QEMU, one scenario per boot, on
//! every QEMU of the matrix, and checks its `MPX-RESULT` lines, its boot-probe lines
//! and its exit status.
//!
//! The matrix, and skipping without it, are in `common/` (shared with
//! `tests/linux.rs`). The kernel is built once per test run, in
//! `kernel-example/target`, with the kernel's own settings (its `.cargo/config.toml` and
//! profiles); the boots then run in parallel, one per test thread, each under a timeout.

mod common;

use common::{emulators, kernel, qemu_available, Emulator, Profile, MATRIX};
use std::collections::HashMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// QEMU exit status for the kernel's "pass" verdict (`0x10 << 1 | 1`).
const EXIT_PASS: i32 = 33;
/// QEMU exit status for "the CPU has no MPX" (`0x12 << 1 | 1`).
const EXIT_NO_MPX: i32 = 37;
/// A boot that takes longer is killed (and fails its test): a hang guard, not a
/// performance check.
const BOOT_TIMEOUT: Duration = Duration::from_secs(120);
/// Field names of an `MPX-RESULT` line, in order (issue 3 fixes the format).
const RESULT_FIELDS: [&str; 6] = [
    "scenario",
    "status",
    "tables_allocated",
    "tables_freed",
    "table_frames_peak",
    "table_frames_end",
];
/// Every scenario, in the order a default boot runs them.
const SCENARIOS: [&str; 9] = [
    "alloc",
    "free",
    "partial",
    "violation",
    "load-alloc",
    "table-unmap",
    "corrupt",
    "disable",
    "churn",
];

/// One boot: its serial output and QEMU's exit status.
struct Boot {
    output: String,
    status: Option<i32>,
}

/// Boots the release kernel on `emulator`'s CPU model `cpu` with `append` as the
/// kernel command line.
fn boot(emulator: &Emulator, cpu: &str, append: Option<&str>) -> Boot {
    boot_profile(emulator, Profile::Release, cpu, append)
}

/// [`boot`] for a kernel built with `profile`.
fn boot_profile(emulator: &Emulator, profile: Profile, cpu: &str, append: Option<&str>) -> Boot {
    let mut cmd = Command::new(&emulator.path);
    cmd.args([
        "-machine", "pc", "-accel", "tcg", "-cpu", cpu, "-m", "512M", "-kernel",
    ])
    .arg(kernel(profile))
    .args(["-display", "none", "-no-reboot", "-serial", "stdio"])
    .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    if let Some(append) = append {
        cmd.args(["-append", append]);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("start qemu-system-x86_64");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for qemu") {
            break status.code();
        }
        if start.elapsed() > BOOT_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let output = reader.join().expect("serial reader");
    eprintln!(
        "--- serial output (QEMU {}, {:?}) ---\n{output}--- end ---",
        emulator.version,
        start.elapsed()
    );
    Boot { output, status }
}

/// Checks the boot probes' `cpu:` lines against what this QEMU is known to do
/// (README, "QEMU MPX bugs"): one line per probe and mode, bug A on both versions,
/// bug B on 7 only, bug C on 10 only, bug D (compatibility-mode BNDCU) on both.
fn check_probe_lines(emulator: &Emulator, output: &str) {
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("cpu: "))
        .collect();
    let line = |prefix: &str| -> &str {
        let found: Vec<&&str> = lines.iter().filter(|l| l.starts_with(prefix)).collect();
        assert_eq!(found.len(), 1, "one line starting {prefix:?} in {lines:#?}");
        found[0]
    };
    for mode in ["cpu: ", "cpu: compatibility mode: "] {
        line(&format!("{mode}bounds-directory base decoded"));
        line(&format!("{mode}SIB-form BNDSTX/BNDLDX"));
        line(&format!("{mode}register-form BNDCL/BNDCU/BNDCN"));
    }
    assert_eq!(
        line("cpu: memory-form"),
        "cpu: memory-form BNDCL/BNDCU/BNDCN, BNDMK and BNDMOV as the SDM"
    );
    assert!(line("cpu: compatibility mode: memory forms")
        .contains("BNDCU never raises #BR (QEMU bug D)"));
    assert_eq!(
        line("cpu: compatibility mode: bounds-directory"),
        "cpu: compatibility mode: bounds-directory base decoded from BNDCFGx[31:12] (SDM)"
    );
    let Some(major) = emulator.major().filter(|m| MATRIX.contains(m)) else {
        return; // a QEMU outside the matrix: no known answers
    };
    assert!(line("cpu: bounds-directory").contains("(QEMU bug A)"));
    let sib = line("cpu: SIB-form");
    let register = line("cpu: register-form");
    let compat_register = line("cpu: compatibility mode: register-form");
    if major == 7 {
        assert!(sib.contains("skip the byte after them, 2 with a disp8 (QEMU 7.2 bug B)"));
        assert_eq!(register, "cpu: register-form BNDCL/BNDCU/BNDCN as the SDM");
        assert!(compat_register
            .contains("BNDCL as the SDM; BNDCU never raises #BR (QEMU bug D); BNDCN as the SDM"));
    } else {
        assert!(sib.contains("as the SDM (nothing skipped"));
        assert!(register.contains("compare 2*RAX (QEMU 10 bug C)"));
        assert!(compat_register.contains("BNDCL checks 2*EAX (bug C); BNDCU never raises #BR (QEMU bug D); BNDCN checks 2*EAX (bug C)"));
    }
}

/// The `key=value` fields of the lines starting with `tag`, in order.
fn tagged_lines(output: &str, tag: &str) -> Vec<Vec<(String, String)>> {
    output
        .lines()
        .filter_map(|line| line.trim().strip_prefix(tag)?.strip_prefix(' '))
        .map(|rest| {
            rest.split_whitespace()
                .map(|kv| {
                    let (k, v) = kv
                        .split_once('=')
                        .unwrap_or_else(|| panic!("{tag}: {kv:?} is not key=value"));
                    (k.to_string(), v.to_string())
                })
                .collect()
        })
        .collect()
}

/// The fields of every `MPX-RESULT` line, by scenario name, after checking that
/// each line has exactly the fields of the format, in order, and numbers where
/// numbers belong.
fn results(output: &str) -> HashMap<String, HashMap<String, String>> {
    let mut by_name = HashMap::new();
    for line in tagged_lines(output, "MPX-RESULT") {
        let keys: Vec<&str> = line.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, RESULT_FIELDS, "MPX-RESULT line format");
        let fields: HashMap<String, String> = line.into_iter().collect();
        assert!(
            ["pass", "fail"].contains(&fields["status"].as_str()),
            "status is pass or fail"
        );
        for name in &RESULT_FIELDS[2..] {
            field(&fields, name);
        }
        let name = fields["scenario"].clone();
        assert!(
            by_name.insert(name.clone(), fields).is_none(),
            "two MPX-RESULT lines for {name}"
        );
    }
    by_name
}

fn field(fields: &HashMap<String, String>, name: &str) -> u64 {
    fields
        .get(name)
        .unwrap_or_else(|| panic!("MPX-RESULT lacks {name}"))
        .parse()
        .unwrap_or_else(|_| panic!("MPX-RESULT {name} is not a number"))
}

/// Boots `scenario` alone on every QEMU of the matrix and checks the verdict and the
/// probe lines; returns each boot's result fields (empty without QEMU).
fn run_scenario(scenario: &str) -> Vec<HashMap<String, String>> {
    run_scenario_with_output(scenario)
        .into_iter()
        .map(|(fields, _)| fields)
        .collect()
}

/// [`run_scenario`], also returning the serial output.
fn run_scenario_with_output(scenario: &str) -> Vec<(HashMap<String, String>, String)> {
    run_scenario_with_options(scenario, "")
}

/// [`run_scenario_with_output`] with more kernel command-line `options`.
fn run_scenario_with_options(
    scenario: &str,
    options: &str,
) -> Vec<(HashMap<String, String>, String)> {
    if !qemu_available() {
        return Vec::new();
    }
    emulators()
        .iter()
        .map(|emulator| {
            let boot = boot(
                emulator,
                "max",
                Some(&format!("scenario={scenario} {options}")),
            );
            assert_eq!(
                boot.status,
                Some(EXIT_PASS),
                "QEMU {} exit status (33 = pass; None = timeout)",
                emulator.version
            );
            check_probe_lines(emulator, &boot.output);
            assert!(boot.output.contains("MPX-VERDICT pass"));
            let mut all = results(&boot.output);
            assert_eq!(all.len(), 1, "exactly one MPX-RESULT line");
            let fields = all
                .remove(scenario)
                .expect("an MPX-RESULT line for the scenario");
            assert_eq!(fields["status"], "pass");
            (fields, boot.output)
        })
        .collect()
}

/// `(tables_allocated, tables_freed, table_frames_end)`.
fn counts(fields: &HashMap<String, String>) -> (u64, u64, u64) {
    (
        field(fields, "tables_allocated"),
        field(fields, "tables_freed"),
        field(fields, "table_frames_end"),
    )
}

#[test]
fn alloc_installs_one_table_per_span() {
    for f in run_scenario("alloc") {
        assert_eq!(counts(&f), (8, 0, 8));
        assert_eq!(field(&f, "table_frames_peak"), 8);
    }
}

#[test]
fn free_releases_tables_and_frames() {
    for f in run_scenario("free") {
        assert_eq!(counts(&f), (4, 4, 0));
    }
}

#[test]
fn partial_unmap_keeps_the_shared_table() {
    for f in run_scenario("partial") {
        assert_eq!(counts(&f), (1, 1, 0));
        assert_eq!(field(&f, "table_frames_peak"), 2);
    }
}

#[test]
fn violation_is_reported_and_kernel_carries_on() {
    for (f, output) in run_scenario_with_output("violation") {
        assert_eq!(counts(&f), (0, 0, 0));
        // The second BNDCU, on exactly the address the SDM says, decoded as such (a
        // QEMU that checked something else would report the first or none).
        assert!(output.contains(
            "process killed: bounds violation: BNDCU bnd0 address 0x300000000064 outside \
             [0x300000000000, 0x30000000000f] (insn 4 bytes)"
        ));
    }
}

#[test]
fn load_into_empty_span_allocates() {
    for f in run_scenario("load-alloc") {
        assert_eq!(counts(&f), (1, 1, 0));
    }
}

#[test]
fn user_unmapping_a_table_invalidates_its_entry() {
    for f in run_scenario("table-unmap") {
        assert_eq!(counts(&f), (2, 2, 0));
    }
}

#[test]
fn corrupt_directory_entry_is_an_error_not_a_leak() {
    for f in run_scenario("corrupt") {
        // Two processes overwrite an installed table's entry (garbage, then a
        // pointer at their own data); each table is freed only by the teardown.
        assert_eq!(counts(&f), (2, 0, 2));
    }
}

#[test]
fn disabled_management_leaves_tables_alone() {
    for f in run_scenario("disable") {
        // The kept table is freed by the teardown; the miss after disable kills.
        assert_eq!(counts(&f), (1, 0, 1));
    }
}

#[test]
fn churn_ends_with_no_table_frames() {
    for (f, output) in run_scenario_with_output("churn") {
        check_churn(&f, &output);
    }
}

#[test]
fn churn_with_another_seed() {
    for (f, output) in run_scenario_with_options("churn", "churn_seed=20260101") {
        assert!(
            output.contains("running Churn(0x1352505)"),
            "the seed reached the program"
        );
        check_churn(&f, &output);
    }
}

/// The churn expectations: every table freed, no table frame left, at least
/// 10^4 operations, and the program's counts matching the kernel's.
fn check_churn(f: &HashMap<String, String>, output: &str) {
    let (allocated, freed, end) = counts(f);
    assert!(allocated > 0);
    assert_eq!(allocated, freed);
    assert_eq!(end, 0);
    assert!(field(f, "table_frames_peak") > 0);
    let lines = tagged_lines(output, "MPX-CHURN");
    assert_eq!(lines.len(), 1, "one MPX-CHURN line");
    let churn: HashMap<String, String> = lines[0].iter().cloned().collect();
    let operations = field(&churn, "operations");
    assert!(operations >= 10_000, "churn ran {operations} operations");
    let (mmaps, munmaps, stores) = (
        field(&churn, "mmap"),
        field(&churn, "munmap"),
        field(&churn, "stores"),
    );
    assert_eq!(mmaps + munmaps + stores, operations);
    assert!(mmaps > 0 && munmaps > 0 && stores >= allocated);
    // The kernel's own count: the counted calls plus the directory's mmap and
    // the final munmap.
    assert_eq!(field(&churn, "kernel_mmap_calls"), mmaps + 1);
    assert_eq!(field(&churn, "kernel_munmap_calls"), munmaps + 1);
}

#[test]
fn default_boot_runs_every_scenario() {
    if !qemu_available() {
        return;
    }
    for emulator in emulators() {
        let boot = boot(emulator, "max", None);
        assert_eq!(boot.status, Some(EXIT_PASS), "QEMU {}", emulator.version);
        check_probe_lines(emulator, &boot.output);
        let all = results(&boot.output);
        let mut names: Vec<&str> = all.keys().map(String::as_str).collect();
        let mut expected = SCENARIOS.to_vec();
        names.sort_unstable();
        expected.sort_unstable();
        assert_eq!(names, expected, "one MPX-RESULT line per scenario");
        assert!(all.values().all(|f| f["status"] == "pass"));
    }
}

#[test]
fn debug_build_runs_every_scenario() {
    if !qemu_available() {
        return;
    }
    for emulator in emulators() {
        // Debug assertions in the kernel and in the crate; the boot must still pass.
        let boot = boot_profile(emulator, Profile::Dev, "max", None);
        assert_eq!(boot.status, Some(EXIT_PASS), "QEMU {}", emulator.version);
        check_probe_lines(emulator, &boot.output);
        let all = results(&boot.output);
        assert_eq!(
            all.len(),
            SCENARIOS.len(),
            "one MPX-RESULT line per scenario"
        );
        assert!(all.values().all(|f| f["status"] == "pass"));
    }
}

#[test]
fn cpu_without_mpx_gets_a_clear_message() {
    if !qemu_available() {
        return;
    }
    for emulator in emulators() {
        let boot = boot(emulator, "qemu64", None);
        assert_eq!(boot.status, Some(EXIT_NO_MPX), "QEMU {}", emulator.version);
        assert!(boot.output.contains("MPX-UNSUPPORTED"));
    }
}

#[test]
fn the_matrix_is_complete_under_ci() {
    if std::env::var_os("CI").is_none() || std::env::var_os("QEMU").is_some() {
        return;
    }
    let majors: Vec<Option<u32>> = emulators().iter().map(Emulator::major).collect();
    assert_eq!(majors, MATRIX.map(Some), "CI boots on QEMU 7 and 10");
}
