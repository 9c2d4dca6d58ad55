/* Bad input: unmapped, kernel and non-canonical pointers given to every system call
 * that takes one (each must fail with EFAULT, and the process goes on), absurd
 * lengths and flags (EINVAL, ENOMEM), and unknown system calls (ENOSYS). Raw
 * syscall(2) throughout, so that glibc's wrappers check nothing first. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static int failures, checks;

static void expect(long result, int error, const char *what, const char *pointer)
{
    int got = result == -1 ? errno : 0;
    checks++;
    if (got != error) {
        printf("badinput: %s with %s: got %ld (errno %d), want errno %d: FAILED\n", what,
               pointer, result, got, error);
        failures++;
    }
}

#define TRY(error, what, pointer, call)                                                 \
    do {                                                                                \
        errno = 0;                                                                      \
        expect((call), (error), (what), (pointer));                                     \
    } while (0)

int main(void)
{
    /* Unmapped (below 64 KiB, and a hole), the kernel half, non-canonical, the last
     * page, and a valid buffer's neighbour straddling into an unmapped page. */
    char *edge = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(edge + 4096, 4096);
    memset(edge, 'a', 4096); /* no NUL before the unmapped page */
    struct {
        const char *name;
        uintptr_t p;
    } bad[] = {
        {"NULL", 0},
        {"an unmapped page", 0x1000},
        {"an unmapped hole", 0x6d0000000000},
        {"a kernel address", 0xffffffff81000000},
        {"the kernel half's start", 0xffff800000000000},
        {"a non-canonical address", 0x0000800000000000},
        {"the last byte", UINTPTR_MAX},
        {"a buffer running into an unmapped page", (uintptr_t)edge + 4095},
    };
    const size_t straddle = sizeof bad / sizeof bad[0] - 1;
    int fd = open("/dev/zero", O_RDONLY);
    int out = open("/bad-out", O_RDWR | O_CREAT, 0644);
    const char *ro_text = "/dev/null"; /* read-only memory: no write may land there */

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *p = (void *)bad[i].p;
        const char *n = bad[i].name;
        TRY(EFAULT, "readv (iovec array)", n, syscall(SYS_readv, fd, p, 2));
        TRY(EFAULT, "writev (iovec array)", n, syscall(SYS_writev, out, p, 2));
        if (i != straddle) { /* (a buffer that starts valid gives a short count) */
            TRY(EFAULT, "read", n, syscall(SYS_read, fd, p, 64));
            TRY(EFAULT, "write", n, syscall(SYS_write, out, p, 64));
            TRY(EFAULT, "pread64", n, syscall(SYS_pread64, fd, p, 64, 0));
            TRY(EFAULT, "pwrite64", n, syscall(SYS_pwrite64, out, p, 64, 0));
            struct iovec iov = {p, 64};
            TRY(EFAULT, "readv (buffer)", n, syscall(SYS_readv, fd, &iov, 1));
            TRY(EFAULT, "writev (buffer)", n, syscall(SYS_writev, out, &iov, 1));
            TRY(EFAULT, "mincore (vector)", n, syscall(SYS_mincore, edge, 4096, p));
        }
        TRY(EFAULT, "open", n, syscall(SYS_open, p, O_RDONLY));
        TRY(EFAULT, "openat", n, syscall(SYS_openat, AT_FDCWD, p, O_RDONLY));
        TRY(EFAULT, "stat", n, syscall(SYS_stat, p, p));
        TRY(EFAULT, "stat (buffer)", n, syscall(SYS_stat, "/dev/zero", p));
        TRY(EFAULT, "lstat", n, syscall(SYS_lstat, p, p));
        TRY(EFAULT, "fstat", n, syscall(SYS_fstat, fd, p));
        TRY(EFAULT, "newfstatat", n, syscall(SYS_newfstatat, AT_FDCWD, p, p, 0));
        TRY(EFAULT, "newfstatat (buffer)", n,
            syscall(SYS_newfstatat, fd, "", p, 0x1000 /* AT_EMPTY_PATH */));
        TRY(EFAULT, "access", n, syscall(SYS_access, p, 0));
        TRY(EFAULT, "faccessat", n, syscall(SYS_faccessat, AT_FDCWD, p, 0));
        TRY(EFAULT, "readlink (path)", n, syscall(SYS_readlink, p, edge, 16));
        TRY(EFAULT, "readlink (buffer)", n, syscall(SYS_readlink, "/proc/self/exe", p, 16));
        TRY(EFAULT, "readlinkat", n, syscall(SYS_readlinkat, AT_FDCWD, p, edge, 16));
        TRY(EFAULT, "getcwd", n, syscall(SYS_getcwd, p, 64));
        TRY(EFAULT, "unlink", n, syscall(SYS_unlink, p));
        TRY(EFAULT, "uname", n, syscall(SYS_uname, p));
        TRY(EFAULT, "sysinfo", n, syscall(SYS_sysinfo, p));
        TRY(EFAULT, "arch_prctl(ARCH_GET_FS)", n, syscall(SYS_arch_prctl, 0x1003, p));
        TRY(EFAULT, "clock_gettime", n, syscall(SYS_clock_gettime, CLOCK_MONOTONIC, p));
        if (bad[i].p != 0) { /* NULL is valid: nothing is stored */
            TRY(EFAULT, "clock_getres", n, syscall(SYS_clock_getres, CLOCK_MONOTONIC, p));
            TRY(EFAULT, "gettimeofday", n, syscall(SYS_gettimeofday, p, NULL));
            TRY(EFAULT, "time", n, syscall(SYS_time, p));
        }
        TRY(EFAULT, "nanosleep", n, syscall(SYS_nanosleep, p, NULL));
        TRY(EFAULT, "clock_nanosleep", n,
            syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, p, NULL));
        if (i != straddle)
            TRY(EFAULT, "getrandom", n, syscall(SYS_getrandom, p, 16, 0));
        TRY(EFAULT, "getrlimit", n, syscall(SYS_getrlimit, 7, p));
        if (bad[i].p != 0) { /* NULL means "no new limit" / "no old limit" */
            TRY(EFAULT, "prlimit64 (new)", n, syscall(SYS_prlimit64, 0, 7, p, NULL));
            TRY(EFAULT, "prlimit64 (old)", n, syscall(SYS_prlimit64, 0, 7, NULL, p));
        }
    }
    /* A buffer that starts valid and runs into an unmapped page: Linux moves the
     * bytes that fit and returns that count. */
    long n = syscall(SYS_read, fd, edge + 4090, 64);
    checks++;
    if (n != 6) {
        printf("badinput: read into a buffer with 6 valid bytes returned %ld: FAILED\n", n);
        failures++;
    }
    n = syscall(SYS_getrandom, edge + 4090, 64, 0);
    checks++;
    if (n != 6) {
        printf("badinput: getrandom into a buffer with 6 valid bytes returned %ld: FAILED\n", n);
        failures++;
    }
    n = syscall(SYS_write, out, edge + 4090, 64);
    checks++;
    if (n != 6) {
        printf("badinput: write from a buffer with 6 valid bytes returned %ld: FAILED\n", n);
        failures++;
    }
    /* Read-only memory as a buffer the kernel would write. */
    TRY(EFAULT, "read into read-only memory", "a string literal",
        syscall(SYS_read, fd, ro_text, 4));
    TRY(EFAULT, "uname into read-only memory", "a string literal",
        syscall(SYS_uname, ro_text));
    printf("badinput: %d bad-pointer checks\n", checks);

    /* Absurd lengths, flags and numbers. */
    int before = checks;
    char buf[16];
    TRY(EINVAL, "mmap of 0 bytes", "-", (long)mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    TRY(ENOMEM, "mmap of 2^64 - 4096 bytes", "-",
        (long)mmap(NULL, -4096UL, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    TRY(EINVAL, "mmap without MAP_PRIVATE or MAP_SHARED", "-",
        (long)mmap(NULL, 4096, PROT_READ, MAP_ANONYMOUS, -1, 0));
    TRY(0, "mmap with PROT bits beyond RWX (ignored, as Linux does)", "-",
        (long)mmap(NULL, 4096, 0x80 | PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) < 0);
    TRY(EBADF, "mmap of a closed descriptor", "-", (long)mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 77, 0));
    TRY(EINVAL, "mmap at an unaligned file offset", "-",
        (long)mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, out, 100));
    TRY(EINVAL, "munmap of 2^64 - 4096 bytes", "-", syscall(SYS_munmap, edge, -4096UL));
    TRY(EINVAL, "mprotect unaligned", "-", syscall(SYS_mprotect, edge + 1, 4096, PROT_READ));
    TRY(ENOMEM, "mprotect of unmapped memory", "-",
        syscall(SYS_mprotect, 0x6d0000000000, 4096, PROT_READ));
    TRY(EINVAL, "mremap to 0 bytes", "-", syscall(SYS_mremap, edge, 4096, 0, 1));
    TRY(EFAULT, "mremap of unmapped memory", "-",
        syscall(SYS_mremap, 0x6d0000000000, 4096, 8192, 1));
    TRY(EINVAL, "madvise unaligned", "-", syscall(SYS_madvise, edge + 1, 4096, MADV_DONTNEED));
    TRY(ENOMEM, "madvise of unmapped memory", "-",
        syscall(SYS_madvise, 0x6d0000000000, 4096, MADV_DONTNEED));
    TRY(EINVAL, "writev with 100000 iovecs", "-", syscall(SYS_writev, out, edge, 100000));
    TRY(EINVAL, "readv with -1 iovecs", "-", syscall(SYS_readv, fd, edge, -1));
    TRY(EINVAL, "lseek with whence 9", "-", syscall(SYS_lseek, out, 0, 9));
    TRY(ESPIPE, "lseek on the console", "-", syscall(SYS_lseek, 1, 0, SEEK_SET));
    TRY(EINVAL, "getrandom with unknown flags", "-", syscall(SYS_getrandom, buf, 16, 0x100));
    TRY(EINVAL, "getrlimit of resource 99", "-", syscall(SYS_getrlimit, 99, buf));
    TRY(EINVAL, "readlink with size 0", "-", syscall(SYS_readlink, "/proc/self/exe", buf, 0));
    TRY(EINVAL, "arch_prctl with an unknown code", "-", syscall(SYS_arch_prctl, 0x3001, buf));
    TRY(EPERM, "arch_prctl(ARCH_SET_FS) to a kernel address", "-",
        syscall(SYS_arch_prctl, 0x1002, 0xffffffff81000000UL));
    TRY(EINVAL, "clock_gettime of clock 99", "-", syscall(SYS_clock_gettime, 99, buf));
    struct timespec bad_ts = {0, 2000000000};
    TRY(EINVAL, "nanosleep with 2e9 ns", "-", syscall(SYS_nanosleep, &bad_ts, NULL));
    TRY(EBADF, "fcntl of a closed descriptor", "-", syscall(SYS_fcntl, 77, F_GETFL));
    TRY(EINVAL, "fcntl command 12345", "-", syscall(SYS_fcntl, out, 12345));
    TRY(EBADF, "dup2 to descriptor 2^20", "-", syscall(SYS_dup2, out, 1 << 20));
    TRY(EBADF, "close(-1)", "-", syscall(SYS_close, -1));
    TRY(ENOENT, "open of an empty path", "-", syscall(SYS_open, "", O_RDONLY));
    static char long_path[8192];
    memset(long_path, 'a', sizeof long_path - 1);
    long_path[0] = '/';
    TRY(ENAMETOOLONG, "open of an 8 KiB path", "-", syscall(SYS_open, long_path, O_RDONLY));
    TRY(ENOTDIR, "openat relative to a file", "-", syscall(SYS_openat, out, "x", O_RDONLY));
    TRY(EBADF, "openat relative to a closed fd", "-", syscall(SYS_openat, 77, "x", O_RDONLY));
    TRY(EINVAL, "set_robust_list with a bad size", "-", syscall(SYS_set_robust_list, buf, 7));
    TRY(EINVAL, "pread64 at offset -1", "-", syscall(SYS_pread64, out, buf, 1, -1L));
    TRY(EINVAL, "pwrite64 at offset -1", "-", syscall(SYS_pwrite64, out, buf, 1, -1L));
    TRY(EBADF, "readv of 0 vectors from a closed fd", "-", syscall(SYS_readv, 77, edge, 0));
    TRY(EOVERFLOW, "mmap at a file offset that wraps", "-",
        (long)mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, out, -4096L));
    TRY(0, "getrandom of 0 bytes to NULL", "-", syscall(SYS_getrandom, NULL, 0, 0));
    TRY(EINVAL, "getrandom with GRND_RANDOM|GRND_INSECURE", "-",
        syscall(SYS_getrandom, buf, 16, 6));
    {
        /* A vector array whose second entry runs into an unmapped page: nothing is
         * written (Linux checks the whole array first). */
        char *pair = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        munmap(pair + 4096, 4096);
        struct iovec *iv = (struct iovec *)(pair + 4096 - 24);
        iv[0].iov_base = buf;
        iv[0].iov_len = 4;
        off_t before_size = lseek(out, 0, SEEK_END);
        TRY(EFAULT, "writev whose vector array runs into an unmapped page", "-",
            syscall(SYS_writev, out, iv, 2));
        TRY(0, "... and wrote nothing", "-", lseek(out, 0, SEEK_END) != before_size);
    }
    printf("badinput: %d bad-length and bad-flag checks\n", checks - before);

    /* Unknown system calls: ENOSYS, and the process goes on. */
    before = checks;
    TRY(ENOSYS, "system call 999", "-", syscall(999));
    TRY(ENOSYS, "system call 999 again", "-", syscall(999));
    TRY(ENOSYS, "system call 5000", "-", syscall(5000));
    TRY(ENOSYS, "system call -1", "-", syscall(-1));
    printf("badinput: %d unknown-call checks\n", checks - before);

    /* The process still works. */
    struct timespec ts;
    int alive = clock_gettime(CLOCK_MONOTONIC, &ts) == 0 && read(fd, buf, 16) == 16 &&
                write(out, "ok", 2) == 2;
    printf("badinput: still alive after %d checks: %s\n", checks, alive ? "yes" : "no");
    printf("badinput: %d failures\n", failures);
    return failures != 0 || !alive;
}
