//! Loading a static Linux ELF program (ET_EXEC, or static-PIE ET_DYN) into a fresh
//! address space, with the initial stack Linux builds: `argc`, `argv`, `envp` and the
//! auxiliary vector glibc reads (SysV x86-64 ABI §3.4; Linux `fs/binfmt_elf.c`).

use super::fd::FdTable;
use super::mem_calls::{MMAP_MIN, TASK_SIZE};
use super::state::{Brk, Linux, RunLog};
use crate::fs;
use crate::mm::layout::PAGE;
use crate::mm::space::{At, MapRequest, Mm, Policy};
use crate::mm::vma::{Backing, Placement, Prot, VmaName};
use crate::proc::run::Start;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::AtomicU64;
use elf::abi::{EM_X86_64, ET_DYN, ET_EXEC, PF_R, PF_W, PF_X, PT_INTERP, PT_LOAD, PT_PHDR};
use elf::endian::AnyEndian;
use elf::file::Class;
use elf::ElfBytes;
use mpx::mm::VmaKind;
use spin::Mutex;

/// The top of the main thread's stack.
pub const STACK_TOP: u64 = TASK_SIZE;
/// The stack's size (`RLIMIT_STACK`), mapped at start and demand-paged.
pub const STACK_SIZE: u64 = 8 << 20;
/// Mappings without an address go below this, downwards (Linux's `mmap_base`).
pub const MMAP_TOP: u64 = 0x7f00_0000_0000;
/// Where a static-PIE program is loaded (what Linux uses without randomisation).
const PIE_BASE: u64 = 0x5555_5555_4000;

/// Why a program could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// No file by that name.
    NotFound,
    /// Not an ELF file, or a malformed one.
    Format(&'static str),
    /// A dynamically linked program (it wants an interpreter).
    Dynamic,
    /// Out of memory, or a segment outside the user address space.
    Memory,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotFound => f.write_str("no such file"),
            LoadError::Format(why) => write!(f, "not a static x86-64 ELF program: {why}"),
            LoadError::Dynamic => {
                f.write_str("a dynamically linked program (build it with gcc -static)")
            }
            LoadError::Memory => f.write_str("its segments do not fit in memory"),
        }
    }
}

/// Auxiliary-vector keys (`<elf.h>`).
mod at {
    pub const NULL: u64 = 0;
    pub const PHDR: u64 = 3;
    pub const PHENT: u64 = 4;
    pub const PHNUM: u64 = 5;
    pub const PAGESZ: u64 = 6;
    pub const BASE: u64 = 7;
    pub const FLAGS: u64 = 8;
    pub const ENTRY: u64 = 9;
    pub const UID: u64 = 11;
    pub const EUID: u64 = 12;
    pub const GID: u64 = 13;
    pub const EGID: u64 = 14;
    pub const PLATFORM: u64 = 15;
    pub const HWCAP: u64 = 16;
    pub const CLKTCK: u64 = 17;
    pub const SECURE: u64 = 23;
    pub const RANDOM: u64 = 25;
    pub const HWCAP2: u64 = 26;
    pub const EXECFN: u64 = 31;
    pub const MINSIGSTKSZ: u64 = 51;
}

fn prot_of(flags: u32) -> Prot {
    let mut prot = Prot::empty();
    prot.set(Prot::READ, flags & PF_R != 0);
    prot.set(Prot::WRITE, flags & PF_W != 0);
    prot.set(Prot::EXEC, flags & PF_X != 0);
    prot
}

/// Loads the program at `path` (a file of the in-memory file system) to run with
/// `args` (`argv[1..]`; `argv[0]` is its base name).
pub fn load(path: &str, args: &[String], log: Arc<Mutex<RunLog>>) -> Result<Start, LoadError> {
    let node = fs::lookup(path).ok_or(LoadError::NotFound)?;
    let policy = Policy {
        placement: Placement::TopDown(MMAP_TOP),
        floor: MMAP_MIN,
        ceiling: TASK_SIZE,
        zero_page_reads: true,
    };
    let mut mm = Mm::new(policy).ok_or(LoadError::Memory)?;
    let exe: Arc<str> = Arc::from(path);
    let image = node
        .with_bytes(|bytes| map_segments(&mut mm, bytes, &exe))
        .ok_or(LoadError::Format("not a regular file"))??;
    let stack = build_stack(&mut mm, &exe, args, &image)?;
    let name = super::state::task_name(exe.rsplit('/').next().unwrap_or(&exe));
    let linux = Linux {
        exe,
        fds: Mutex::new(FdTable::with_console()),
        brk: Mutex::new(Brk {
            start: image.brk,
            end: image.brk,
        }),
        log,
        umask: AtomicU64::new(0o022),
        started_ns: crate::arch::time::monotonic_ns(),
        limits: Mutex::new(super::state::default_limits()),
        signals: Mutex::new(super::signal::sets::Signals::new()),
        name: Mutex::new(name),
        mpx_cfg: Mutex::new(None),
    };
    Ok(Start {
        mm,
        abi: Box::new(linux),
        entry: image.entry,
        stack,
        arg: 0,
    })
}

/// What the loaded segments give the stack and the heap.
struct Image {
    entry: u64,
    phdr: u64,
    phent: u64,
    phnum: u64,
    brk: u64,
}

fn map_segments(mm: &mut Mm, bytes: &[u8], exe: &Arc<str>) -> Result<Image, LoadError> {
    let file = ElfBytes::<AnyEndian>::minimal_parse(bytes)
        .map_err(|_| LoadError::Format("bad ELF header"))?;
    let h = &file.ehdr;
    if h.class != Class::ELF64 || h.e_machine != EM_X86_64 {
        return Err(LoadError::Format("not x86-64 (64-bit)"));
    }
    let base = match h.e_type {
        ET_EXEC => 0,
        ET_DYN => PIE_BASE,
        _ => return Err(LoadError::Format("not an executable")),
    };
    let segments = file
        .segments()
        .ok_or(LoadError::Format("no program headers"))?;
    if segments.iter().any(|s| s.p_type == PT_INTERP) {
        return Err(LoadError::Dynamic);
    }
    let mut phdr = None;
    let mut top = 0u64;
    let mut previous_end = 0u64;
    for s in segments.iter() {
        if s.p_type == PT_PHDR {
            phdr = Some(base + s.p_vaddr);
        }
        if s.p_type != PT_LOAD || s.p_memsz == 0 {
            continue;
        }
        if s.p_filesz > s.p_memsz {
            return Err(LoadError::Format(
                "a segment with more file bytes than memory",
            ));
        }
        let vaddr = base
            .checked_add(s.p_vaddr)
            .ok_or(LoadError::Format("segment address"))?;
        let end = vaddr
            .checked_add(s.p_memsz)
            .filter(|&e| e <= TASK_SIZE)
            .ok_or(LoadError::Memory)?;
        let data = usize::try_from(s.p_offset)
            .ok()
            .zip(usize::try_from(s.p_filesz).ok())
            .and_then(|(o, n)| bytes.get(o..o.checked_add(n)?))
            .ok_or(LoadError::Format("segment beyond the file"))?;
        let prot = prot_of(s.p_flags);
        // Pages a previous segment already maps (segments may share a page) keep
        // that mapping, with both segments' access.
        let mut first = vaddr & !(PAGE - 1);
        // (PT_LOAD segments come in address order and share at most a page.)
        if first.saturating_add(PAGE) < previous_end {
            return Err(LoadError::Format("overlapping or unordered segments"));
        }
        if first < previous_end {
            let shared = mm.vmas().find(first).map(|v| v.prot).unwrap_or(prot);
            mm.protect(first, previous_end, shared | prot)
                .map_err(|_| LoadError::Memory)?;
            first = previous_end;
        }
        let last = end.next_multiple_of(PAGE);
        // The pages holding file bytes are named after the file (and offset); the
        // rest of the segment (its bss beyond the last file page) is anonymous, as
        // Linux maps it.
        let file_end = if s.p_filesz == 0 {
            first
        } else {
            (vaddr + s.p_filesz)
                .next_multiple_of(PAGE)
                .clamp(first, last)
        };
        let offset = s.p_offset.wrapping_sub(vaddr - first);
        let pieces = [
            (first, file_end, VmaName::File(exe.clone(), offset)),
            (file_end, last, VmaName::None),
        ];
        for (from, to, name) in pieces {
            if from < to {
                mm.map(MapRequest {
                    at: At::Exactly(from),
                    len: to - from,
                    kind: VmaKind::Data,
                    backing: Backing::Anonymous,
                    prot,
                    name,
                })
                .map_err(|_| LoadError::Memory)?;
            }
        }
        mm.write_bytes(vaddr, data).map_err(|_| LoadError::Memory)?;
        previous_end = previous_end.max(last);
        top = top.max(last);
        if phdr.is_none() && (s.p_offset..s.p_offset + s.p_filesz).contains(&h.e_phoff) {
            phdr = Some(vaddr + (h.e_phoff - s.p_offset));
        }
    }
    if top == 0 {
        return Err(LoadError::Format("no loadable segment"));
    }
    let entry = base
        .checked_add(h.e_entry)
        .filter(|&e| e < TASK_SIZE)
        .ok_or(LoadError::Format("entry point outside user space"))?;
    Ok(Image {
        entry,
        phdr: phdr.unwrap_or(0),
        phent: u64::from(h.e_phentsize),
        phnum: u64::from(h.e_phnum),
        brk: top,
    })
}

/// Maps the stack and writes the initial process stack; returns the stack pointer
/// (pointing at `argc`, 16-byte aligned).
fn build_stack(mm: &mut Mm, exe: &str, args: &[String], image: &Image) -> Result<u64, LoadError> {
    mm.map(MapRequest {
        at: At::Exactly(STACK_TOP - STACK_SIZE),
        len: STACK_SIZE,
        kind: VmaKind::Data,
        backing: Backing::Anonymous,
        prot: Prot::READ | Prot::WRITE,
        name: VmaName::Stack,
    })
    .map_err(|_| LoadError::Memory)?;
    let name = exe.rsplit('/').next().unwrap_or(exe);
    let argv: Vec<&str> = core::iter::once(name)
        .chain(args.iter().map(String::as_str))
        .collect();
    let envp = ["PATH=/bin:/usr/bin", "HOME=/", "TERM=dumb"];

    // Strings and the random bytes at the top, then the pointer block below them.
    let mut cursor = STACK_TOP - 16;
    let mut strings: Vec<(u64, &[u8])> = Vec::new();
    let mut push = |bytes: &'static [u8], cursor: &mut u64| {
        *cursor -= bytes.len() as u64;
        strings.push((*cursor, bytes));
        *cursor
    };
    let leak = |s: &str| -> &'static [u8] {
        let mut v = Vec::from(s.as_bytes());
        v.push(0);
        Box::leak(v.into_boxed_slice())
    };
    // (Leaked for the duration of this function only: freed below.)
    let execfn = push(leak(exe), &mut cursor);
    let platform = push(leak("x86_64"), &mut cursor);
    let argv_at: Vec<u64> = argv.iter().map(|a| push(leak(a), &mut cursor)).collect();
    let envp_at: Vec<u64> = envp.iter().map(|e| push(leak(e), &mut cursor)).collect();
    let mut random = [0u8; 16];
    crate::arch::random::fill(&mut random);
    cursor = (cursor - 16) & !15;
    let random_at = cursor;
    let hwcap = u64::from(core::arch::x86_64::__cpuid(1).edx);
    let min_signal_stack =
        super::signal::frame::min_stack_size(crate::arch::cpu::layout().size as u64);
    let auxv: [(u64, u64); 19] = [
        (at::PHDR, image.phdr),
        (at::PHENT, image.phent),
        (at::PHNUM, image.phnum),
        (at::PAGESZ, PAGE),
        (at::BASE, 0),
        (at::FLAGS, 0),
        (at::ENTRY, image.entry),
        (at::UID, 0),
        (at::EUID, 0),
        (at::GID, 0),
        (at::EGID, 0),
        (at::PLATFORM, platform),
        (at::HWCAP, hwcap),
        (at::CLKTCK, 100),
        (at::SECURE, 0),
        (at::RANDOM, random_at),
        (at::HWCAP2, 0),
        (at::EXECFN, execfn),
        (at::MINSIGSTKSZ, min_signal_stack),
    ];
    let mut words: Vec<u64> = Vec::new();
    words.push(argv.len() as u64);
    words.extend(&argv_at);
    words.push(0);
    words.extend(&envp_at);
    words.push(0);
    for (key, value) in auxv {
        words.extend([key, value]);
    }
    words.extend([at::NULL, 0]);
    let rsp = (random_at - 8 * words.len() as u64) & !15;
    let mut block = Vec::with_capacity(words.len() * 8);
    for w in &words {
        block.extend_from_slice(&w.to_le_bytes());
    }
    let write = |va: u64, bytes: &[u8]| mm.write_bytes(va, bytes).map_err(|_| LoadError::Memory);
    let result = (|| {
        for &(va, bytes) in &strings {
            write(va, bytes)?;
        }
        write(random_at, &random)?;
        write(rsp, &block)
    })();
    for (_, bytes) in strings {
        // SAFETY: each was leaked from a `Box<[u8]>` above and is used nowhere else
        // any more.
        drop(unsafe { Box::from_raw(core::ptr::from_ref(bytes).cast_mut()) });
    }
    result.map(|()| rsp)
}
