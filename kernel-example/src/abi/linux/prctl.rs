//! `prctl`: Linux's MPX management options (`PR_MPX_ENABLE_MANAGEMENT` 43,
//! `PR_MPX_DISABLE_MANAGEMENT` 44, Linux 3.19 to 5.3) and the process name.
//!
//! Enabling follows Linux's `mpx_enable_management`: the program has mapped its
//! bounds directory and loaded BNDCFGU (directory | EN) with XRSTOR; the kernel reads
//! BNDCFGU from the task's saved extended state (EN clear, or BNDCSR in its init
//! state: `-ENXIO`) and hands the directory to the crate. On a CPU with QEMU's bug A
//! the SDM encoding the program wrote points elsewhere; the kernel rewrites the saved
//! BNDCFGU to the encoding whose effective base is the directory asked for (a program
//! reading BNDCFGU back sees that value).

use super::errno::*;
use super::state::{Args, Linux, SysResult};
use crate::mpx_glue::EnableRefusal;
use crate::proc::process::Process;
use crate::proc::uaccess::{copy_to_user, read_c_string};

/// `PR_SET_NAME`.
const PR_SET_NAME: u64 = 15;
/// `PR_GET_NAME`.
const PR_GET_NAME: u64 = 16;
/// `PR_MPX_ENABLE_MANAGEMENT`.
pub const PR_MPX_ENABLE_MANAGEMENT: u64 = 43;
/// `PR_MPX_DISABLE_MANAGEMENT`.
pub const PR_MPX_DISABLE_MANAGEMENT: u64 = 44;

pub(super) fn call(l: &Linux, p: &Process, a: Args) -> SysResult {
    match a.get(0) {
        PR_MPX_ENABLE_MANAGEMENT | PR_MPX_DISABLE_MANAGEMENT => {
            // Linux's final rule: every other argument 0.
            if (1..5).any(|i| a.get(i) != 0) {
                return Err(EINVAL);
            }
            if a.get(0) == PR_MPX_DISABLE_MANAGEMENT {
                p.mm.disable();
                return Ok(0);
            }
            enable(l, p)
        }
        PR_SET_NAME => {
            let mut name = [0u8; 16];
            // Up to 15 bytes (a longer name is cut, as Linux does).
            let len = match read_c_string(p, a.get(1), &mut name[..15]) {
                Ok(len) => len,
                Err(crate::proc::uaccess::StrError::TooLong) => 15,
                Err(crate::proc::uaccess::StrError::Fault) => return Err(EFAULT),
            };
            name[len..].fill(0);
            *l.name.lock() = name;
            Ok(0)
        }
        PR_GET_NAME => {
            let name = *l.name.lock();
            copy_to_user(p, a.get(1), &name).map_err(|_| EFAULT)?;
            Ok(0)
        }
        _ => Err(EINVAL),
    }
}

fn enable(l: &Linux, p: &Process) -> SysResult {
    let mut xsave = p.xsave.lock();
    let Some((cfg, _)) = xsave.bndcsr() else {
        return Err(ENXIO);
    };
    if cfg.raw() & 1 == 0 {
        return Err(ENXIO);
    }
    // The kernel's own re-encoding (an earlier enable) still means the directory it
    // was made for; anything else the program wrote is the SDM encoding.
    let remembered = *l.mpx_cfg.lock();
    let directory = match remembered {
        Some((encoded, directory)) if encoded == cfg.raw() => directory,
        _ => cfg.raw() & !0xfff,
    };
    match p.mm.enable(&mut xsave, directory, cfg.raw() & 0b11) {
        Ok(encoded) => {
            *l.mpx_cfg.lock() = Some((encoded, directory));
            if encoded != cfg.raw() && remembered.is_none_or(|(e, _)| e != cfg.raw()) {
                l.note(alloc::format!(
                    "prctl(PR_MPX_ENABLE_MANAGEMENT): BNDCFGU {:#x} rewritten to {:#x} for this CPU's directory decoding (QEMU bug A)",
                    cfg.raw(),
                    encoded
                ));
            }
            Ok(0)
        }
        Err(EnableRefusal::CannotEncode) => Err(ENXIO),
        Err(EnableRefusal::Crate(e)) => {
            l.note(alloc::format!(
                "prctl(PR_MPX_ENABLE_MANAGEMENT) refused: {e}"
            ));
            Err(ENXIO)
        }
    }
}
