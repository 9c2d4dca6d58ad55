//! What the QEMU boot tests share (`tests/qemu.rs`, `tests/linux.rs`): the QEMU
//! matrix, the kernel build, and skipping (or failing, under CI) without them.
//!
//! The matrix is Debian 12's QEMU 7.2 and bookworm-backports' QEMU 10.0, found by
//! `scripts/qemu.sh find 7|10` (`scripts/qemu.sh ensure 7|10` installs them; `.ci/run`
//! does). `QEMU=/path/to/qemu-system-x86_64` replaces the matrix with that one QEMU.
//! Without any QEMU the tests print a skip notice and pass, except under CI (`CI` set),
//! where both must be there.
#![allow(dead_code)] // each test file uses its own part

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The QEMU major versions of the matrix.
pub const MATRIX: [u32; 2] = [7, 10];

/// Whether CI runs the tests (everything they need must then be there).
pub fn under_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// Removes the variables an outer `cargo test` sets for its own build from `command`,
/// so they do not reach the kernel's build (target, flags, wrappers, jobserver and
/// package metadata).
pub fn without_outer_cargo(command: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        let drop = (key.starts_with("CARGO") && key != "CARGO_HOME")
            || key.starts_with("__CARGO")
            || matches!(
                key.as_str(),
                "RUSTFLAGS"
                    | "RUSTDOCFLAGS"
                    | "RUSTC"
                    | "RUSTDOC"
                    | "RUSTC_WRAPPER"
                    | "RUSTC_WORKSPACE_WRAPPER"
                    | "RUSTC_LINKER"
                    | "MAKEFLAGS"
                    | "MFLAGS"
            );
        if drop {
            command.env_remove(&key);
        }
    }
    command
}

pub fn top_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn kernel_dir() -> PathBuf {
    top_dir().join("kernel-example")
}

/// Prints why (some) boot tests are skipped, once per run, past the harness's output
/// capture (a skipped test still reports `ok`, so the notice must be seen).
pub fn skip_notice(why: &str) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(std::io::stderr(), "SKIPPED (QEMU boot tests): {why}");
    });
}

/// One QEMU of the matrix.
#[derive(Clone, Debug)]
pub struct Emulator {
    pub path: PathBuf,
    /// As `qemu-system-x86_64 --version` prints it, e.g. "10.0.2".
    pub version: String,
}

impl Emulator {
    pub fn major(&self) -> Option<u32> {
        self.version.split('.').next()?.parse().ok()
    }
}

pub fn qemu_script(args: &[&str]) -> Option<String> {
    let out = Command::new(top_dir().join("scripts/qemu.sh"))
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// The QEMUs to boot on (see the module doc).
pub fn emulators() -> &'static [Emulator] {
    static FOUND: OnceLock<Vec<Emulator>> = OnceLock::new();
    FOUND.get_or_init(|| {
        let under_ci = under_ci();
        let with_version = |path: String| {
            let version = qemu_script(&["version", &path]).unwrap_or_default();
            Emulator {
                path: PathBuf::from(path),
                version,
            }
        };
        if let Some(path) = std::env::var_os("QEMU") {
            let emulator = with_version(path.to_string_lossy().into_owned());
            assert!(
                !emulator.version.is_empty(),
                "QEMU={} does not run",
                emulator.path.display()
            );
            return vec![emulator];
        }
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for major in MATRIX {
            match qemu_script(&["find", &major.to_string()]) {
                Some(path) => found.push(with_version(path)),
                None => missing.push(major),
            }
        }
        if !missing.is_empty() {
            let install = missing
                .iter()
                .map(|m| format!("scripts/qemu.sh ensure {m}"))
                .collect::<Vec<_>>()
                .join(" && ");
            assert!(
                !under_ci,
                "QEMU {missing:?} not found (CI is set, so this fails): {install}"
            );
            skip_notice(&format!(
                "QEMU {missing:?} not found; install with `{install}` to boot on the whole matrix"
            ));
        }
        found
    })
}

/// Whether there is anything to boot on (and the kernel's sources); otherwise skip, or
/// fail under CI.
pub fn qemu_available() -> bool {
    let under_ci = under_ci();
    if !kernel_dir().join("Cargo.toml").is_file() {
        assert!(
            !under_ci,
            "kernel-example/ is missing (CI is set, so this fails)"
        );
        skip_notice("kernel-example/ is not here (a packaged crate?)");
        return false;
    }
    !emulators().is_empty()
}

/// Which of the kernel's cargo profiles to boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// `release`: what `run-qemu.sh` boots.
    Release,
    /// `dev`: debug assertions on, in the kernel and in the `mpx` crate.
    Dev,
}

/// Builds the kernel with `profile` once per test run; returns the ELF path.
pub fn kernel(profile: Profile) -> &'static Path {
    static RELEASE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static DEV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let (once, flag, out_dir) = match profile {
        Profile::Release => (&RELEASE, Some("--release"), "release"),
        Profile::Dev => (&DEV, None, "debug"),
    };
    let built = once.get_or_init(|| {
        let dir = kernel_dir();
        let mut cargo = Command::new(option_env!("CARGO").unwrap_or("cargo"));
        // The kernel's own .cargo/config.toml is found from the working directory.
        cargo
            .current_dir(&dir)
            .arg("build")
            .args(flag)
            .arg("--target-dir")
            .arg(dir.join("target"));
        without_outer_cargo(&mut cargo);
        let out = cargo
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "kernel build failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(dir
            .join("target/x86_64-unknown-linux-gnu")
            .join(out_dir)
            .join("kernel"))
    });
    match built {
        Ok(path) => path,
        Err(e) => panic!("{e}"),
    }
}
