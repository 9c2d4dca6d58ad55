//! Linux's x86-64 numbers: error codes, system calls, and the flag values the system
//! calls here take (from the kernel's uapi headers, as glibc uses them).

/// Operation not permitted.
pub const EPERM: i64 = 1;
/// No such file or directory.
pub const ENOENT: i64 = 2;
/// No such process.
pub const ESRCH: i64 = 3;
/// No such device or address (MPX management unavailable).
pub const ENXIO: i64 = 6;
/// Bad file descriptor.
pub const EBADF: i64 = 9;
/// The file is a running program.
pub const ETXTBSY: i64 = 26;
/// Is a directory.
pub const EISDIR: i64 = 21;
/// A value too large (an offset that wraps).
pub const EOVERFLOW: i64 = 75;
/// No space left on device (the file budget is spent).
pub const ENOSPC: i64 = 28;
/// Out of memory (or of address space).
pub const ENOMEM: i64 = 12;
/// Permission denied.
pub const EACCES: i64 = 13;
/// Bad address.
pub const EFAULT: i64 = 14;
/// File exists (also `MAP_FIXED_NOREPLACE` over a mapping).
pub const EEXIST: i64 = 17;
/// No such device (a mapping this kernel cannot make).
pub const ENODEV: i64 = 19;
/// Not a directory.
pub const ENOTDIR: i64 = 20;
/// Invalid argument.
pub const EINVAL: i64 = 22;
/// Too many open files.
pub const EMFILE: i64 = 24;
/// Not a terminal.
pub const ENOTTY: i64 = 25;
/// Illegal seek.
pub const ESPIPE: i64 = 29;
/// Result out of range.
pub const ERANGE: i64 = 34;
/// File name too long.
pub const ENAMETOOLONG: i64 = 36;
/// Function not implemented.
pub const ENOSYS: i64 = 38;

/// `-errno` as a system-call return value.
pub const fn err(errno: i64) -> u64 {
    (-errno) as u64
}

/// System-call numbers (x86-64).
#[allow(missing_docs)]
pub mod nr {
    pub const READ: u64 = 0;
    pub const WRITE: u64 = 1;
    pub const OPEN: u64 = 2;
    pub const CLOSE: u64 = 3;
    pub const STAT: u64 = 4;
    pub const FSTAT: u64 = 5;
    pub const LSTAT: u64 = 6;
    pub const LSEEK: u64 = 8;
    pub const MMAP: u64 = 9;
    pub const MPROTECT: u64 = 10;
    pub const MUNMAP: u64 = 11;
    pub const BRK: u64 = 12;
    pub const RT_SIGACTION: u64 = 13;
    pub const RT_SIGPROCMASK: u64 = 14;
    pub const RT_SIGRETURN: u64 = 15;
    pub const IOCTL: u64 = 16;
    pub const PREAD64: u64 = 17;
    pub const PWRITE64: u64 = 18;
    pub const READV: u64 = 19;
    pub const WRITEV: u64 = 20;
    pub const ACCESS: u64 = 21;
    pub const SCHED_YIELD: u64 = 24;
    pub const MREMAP: u64 = 25;
    pub const MSYNC: u64 = 26;
    pub const MINCORE: u64 = 27;
    pub const MADVISE: u64 = 28;
    pub const DUP: u64 = 32;
    pub const DUP2: u64 = 33;
    pub const NANOSLEEP: u64 = 35;
    pub const GETPID: u64 = 39;
    pub const EXIT: u64 = 60;
    pub const KILL: u64 = 62;
    pub const UNAME: u64 = 63;
    pub const FCNTL: u64 = 72;
    pub const FSYNC: u64 = 74;
    pub const FDATASYNC: u64 = 75;
    pub const FTRUNCATE: u64 = 77;
    pub const GETCWD: u64 = 79;
    pub const CHDIR: u64 = 80;
    pub const FCHDIR: u64 = 81;
    pub const RENAME: u64 = 82;
    pub const UNLINK: u64 = 87;
    pub const READLINK: u64 = 89;
    pub const UMASK: u64 = 95;
    pub const GETTIMEOFDAY: u64 = 96;
    pub const GETRLIMIT: u64 = 97;
    pub const GETRUSAGE: u64 = 98;
    pub const SYSINFO: u64 = 99;
    pub const GETUID: u64 = 102;
    pub const GETGID: u64 = 104;
    pub const GETEUID: u64 = 107;
    pub const GETEGID: u64 = 108;
    pub const GETPPID: u64 = 110;
    pub const RT_SIGPENDING: u64 = 127;
    pub const SIGALTSTACK: u64 = 131;
    pub const MLOCK: u64 = 149;
    pub const MUNLOCK: u64 = 150;
    pub const MLOCKALL: u64 = 151;
    pub const MUNLOCKALL: u64 = 152;
    pub const PRCTL: u64 = 157;
    pub const ARCH_PRCTL: u64 = 158;
    pub const SETRLIMIT: u64 = 160;
    pub const GETTID: u64 = 186;
    pub const TKILL: u64 = 200;
    pub const TIME: u64 = 201;
    pub const SCHED_SETAFFINITY: u64 = 203;
    pub const SCHED_GETAFFINITY: u64 = 204;
    pub const GETDENTS64: u64 = 217;
    pub const SET_TID_ADDRESS: u64 = 218;
    pub const CLOCK_GETTIME: u64 = 228;
    pub const CLOCK_GETRES: u64 = 229;
    pub const CLOCK_NANOSLEEP: u64 = 230;
    pub const EXIT_GROUP: u64 = 231;
    pub const TGKILL: u64 = 234;
    pub const OPENAT: u64 = 257;
    pub const NEWFSTATAT: u64 = 262;
    pub const RENAMEAT: u64 = 264;
    pub const READLINKAT: u64 = 267;
    pub const FACCESSAT: u64 = 269;
    pub const SET_ROBUST_LIST: u64 = 273;
    pub const DUP3: u64 = 292;
    pub const PRLIMIT64: u64 = 302;
    pub const RENAMEAT2: u64 = 316;
    pub const GETRANDOM: u64 = 318;
}

/// `openat`'s "relative to the current directory".
pub const AT_FDCWD: i64 = -100;
/// `newfstatat`: the descriptor itself.
pub const AT_EMPTY_PATH: u64 = 0x1000;
/// `open` flags.
pub const O_ACCMODE: u64 = 3;
/// See [`O_ACCMODE`].
pub const O_WRONLY: u64 = 1;
/// See [`O_ACCMODE`].
pub const O_RDWR: u64 = 2;
/// Create if missing.
pub const O_CREAT: u64 = 0x40;
/// With `O_CREAT`: fail if it exists.
pub const O_EXCL: u64 = 0x80;
/// Empty it.
pub const O_TRUNC: u64 = 0x200;
/// Writes go to the end.
pub const O_APPEND: u64 = 0x400;
/// Offsets past 2 GiB (always on for 64-bit processes).
pub const O_LARGEFILE: u64 = 0x8000;
/// Must be a directory.
pub const O_DIRECTORY: u64 = 0x10000;
/// Close on exec.
pub const O_CLOEXEC: u64 = 0x80000;
