//! The probe cases: what each runs and what the SDM says it must do; the results
//! are classified into `findings`.

use super::case::{reg::*, Case, CpuMode, Outcome, Regs, OPERANDS};
use super::decoding::{effective_base, encode_bndcfg, BaseDecoding};
use super::findings::*;
use super::harness::Machine;

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

/// What each check probe runs.
impl Check {
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

/// Runs every probe in both modes.
fn run() -> Findings {
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

static FINDINGS: spin::Once<Findings> = spin::Once::new();

/// Runs every probe (kernel mode, at boot, before any process and before SMEP:
/// the probes run ring-0 code from user pages of a scratch address space) and keeps
/// the findings.
pub fn probe() -> &'static Findings {
    FINDINGS.call_once(run)
}

/// The 64-bit directory-base decoding found by [`probe`].
///
/// # Panics
/// If [`probe`] has not run or found no decoding (the kernel then runs no process).
pub fn decoding() -> BaseDecoding {
    match FINDINGS.get().expect("quirk::probe not run").long.base {
        BaseProbe::Found(decoding) => decoding,
        other => panic!("no directory-base decoding: {:?}", other),
    }
}
