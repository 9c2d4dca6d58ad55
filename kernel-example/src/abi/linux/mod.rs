//! A Linux x86-64 process ABI: static ELF programs loaded from the boot modules, the
//! system calls glibc and MPX programs use (through `syscall`, with Linux's numbers,
//! arguments and `-errno` returns), and in-memory files including `/proc`.
//!
//! Anything not implemented returns `-ENOSYS` and is reported once per number when
//! the program ends. No vDSO is mapped: glibc then makes real system calls for
//! `time`, `gettimeofday` and `clock_gettime`.

pub mod errno;
pub mod fd;
mod fs_calls;
pub mod loader;
mod mem_calls;
mod misc_calls;
mod path_calls;
mod prctl;
mod procfs;
pub mod signal;
pub mod state;

pub use signal::signal_for;
pub use state::{Args, Linux, RunLog, SysResult};

use crate::arch::trap::TrapFrame;
use crate::proc::process::{Abi, Exit, Flow, Process, SyscallEntry, UserFault};
use errno::*;

impl Abi for Linux {
    fn syscall(&self, p: &Process, frame: &mut TrapFrame, entry: SyscallEntry) -> Flow {
        let number = frame.rax;
        if entry != SyscallEntry::Syscall {
            // `int 0x80` is the 32-bit ABI, which this kernel does not offer.
            frame.rax = err(ENOSYS);
            return Flow::Continue;
        }
        let a = Args::of(frame);
        let result = match number {
            nr::EXIT | nr::EXIT_GROUP => return Flow::End(Exit::Code(a.get(0) & 0xff)),
            // Restores every register, rax included: no result to store.
            nr::RT_SIGRETURN => return signal::sigreturn(self, p, frame),
            nr::KILL | nr::TKILL | nr::TGKILL => match signal::send_to_self(self, number, a) {
                Ok(Flow::End(exit)) => return Flow::End(exit),
                Ok(Flow::Continue) => Ok(0),
                Err(errno) => Err(errno),
            },
            nr::SIGALTSTACK => signal::sigaltstack(self, p, a, frame.rsp),
            n => self.dispatch(p, n, a),
        };
        frame.rax = match result {
            Ok(value) => value,
            Err(ENOSYS) => {
                self.log.lock().unimplemented_call(number);
                err(ENOSYS)
            }
            Err(errno) => err(errno),
        };
        signal::deliver_pending(self, p, frame)
    }

    fn fault(&self, p: &Process, frame: &mut TrapFrame, fault: UserFault) -> Flow {
        signal::deliver_fault(self, p, frame, fault)
    }
}

impl Linux {
    fn dispatch(&self, p: &Process, number: u64, a: Args) -> SysResult {
        use nr::*;
        match number {
            READ | WRITE | CLOSE | FSTAT | LSEEK | IOCTL | PREAD64 | PWRITE64 | READV | WRITEV
            | DUP | DUP2 | FCNTL | FTRUNCATE | FSYNC | FDATASYNC | GETDENTS64 | DUP3 => {
                fs_calls::call(self, p, number, a)
            }
            OPEN | STAT | LSTAT | ACCESS | GETCWD | CHDIR | FCHDIR | RENAME | UNLINK | READLINK
            | OPENAT | NEWFSTATAT | RENAMEAT | READLINKAT | FACCESSAT | RENAMEAT2 => {
                path_calls::call(self, p, number, a)
            }
            MMAP | MPROTECT | MUNMAP | BRK | MREMAP | MSYNC | MINCORE | MADVISE | MLOCK
            | MUNLOCK | MLOCKALL | MUNLOCKALL => mem_calls::call(self, p, number, a),
            RT_SIGACTION => signal::sigaction(self, p, a),
            RT_SIGPROCMASK => signal::sigprocmask(self, p, a),
            RT_SIGPENDING => signal::sigpending(self, p, a),
            PRCTL => prctl::call(self, p, a),
            _ => misc_calls::call(self, p, number, a),
        }
    }
}
