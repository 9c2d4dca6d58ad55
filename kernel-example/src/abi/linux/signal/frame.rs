//! Linux's x86-64 signal frame (`struct rt_sigframe`), byte for byte: built to enter
//! a handler, read back by `rt_sigreturn`.
//!
//! From the frame's base (the handler's RSP; offsets checked against glibc 2.36's
//! `sys/ucontext.h` and `bits/types/siginfo_t.h` and Linux's
//! `arch/x86/include/asm/sigframe.h`):
//!
//! | offset | what |
//! |---|---|
//! | 0 | `pretcode`: `sa_restorer`, the handler's return address |
//! | 8 | `uc_flags` (`UC_FP_XSTATE \| UC_SIGCONTEXT_SS \| UC_STRICT_RESTORE_SS` = 7) |
//! | 16 | `uc_link` (0) |
//! | 24 | `uc_stack`: `ss_sp`, `ss_flags` (32), `ss_size` (40) |
//! | 48 | `uc_mcontext`: r8-r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags (48 + 8 * glibc's `REG_*`), cs/gs/fs/ss (192), err (200), trapno (208), oldmask (216), cr2 (224), fpstate (232), reserved (240) |
//! | 304 | `uc_sigmask` (the mask to restore) |
//! | 312 | `siginfo_t` (128 bytes, with `SA_SIGINFO`) |
//! | 440 | end; the FPU area lies above, 64-byte aligned |
//!
//! The FPU area is the process's XSAVE image in standard format, with the software
//! bytes at 464 (`FP_XSTATE_MAGIC1`, extended size, features, XSAVE size) and
//! `FP_XSTATE_MAGIC2` right after the image (Linux `arch/x86/kernel/fpu/signal.c`).

use super::info::{SigInfo, SIGINFO_SIZE};
use super::sets::{bit, check_altstack, flags, stack_flags, Action, AltStack, UNBLOCKABLE};
use crate::abi::linux::state::Linux;
use crate::arch::cpu::XCR0_BITS;
use crate::arch::trap::TrapFrame;
use crate::proc::process::Process;
use crate::proc::uaccess::{copy_from_user, copy_to_user};
use alloc::vec;

/// User addresses are below this (2^47): RIP and RSP beyond it are never loaded.
const USER_LIMIT: u64 = 1 << 47;
/// Bytes of the frame below the FPU area.
pub const FRAME_SIZE: u64 = 440;
/// Bytes of the red zone a handler's frame skips (the System V ABI's 128).
const RED_ZONE: u64 = 128;
/// `uc_flags`: the FPU area is an XSAVE image; `ss` is saved; restore it strictly.
const UC_FLAGS: u64 = 0x1 | 0x2 | 0x4;
/// `sw_reserved.magic1`.
pub const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
/// The word after the XSAVE image.
pub const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;
/// Where the software bytes start in the legacy region.
const SW_BYTES: usize = 464;
/// RFLAGS bits `rt_sigreturn` takes from the frame (Linux's `FIX_EFLAGS`: AC, OF,
/// DF, TF, SF, ZF, AF, PF, CF, RF).
const FIX_EFLAGS: u64 = 0x50DD5;
/// RFLAGS bits cleared for the handler: TF, DF, RF.
const HANDLER_CLEARS: u64 = 0x100 | 0x400 | 0x1_0000;
/// Offset of `uc_mcontext` in the frame.
const MCONTEXT: usize = 48;

/// The smallest stack a handler's frame needs (`AT_MINSIGSTKSZ`): the frame, the FPU
/// area with its magic, and the worst alignments (Linux's `init_sigframe_size`
/// without the 32-bit frame).
pub fn min_stack_size(xsave_size: u64) -> u64 {
    (FRAME_SIZE + 15 + xsave_size + 4 + 63).next_multiple_of(16)
}

/// Why a frame could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoFrame;

fn put(bytes: &mut [u8], at: usize, value: u64) {
    bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

fn get(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]))
}

/// The general registers in sigcontext order (r8 .. rip, eflags).
fn registers(frame: &TrapFrame) -> [u64; 18] {
    let f = frame;
    [
        f.r8, f.r9, f.r10, f.r11, f.r12, f.r13, f.r14, f.r15, f.rdi, f.rsi, f.rbp, f.rbx, f.rdx,
        f.rax, f.rcx, f.rsp, f.rip, f.rflags,
    ]
}

/// Builds the frame for `info` with `action` on the process's stack (or its
/// alternate stack), and points `frame` at the handler. The process's extended
/// state goes into the frame and the handler starts with it in its init state.
pub fn enter_handler(
    l: &Linux,
    p: &Process,
    frame: &mut TrapFrame,
    info: &SigInfo,
    action: &Action,
) -> Result<(), NoFrame> {
    // x86-64 has no default restorer: without one the frame cannot return. A handler
    // outside user space could not be entered (IRETQ to a non-canonical RIP faults
    // in ring 0): as on Linux, the process gets SIGSEGV instead.
    if action.flags & flags::SA_RESTORER == 0 || action.handler >= USER_LIMIT {
        return Err(NoFrame);
    }
    let (alt, blocked, trap) = {
        let signals = l.signals.lock();
        (signals.altstack, signals.blocked, signals.trap)
    };
    let nested = alt.contains(frame.rsp);
    let mut sp = frame.rsp.wrapping_sub(RED_ZONE);
    let entering = action.flags & flags::SA_ONSTACK != 0 && alt.state(sp) == 0;
    if entering {
        sp = alt.sp.wrapping_add(alt.size);
    }
    // The image, with Linux's software bytes and MAGIC2.
    let mut image = p.xsave.lock().bytes().to_vec();
    let xsize = image.len() as u64;
    let fp = sp.wrapping_sub(xsize + 4) & !63;
    let base = (fp.wrapping_sub(FRAME_SIZE) & !15).wrapping_sub(8);
    let on_alt = |at: u64| at > alt.sp && at - alt.sp <= alt.size;
    if (nested || entering) && !on_alt(base) {
        return Err(NoFrame);
    }
    image[SW_BYTES..SW_BYTES + 48].fill(0);
    image[SW_BYTES..SW_BYTES + 4].copy_from_slice(&FP_XSTATE_MAGIC1.to_le_bytes());
    image[SW_BYTES + 4..SW_BYTES + 8].copy_from_slice(&((xsize + 4) as u32).to_le_bytes());
    put(&mut image, SW_BYTES + 8, XCR0_BITS);
    image[SW_BYTES + 16..SW_BYTES + 20].copy_from_slice(&(xsize as u32).to_le_bytes());
    // x87 and SSE always count as saved (Linux forces the two bits).
    let bv = get(&image, 512) | 0b11;
    put(&mut image, 512, bv);
    image.extend_from_slice(&FP_XSTATE_MAGIC2.to_le_bytes());
    copy_to_user(p, fp, &image).map_err(|_| NoFrame)?;

    let mut bytes = vec![0u8; FRAME_SIZE as usize];
    put(&mut bytes, 0, action.restorer);
    put(&mut bytes, 8, UC_FLAGS);
    put(&mut bytes, 24, alt.sp);
    bytes[32..36].copy_from_slice(&alt.flags.to_le_bytes());
    put(&mut bytes, 40, alt.size);
    for (i, value) in registers(frame).iter().enumerate() {
        put(&mut bytes, MCONTEXT + 8 * i, *value);
    }
    bytes[192..194].copy_from_slice(&(frame.cs as u16).to_le_bytes());
    bytes[198..200].copy_from_slice(&(frame.ss as u16).to_le_bytes());
    put(&mut bytes, 200, trap.err);
    put(&mut bytes, 208, trap.trapno);
    put(&mut bytes, 216, blocked);
    put(&mut bytes, 224, trap.cr2);
    put(&mut bytes, 232, fp);
    put(&mut bytes, 304, blocked);
    if action.flags & flags::SA_SIGINFO != 0 {
        bytes[312..312 + SIGINFO_SIZE].copy_from_slice(&info.to_bytes());
    }
    copy_to_user(p, base, &bytes).map_err(|_| NoFrame)?;

    frame.rdi = u64::from(info.signo);
    frame.rsi = base + 312;
    frame.rdx = base + 8;
    frame.rax = 0;
    frame.rip = action.handler;
    frame.rsp = base;
    frame.rflags &= !HANDLER_CLEARS;
    p.xsave.lock().reset_to_init();
    let mut signals = l.signals.lock();
    signals.blocked |= action.mask;
    if action.flags & flags::SA_NODEFER == 0 {
        signals.blocked |= bit(info.signo);
    }
    signals.blocked &= !UNBLOCKABLE;
    if action.flags & flags::SA_RESETHAND != 0 {
        // Only the handler goes back to the default (Linux's `get_signal`).
        signals.actions[info.signo as usize - 1].handler = 0;
    }
    if entering && alt.flags & stack_flags::SS_AUTODISARM != 0 {
        signals.altstack = AltStack {
            sp: 0,
            size: 0,
            flags: stack_flags::SS_DISABLE,
        };
    }
    Ok(())
}

/// Why a frame could not be returned from: the process gets `SIGSEGV`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadFrame;

/// `rt_sigreturn`: the frame below RSP (the handler's `ret` popped `pretcode`)
/// gives back the mask, the alternate stack, every general register (RIP and RSP
/// included, canonical user addresses only), RFLAGS through Linux's mask, and the
/// extended state: the whole XSAVE image when its magic checks out, the legacy
/// x87/SSE region only when it does not (the rest at init), never an image XRSTOR
/// would refuse.
pub fn restore(l: &Linux, p: &Process, frame: &mut TrapFrame) -> Result<(), BadFrame> {
    let base = frame.rsp.wrapping_sub(8);
    let mut bytes = [0u8; FRAME_SIZE as usize];
    copy_from_user(p, base, &mut bytes).map_err(|_| BadFrame)?;
    let reg = |i: usize| get(&bytes, MCONTEXT + 8 * i);
    let (rsp, rip) = (reg(15), reg(16));
    if rip >= USER_LIMIT || rsp >= USER_LIMIT {
        return Err(BadFrame);
    }
    restore_extended_state(p, get(&bytes, 232))?;
    let stack = AltStack {
        sp: get(&bytes, 24),
        flags: u32::from_le_bytes(bytes[32..36].try_into().unwrap_or([0; 4])),
        size: get(&bytes, 40),
    };
    {
        let mut signals = l.signals.lock();
        signals.blocked = get(&bytes, 304) & !UNBLOCKABLE;
        // As Linux's restore_altstack: errors are ignored.
        if let Ok(altstack) = check_altstack(signals.altstack, stack, frame.rsp) {
            signals.altstack = altstack;
        }
    }
    let f = frame;
    [
        f.r8, f.r9, f.r10, f.r11, f.r12, f.r13, f.r14, f.r15, f.rdi, f.rsi, f.rbp, f.rbx, f.rdx,
        f.rax, f.rcx,
    ] = core::array::from_fn(reg);
    f.rsp = rsp;
    f.rip = rip;
    f.rflags = (f.rflags & !FIX_EFLAGS) | (reg(17) & FIX_EFLAGS);
    Ok(())
}

/// The extended state from the frame's FPU area at `fp` (0: init state), as Linux's
/// `fpu__restore_sig` takes it: the whole image (64-byte aligned) when magic1, the
/// sizes in the software bytes (`xstate_size` from 576 to the kernel's size, at most
/// `extended_size`) and MAGIC2 after the kernel-sized image check out, restoring the
/// components the software bytes name; otherwise the legacy x87/SSE region alone
/// (16-byte aligned), the rest initialised.
fn restore_extended_state(p: &Process, fp: u64) -> Result<(), BadFrame> {
    let mut xsave = p.xsave.lock();
    if fp == 0 {
        xsave.reset_to_init();
        return Ok(());
    }
    let xsize = xsave.size();
    let mut sw = [0u8; 48];
    copy_from_user(p, fp.wrapping_add(SW_BYTES as u64), &mut sw).map_err(|_| BadFrame)?;
    let half = |at: usize| u32::from_le_bytes(sw[at..at + 4].try_into().unwrap_or([0; 4]));
    let (magic1, extended_size, xstate_size) = (half(0), half(4), half(16));
    let features = get(&sw, 8) & XCR0_BITS;
    let sizes_ok = (576..=xsize as u32).contains(&xstate_size) && xstate_size <= extended_size;
    let full = magic1 == FP_XSTATE_MAGIC1 && sizes_ok && {
        let mut magic2 = [0u8; 4];
        copy_from_user(p, fp.wrapping_add(xsize as u64), &mut magic2).map_err(|_| BadFrame)?;
        u32::from_le_bytes(magic2) == FP_XSTATE_MAGIC2
    };
    // XRSTOR needs 64-byte alignment, FXRSTOR 16.
    if !fp.is_multiple_of(if full { 64 } else { 16 }) {
        return Err(BadFrame);
    }
    let mut image = vec![0u8; if full { xsize } else { 512 }];
    copy_from_user(p, fp, &mut image).map_err(|_| BadFrame)?;
    xsave
        .load_user_image(&image, if full { features } else { 0b11 }, !full)
        .map_err(|_| BadFrame)
}
