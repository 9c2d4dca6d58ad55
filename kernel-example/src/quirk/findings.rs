//! What the probes found: one result type per probe, and its `cpu:` line.

use super::case::CpuMode;
use super::decoding::BaseDecoding;
use core::fmt;

/// The three bound checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Check {
    Lower,
    Upper,
    UpperNotComplemented,
}

pub(super) const CHECKS: [Check; 3] = [Check::Lower, Check::Upper, Check::UpperNotComplemented];

impl Check {
    fn name(self) -> &'static str {
        match self {
            Check::Lower => "BNDCL",
            Check::Upper => "BNDCU",
            Check::UpperNotComplemented => "BNDCN",
        }
    }
}

/// Why a probe run gave no usable answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunError {
    /// An exception other than the expected one (vector).
    Exception(u64),
    /// A `#BR` where none was expected (BNDSTATUS).
    BoundFault(u64),
    /// No frame for a scratch page.
    OutOfFrames,
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Exception(v) => {
                write!(f, "exception {}", crate::arch::trap::exception_name(*v))
            }
            RunError::BoundFault(s) => write!(f, "#BR with BNDSTATUS {:#x}", s),
            RunError::OutOfFrames => f.write_str("out of frames"),
        }
    }
}

/// Result of the directory-base probe (bug A).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseProbe {
    /// The decoding found.
    Found(BaseDecoding),
    /// The `BNDSTX` into an empty directory raised no `#BR`.
    NoFault,
    /// BNDSTATUS named neither candidate entry.
    Unexpected(u64),
    /// The run failed.
    Failed(RunError),
}

/// One SIB-form instruction: bytes skipped after it, whether one `nop` after it
/// keeps the following code intact, and whether it moved the right bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SibRun {
    /// Bytes the CPU skipped after the instruction (0 on an SDM CPU).
    pub skipped: u32,
    /// Whether, with one `nop` after the instruction, everything after the `nop` ran
    /// (the `nop` itself was run or skipped).
    pub nop_absorbs: bool,
    /// Whether the stored or loaded bounds are the SDM's.
    pub correct: bool,
}

/// Result of the SIB-form probe (bug B).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SibForms {
    /// `bndstx [rdi+rcx], bnd0`.
    pub bndstx: Result<SibRun, RunError>,
    /// `bndldx bnd1, [rdi+rcx]`.
    pub bndldx: Result<SibRun, RunError>,
    /// `bndldx bnd1, [rdi+rcx+0]` (with a disp8; run without a `nop`, so its
    /// `nop_absorbs` only says whether nothing was skipped).
    pub bndldx_disp8: Result<SibRun, RunError>,
}

impl SibForms {
    /// Whether one `nop` after every plain SIB-form `BNDSTX`/`BNDLDX` keeps the
    /// programs correct: the instructions work and skip at most that one byte.
    pub fn nop_absorbs(&self) -> bool {
        [self.bndstx, self.bndldx].iter().all(|r| {
            matches!(
                r,
                Ok(SibRun {
                    nop_absorbs: true,
                    correct: true,
                    ..
                })
            )
        })
    }

    /// Whether the plain forms skip `plain` bytes (the nop absorbing them) and the
    /// disp8 form skips `disp8`, all moving the right bounds.
    fn is(&self, plain: u32, disp8: u32) -> bool {
        let plain_ok = |r: &Result<SibRun, RunError>| {
            *r == Ok(SibRun {
                skipped: plain,
                nop_absorbs: true,
                correct: true,
            })
        };
        plain_ok(&self.bndstx)
            && plain_ok(&self.bndldx)
            && matches!(self.bndldx_disp8, Ok(SibRun { skipped, correct: true, .. }) if skipped == disp8)
    }
}

/// How one bound check behaved in its two runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckBehaviour {
    /// No `#BR` inside the bounds, `#BR` code 1 outside, no byte skipped.
    Sdm,
    /// The opposite, as if `2·RAX` were checked (bug C).
    TwiceRax,
    /// No `#BR` in either run, nothing skipped (bug D for compatibility-mode BNDCU).
    Never,
    /// Something else: BNDSTATUS of the `#BR` in the inside and outside runs (None:
    /// no `#BR`), and bytes skipped after the instruction.
    Other {
        /// The inside run's `#BR`.
        inside: Option<u64>,
        /// The outside run's `#BR`.
        outside: Option<u64>,
        /// Bytes skipped (either run).
        skipped: u32,
    },
    /// A run failed.
    Failed(RunError),
}

/// Result of the register-form probe (bug C): BNDCL, BNDCU, BNDCN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegisterForms(pub [CheckBehaviour; 3]);

/// Result of the memory-form probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryForms {
    /// BNDCL, BNDCU, BNDCN with `[rcx]`.
    pub checks: [CheckBehaviour; 3],
    /// `bndmk bnd0, [rsi+rdx]` then `bndmov [rbx], bnd0`: the SDM's bounds, nothing skipped.
    pub bndmk: Result<bool, RunError>,
    /// `bndmov bnd2, [rbx]` then `bndmov [rdi], bnd2`: the same 16 (8) bytes back.
    pub bndmov: Result<bool, RunError>,
}

impl MemoryForms {
    /// Whether every memory form did what the SDM says.
    pub fn all_sdm(&self) -> bool {
        self.checks.iter().all(|c| *c == CheckBehaviour::Sdm)
            && self.bndmk == Ok(true)
            && self.bndmov == Ok(true)
    }
}

/// Every probe in one mode.
#[derive(Clone, Copy, Debug)]
pub struct ModeFindings {
    /// Which mode.
    pub mode: CpuMode,
    /// Bug A.
    pub base: BaseProbe,
    /// Bug B (None when the base probe found no decoding).
    pub sib: Option<SibForms>,
    /// Bug C.
    pub register_forms: RegisterForms,
    /// The memory forms the programs use.
    pub memory_forms: MemoryForms,
}

/// Every probe in both modes.
#[derive(Clone, Copy, Debug)]
pub struct Findings {
    /// 64-bit mode.
    pub long: ModeFindings,
    /// Compatibility mode.
    pub compat: ModeFindings,
}

impl Findings {
    /// Whether the kernel's 64-bit ring-3 programs can run as written here, or why not.
    pub fn native_programs_ok(&self) -> Result<(), &'static str> {
        if !matches!(self.long.base, BaseProbe::Found(_)) {
            return Err("the bounds-directory base decoding is unknown");
        }
        if !self.long.sib.is_some_and(|s| s.nop_absorbs()) {
            return Err("SIB-form BNDSTX/BNDLDX skip more than the one nop after them, or fail");
        }
        if !self.long.memory_forms.all_sdm() {
            return Err("memory-form BNDCL/BNDCU/BNDCN, BNDMK or BNDMOV are not as the SDM");
        }
        Ok(())
    }

    /// Prints one `cpu:` line per probe and mode.
    pub fn print(&self) {
        for m in [&self.long, &self.compat] {
            let prefix = match m.mode {
                CpuMode::Long64 => "cpu:",
                CpuMode::Compat32 => "cpu: compatibility mode:",
            };
            kprintln!("{} {}", prefix, BaseLine(m));
            kprintln!("{} {}", prefix, SibLine(m));
            kprintln!("{} {}", prefix, RegisterLine(m));
            kprintln!("{} {}", prefix, MemoryLine(m));
        }
    }
}

struct BaseLine<'a>(&'a ModeFindings);
struct SibLine<'a>(&'a ModeFindings);
struct RegisterLine<'a>(&'a ModeFindings);
struct MemoryLine<'a>(&'a ModeFindings);

impl fmt::Display for BaseLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bits = match self.0.mode {
            CpuMode::Long64 => "63:12",
            CpuMode::Compat32 => "31:12",
        };
        match self.0.base {
            BaseProbe::Found(BaseDecoding::Architectural) => {
                write!(f, "bounds-directory base decoded from BNDCFGx[{}] (SDM)", bits)
            }
            BaseProbe::Found(BaseDecoding::ShiftedBy20) => f.write_str(
                "bounds-directory base decoded as (BNDCFGx >> 20) << 12 (QEMU bug A); BNDCFGU will be encoded to match",
            ),
            BaseProbe::NoFault => f.write_str(
                "bounds-directory probe failed: BNDSTX into an empty directory raised no #BR",
            ),
            BaseProbe::Unexpected(status) => write!(
                f,
                "bounds-directory probe failed: BNDSTATUS {:#x} matches neither decoding",
                status
            ),
            BaseProbe::Failed(e) => write!(f, "bounds-directory probe failed: {}", e),
        }
    }
}

impl fmt::Display for SibLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(sib) = self.0.sib else {
            return f.write_str("SIB-form BNDSTX/BNDLDX not probed (no directory decoding)");
        };
        if sib.is(0, 0) {
            return f.write_str(
                "SIB-form BNDSTX/BNDLDX as the SDM (nothing skipped; the nop after each runs)",
            );
        }
        if sib.is(1, 2) {
            return f.write_str(
                "SIB-form BNDSTX/BNDLDX skip the byte after them, 2 with a disp8 (QEMU 7.2 bug B); the nop after each absorbs it",
            );
        }
        f.write_str("SIB-form BNDSTX/BNDLDX not as the SDM:")?;
        for (name, run) in [
            ("BNDSTX", sib.bndstx),
            ("BNDLDX", sib.bndldx),
            ("BNDLDX+disp8", sib.bndldx_disp8),
        ] {
            match run {
                Ok(r) => write!(
                    f,
                    " {} skips {} byte(s), {} after a nop, bounds {};",
                    name,
                    r.skipped,
                    if r.nop_absorbs { "intact" } else { "broken" },
                    if r.correct { "right" } else { "wrong" }
                )?,
                Err(e) => write!(f, " {} {};", name, e)?,
            }
        }
        Ok(())
    }
}

fn write_checks(
    f: &mut fmt::Formatter<'_>,
    mode: CpuMode,
    checks: &[CheckBehaviour; 3],
) -> fmt::Result {
    for (check, behaviour) in CHECKS.iter().zip(checks) {
        write!(f, " {} ", check.name())?;
        match behaviour {
            CheckBehaviour::Sdm => f.write_str("as the SDM;")?,
            CheckBehaviour::TwiceRax => write!(f, "checks {} (bug C);", twice_rax(mode))?,
            CheckBehaviour::Never if mode == CpuMode::Compat32 && *check == Check::Upper => {
                f.write_str("never raises #BR (QEMU bug D);")?
            }
            CheckBehaviour::Never => f.write_str("never raises #BR;")?,
            CheckBehaviour::Other {
                inside,
                outside,
                skipped,
            } => write!(
                f,
                "inside the bounds {:?}, outside {:?} (BNDSTATUS of the #BR), {} byte(s) skipped;",
                inside, outside, skipped
            )?,
            CheckBehaviour::Failed(e) => write!(f, "{};", e)?,
        }
    }
    Ok(())
}

fn twice_rax(mode: CpuMode) -> &'static str {
    match mode {
        CpuMode::Long64 => "2*RAX",
        CpuMode::Compat32 => "2*EAX",
    }
}

impl fmt::Display for RegisterLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let forms = &self.0.register_forms.0;
        if forms.iter().all(|c| *c == CheckBehaviour::Sdm) {
            return f.write_str("register-form BNDCL/BNDCU/BNDCN as the SDM");
        }
        if forms.iter().all(|c| *c == CheckBehaviour::TwiceRax) {
            return write!(
                f,
                "register-form BNDCL/BNDCU/BNDCN compare {} (QEMU 10 bug C), not their operand; the programs use memory forms",
                twice_rax(self.0.mode)
            );
        }
        f.write_str("register-form BNDCL/BNDCU/BNDCN not as the SDM:")?;
        write_checks(f, self.0.mode, forms)
    }
}

impl fmt::Display for MemoryLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = &self.0.memory_forms;
        if m.all_sdm() {
            return f.write_str("memory-form BNDCL/BNDCU/BNDCN, BNDMK and BNDMOV as the SDM");
        }
        f.write_str("memory forms not as the SDM:")?;
        write_checks(f, self.0.mode, &m.checks)?;
        for (name, result) in [("BNDMK", m.bndmk), ("BNDMOV", m.bndmov)] {
            match result {
                Ok(true) => write!(f, " {} as the SDM;", name)?,
                Ok(false) => write!(f, " {} wrong bounds or length;", name)?,
                Err(e) => write!(f, " {} {};", name, e)?,
            }
        }
        Ok(())
    }
}
