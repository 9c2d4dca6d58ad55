//! The probe cases: what each runs, what the SDM says it must do, and how the result
//! is classified and printed (one `cpu:` line per probe and mode).

use super::harness::{reg::*, Case, CpuMode, Machine, Outcome, Regs, OPERANDS};
use super::{effective_base, encode_bndcfg, BaseDecoding};
use core::fmt;

/// BNDCFGx.EN.
const EN: u64 = 1;
/// Directory base of the 64-bit probes: 1 TiB (bug A would walk at 4 GiB).
const BASE64: u64 = 0x100_0000_0000;
/// Directory base of the compatibility-mode probes (bug A would walk at 0x20_4000).
const BASE32: u64 = 0x2040_0000;
/// The bounds table the `BNDSTX`/`BNDLDX` probes install (one page of it).
const TABLE64: u64 = 0x200_0000_0000;
/// The same for compatibility mode (below 4 GiB).
const TABLE32: u64 = 0x3000_0000;
/// The pointer value the `BNDSTX`/`BNDLDX` probes store and load.
const POINTER: u64 = 0xabc0;
/// Bounds the `BNDMK` and table probes make: `[MK_LOWER, MK_LOWER + MK_SIZE]`.
const MK_LOWER: u64 = 0x5000;
const MK_SIZE: u64 = 0xfff;
/// Bounds the check probes test against.
const LOWER: u64 = 0x1000;
const UPPER: u64 = 0x1fff;

// Instruction bytes (checked against GNU objdump; see kernel-example/README.md).
/// `bndstx [rdi+rcx], bnd0`.
const BNDSTX_SIB: &[u8] = &[0x0f, 0x1b, 0x04, 0x0f];
/// `bndldx bnd1, [rdi+rcx]`.
const BNDLDX_SIB: &[u8] = &[0x0f, 0x1a, 0x0c, 0x0f];
/// `bndstx [rdi+rcx], bnd0; nop`, as the programs write it.
const BNDSTX_SIB_NOP: &[u8] = &[0x0f, 0x1b, 0x04, 0x0f, 0x90];
/// `bndldx bnd1, [rdi+rcx]; nop`.
const BNDLDX_SIB_NOP: &[u8] = &[0x0f, 0x1a, 0x0c, 0x0f, 0x90];
/// `bndldx bnd1, [rdi+rcx+0]` (disp8).
const BNDLDX_SIB_DISP8: &[u8] = &[0x0f, 0x1a, 0x4c, 0x0f, 0x00];
/// `bndmk bnd0, [rsi+rdx]`.
const BNDMK_SIB: &[u8] = &[0xf3, 0x0f, 0x1b, 0x04, 0x16];
/// `bndmov bnd0, [rbx]`.
const BNDMOV_BND0_FROM_RBX: &[u8] = &[0x66, 0x0f, 0x1a, 0x03];
/// `bndmov [rbx], bnd0`.
const BNDMOV_RBX_FROM_BND0: &[u8] = &[0x66, 0x0f, 0x1b, 0x03];
/// `bndmov [rbx], bnd1`.
const BNDMOV_RBX_FROM_BND1: &[u8] = &[0x66, 0x0f, 0x1b, 0x0b];
/// `bndmov bnd2, [rbx]`.
const BNDMOV_BND2_FROM_RBX: &[u8] = &[0x66, 0x0f, 0x1a, 0x13];
/// `bndmov [rdi], bnd2`.
const BNDMOV_RDI_FROM_BND2: &[u8] = &[0x66, 0x0f, 0x1b, 0x17];

/// The three bound checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    Lower,
    Upper,
    UpperNotComplemented,
}

const CHECKS: [Check; 3] = [Check::Lower, Check::Upper, Check::UpperNotComplemented];

impl Check {
    fn name(self) -> &'static str {
        match self {
            Check::Lower => "BNDCL",
            Check::Upper => "BNDCU",
            Check::UpperNotComplemented => "BNDCN",
        }
    }

    /// `bndcX bnd0, rdx`.
    fn register_form(self) -> &'static [u8] {
        match self {
            Check::Lower => &[0xf3, 0x0f, 0x1a, 0xc2],
            Check::Upper => &[0xf2, 0x0f, 0x1a, 0xc2],
            Check::UpperNotComplemented => &[0xf2, 0x0f, 0x1b, 0xc2],
        }
    }

    /// `bndcX bnd0, [rcx]`.
    fn memory_form(self) -> &'static [u8] {
        match self {
            Check::Lower => &[0xf3, 0x0f, 0x1a, 0x01],
            Check::Upper => &[0xf2, 0x0f, 0x1a, 0x01],
            Check::UpperNotComplemented => &[0xf2, 0x0f, 0x1b, 0x01],
        }
    }

    /// The bound register's upper field as BNDMOV loads it: BNDCU compares against its
    /// complement, BNDCN against the field itself (SDM vol. 1, 17.3.3).
    fn upper_field(self, mode: CpuMode) -> u64 {
        match self {
            Check::UpperNotComplemented => UPPER,
            _ => width(mode, !UPPER),
        }
    }

    /// (address, RAX) for the run whose address is inside the bounds, and for the run
    /// whose address is outside. RAX is chosen so that `2·RAX` is on the other side.
    fn addresses(self) -> [(u64, u64); 2] {
        match self {
            Check::Lower => [(0x1800, 0), (0x800, 0xc00)],
            _ => [(0x1800, 0x2000), (0x3000, 0xc00)],
        }
    }
}

fn width(mode: CpuMode, value: u64) -> u64 {
    match mode {
        CpuMode::Long64 => value,
        CpuMode::Compat32 => value & 0xffff_ffff,
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
                write!(f, "exception {}", crate::interrupts::exception_name(*v))
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

/// Runs every probe in both modes.
pub fn run() -> Findings {
    let mut machine = match Machine::new() {
        Ok(machine) => machine,
        Err(_) => return Findings::failed(RunError::OutOfFrames),
    };
    Findings {
        long: probe_mode(&mut machine, CpuMode::Long64),
        compat: probe_mode(&mut machine, CpuMode::Compat32),
    }
}

impl Findings {
    fn failed(e: RunError) -> Findings {
        let mode = |mode| ModeFindings {
            mode,
            base: BaseProbe::Failed(e),
            sib: None,
            register_forms: RegisterForms([CheckBehaviour::Failed(e); 3]),
            memory_forms: MemoryForms {
                checks: [CheckBehaviour::Failed(e); 3],
                bndmk: Err(e),
                bndmov: Err(e),
            },
        };
        Findings {
            long: mode(CpuMode::Long64),
            compat: mode(CpuMode::Compat32),
        }
    }
}

/// Per-mode facts the cases need.
struct Env {
    mode: CpuMode,
    /// The directory base the probes want.
    base: u64,
    table: u64,
    /// BNDCFGS for the runs after the base probe (EN set; base encoded when known).
    cfg: u64,
}

fn probe_mode(machine: &mut Machine, mode: CpuMode) -> ModeFindings {
    let (base, table) = match mode {
        CpuMode::Long64 => (BASE64, TABLE64),
        CpuMode::Compat32 => (BASE32, TABLE32),
    };
    let base_probe = probe_base(machine, mode, base);
    let mut env = Env {
        mode,
        base,
        table,
        cfg: base | EN,
    };
    let sib = match base_probe {
        BaseProbe::Found(decoding) => {
            env.cfg = encode_bndcfg(decoding, base, EN);
            Some(probe_sib(machine, &env))
        }
        _ => None,
    };
    let register_forms = RegisterForms(CHECKS.map(|c| probe_check(machine, &env, c, false)));
    let memory_forms = MemoryForms {
        checks: CHECKS.map(|c| probe_check(machine, &env, c, true)),
        bndmk: probe_bndmk(machine, &env),
        bndmov: probe_bndmov(machine, &env),
    };
    ModeFindings {
        mode,
        base: base_probe,
        sib,
        register_forms,
        memory_forms,
    }
}

fn regs(values: &[(usize, u64)]) -> Regs {
    let mut regs = [0; 8];
    for &(r, v) in values {
        regs[r] = v;
    }
    regs
}

/// Bug A: one `BNDSTX` for linear address 0 into an empty directory; BNDSTATUS names
/// the entry the CPU read.
fn probe_base(machine: &mut Machine, mode: CpuMode, base: u64) -> BaseProbe {
    let cfg = base | EN;
    let candidates = [BaseDecoding::Architectural, BaseDecoding::ShiftedBy20]
        .map(|d| (d, effective_base(d, mode, cfg)));
    for &(_, page) in &candidates {
        if machine.map_zeroed(page).is_err() {
            return BaseProbe::Failed(RunError::OutOfFrames);
        }
    }
    let out = machine.run(&Case {
        mode,
        bndcfgs: cfg,
        regs: regs(&[(RDI, 0), (RCX, 0)]),
        setup: &[],
        test: BNDSTX_SIB,
        after: &[],
    });
    if let Some(v) = out.exception {
        return BaseProbe::Failed(RunError::Exception(v));
    }
    let Some(status) = out.bound_fault else {
        return BaseProbe::NoFault;
    };
    candidates
        .iter()
        .find(|&&(_, entry)| status == entry | 2)
        .map_or(BaseProbe::Unexpected(status), |&(d, _)| BaseProbe::Found(d))
}

/// A run that must raise nothing: the bytes skipped after its test instruction.
fn clean(out: &Outcome) -> Result<u32, RunError> {
    if let Some(v) = out.exception {
        return Err(RunError::Exception(v));
    }
    if let Some(status) = out.bound_fault {
        return Err(RunError::BoundFault(status));
    }
    Ok(out.skipped().unwrap_or(u32::MAX))
}

/// Reads the bounds pair a `BNDMOV` store wrote at `va` (two u64, or two u32 in
/// compatibility mode).
fn read_pair(machine: &Machine, mode: CpuMode, va: u64) -> (u64, u64) {
    match mode {
        CpuMode::Long64 => (machine.read_u64(va), machine.read_u64(va + 8)),
        CpuMode::Compat32 => (
            u64::from(machine.read_u32(va)),
            u64::from(machine.read_u32(va + 4)),
        ),
    }
}

fn write_pair(machine: &mut Machine, mode: CpuMode, va: u64, (lower, upper): (u64, u64)) {
    match mode {
        CpuMode::Long64 => {
            machine.write_u64(va, lower);
            machine.write_u64(va + 8, upper);
        }
        CpuMode::Compat32 => {
            machine.write_u32(va, lower as u32);
            machine.write_u32(va + 4, upper as u32);
        }
    }
}

/// The bounds `BNDMK bnd0, [rsi+rdx]` makes from `(MK_LOWER, MK_SIZE)`, as stored.
fn made_bounds(mode: CpuMode) -> (u64, u64) {
    (MK_LOWER, width(mode, !(MK_LOWER + MK_SIZE)))
}

/// One [`SibRun`] from the run without and the run with a `nop` after the
/// instruction, each giving (bytes skipped, bounds right).
fn sib_run(
    plain: Result<(u32, bool), RunError>,
    with_nop: Result<(u32, bool), RunError>,
) -> Result<SibRun, RunError> {
    let (skipped, correct) = plain?;
    let (skipped_after_nop, correct_after_nop) = with_nop?;
    Ok(SibRun {
        skipped,
        nop_absorbs: skipped_after_nop == 0,
        correct: correct && correct_after_nop,
    })
}

/// Bug B: SIB-form `BNDSTX` and `BNDLDX` through a real table, counting the bytes
/// skipped after each.
fn probe_sib(machine: &mut Machine, env: &Env) -> SibForms {
    let mode = env.mode;
    if machine.map_zeroed(env.table).is_err() {
        let e = Err(RunError::OutOfFrames);
        return SibForms {
            bndstx: e,
            bndldx: e,
            bndldx_disp8: e,
        };
    }
    // Entry 0 of the directory names the table (valid bit set); the table's entry 0
    // describes linear address 0.
    match mode {
        CpuMode::Long64 => machine.write_u64(env.base, env.table | 1),
        CpuMode::Compat32 => machine.write_u32(env.base, env.table as u32 | 1),
    }
    let expected = made_bounds(mode);
    // Each instruction runs twice: with the counted tail right after it, and with
    // one `nop` in between, as the programs write it.
    let mut store = |nop: bool| {
        let out = machine.run(&Case {
            mode,
            bndcfgs: env.cfg,
            regs: regs(&[(RSI, MK_LOWER), (RDX, MK_SIZE), (RDI, 0), (RCX, POINTER)]),
            setup: BNDMK_SIB,
            test: if nop { BNDSTX_SIB_NOP } else { BNDSTX_SIB },
            after: &[],
        });
        clean(&out).map(|skipped| {
            // Table entry: lower, upper (complemented), pointer, reserved; 32 bytes
            // in 64-bit mode, 16 in 32-bit mode (SDM vol. 1, 17.4.3).
            let entry = match mode {
                CpuMode::Long64 => [0, 8, 16, 24].map(|o| machine.read_u64(env.table + o)),
                CpuMode::Compat32 => {
                    [0, 4, 8, 12].map(|o| u64::from(machine.read_u32(env.table + o)))
                }
            };
            (skipped, entry == [expected.0, expected.1, POINTER, 0])
        })
    };
    let bndstx = sib_run(store(false), store(true));
    let mut load = |test: &'static [u8]| {
        let out_at = OPERANDS + 0x80;
        write_pair(machine, mode, out_at, (0, 0));
        let out = machine.run(&Case {
            mode,
            bndcfgs: env.cfg,
            regs: regs(&[(RDI, 0), (RCX, POINTER), (RBX, out_at)]),
            setup: &[],
            test,
            after: BNDMOV_RBX_FROM_BND1,
        });
        clean(&out).map(|skipped| (skipped, read_pair(machine, mode, out_at) == expected))
    };
    let bndldx = sib_run(load(BNDLDX_SIB), load(BNDLDX_SIB_NOP));
    let bndldx_disp8 = load(BNDLDX_SIB_DISP8).map(|(skipped, correct)| SibRun {
        skipped,
        nop_absorbs: skipped == 0,
        correct,
    });
    SibForms {
        bndstx,
        bndldx,
        bndldx_disp8,
    }
}

/// Bugs C and the memory forms: `check` in register form (`rdx`) or memory form
/// (`[rcx]`), once with the address inside the bounds and once outside, RAX chosen
/// so that `2·RAX` lies on the other side.
fn probe_check(machine: &mut Machine, env: &Env, check: Check, memory: bool) -> CheckBehaviour {
    let mode = env.mode;
    let (test, operand) = if memory {
        (check.memory_form(), RCX)
    } else {
        (check.register_form(), RDX)
    };
    let bounds_at = OPERANDS;
    let mut status = [None; 2];
    let mut skipped = 0;
    for (run, &(address, rax)) in check.addresses().iter().enumerate() {
        write_pair(machine, mode, bounds_at, (LOWER, check.upper_field(mode)));
        let out = machine.run(&Case {
            mode,
            bndcfgs: env.cfg,
            regs: regs(&[(RBX, bounds_at), (operand, address), (RAX, rax)]),
            setup: BNDMOV_BND0_FROM_RBX,
            test,
            after: &[],
        });
        if let Some(v) = out.exception {
            return CheckBehaviour::Failed(RunError::Exception(v));
        }
        status[run] = out.bound_fault;
        skipped = skipped.max(out.skipped().unwrap_or(0));
    }
    let raised = |s: Option<u64>| s.is_some_and(|s| s & 3 == 1);
    match (status[0], status[1]) {
        (None, out) if raised(out) && skipped == 0 => CheckBehaviour::Sdm,
        (inside, None) if raised(inside) && skipped == 0 => CheckBehaviour::TwiceRax,
        (None, None) if skipped == 0 => CheckBehaviour::Never,
        (inside, outside) => CheckBehaviour::Other {
            inside,
            outside,
            skipped,
        },
    }
}

/// `BNDMK` (SIB form) stored back with `BNDMOV`.
fn probe_bndmk(machine: &mut Machine, env: &Env) -> Result<bool, RunError> {
    let out_at = OPERANDS + 0x20;
    write_pair(machine, env.mode, out_at, (0, 0));
    let out = machine.run(&Case {
        mode: env.mode,
        bndcfgs: env.cfg,
        regs: regs(&[(RSI, MK_LOWER), (RDX, MK_SIZE), (RBX, out_at)]),
        setup: &[],
        test: BNDMK_SIB,
        after: BNDMOV_RBX_FROM_BND0,
    });
    let skipped = clean(&out)?;
    Ok(skipped == 0 && read_pair(machine, env.mode, out_at) == made_bounds(env.mode))
}

/// `BNDMOV` from memory and back to memory.
fn probe_bndmov(machine: &mut Machine, env: &Env) -> Result<bool, RunError> {
    let (from, to) = (OPERANDS + 0x40, OPERANDS + 0x60);
    let value = (0x1234_5000, width(env.mode, !0x1234_5fff));
    write_pair(machine, env.mode, from, value);
    write_pair(machine, env.mode, to, (0, 0));
    let out = machine.run(&Case {
        mode: env.mode,
        bndcfgs: env.cfg,
        regs: regs(&[(RBX, from), (RDI, to)]),
        setup: &[],
        test: BNDMOV_BND2_FROM_RBX,
        after: BNDMOV_RDI_FROM_BND2,
    });
    let skipped = clean(&out)?;
    Ok(skipped == 0 && read_pair(machine, env.mode, to) == value)
}
