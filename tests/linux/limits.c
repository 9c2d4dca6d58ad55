/* The example kernel's documented limits, reached on purpose: each refusal is a
 * clean errno, nothing leaks, and the process carries on. 8192 VMAs (Linux: 65530),
 * 3 MiB of file bytes in memory (ENOSPC past it, also for a write far past the end,
 * which Linux would make a sparse file), 1024 descriptors (EMFILE), and a bounded
 * log of unknown system calls. Also large requests that must work: getrandom of
 * 32 MiB, a 1 GiB private mapping of a small file. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what)
{
    printf("limits: %s: %s\n", what, ok ? "ok" : "FAILED");
    failures += !ok;
}

static char *pages[20000];

int main(void)
{
    const size_t page = 4096;

    /* VMAs: one-page mappings, alternating protections so that none could merge. */
    int n = 0, err = 0;
    char *base = (char *)0x100000000;
    for (; n < 20000; n++) {
        int prot = n % 2 ? PROT_READ : PROT_READ | PROT_WRITE;
        pages[n] = mmap(base + 2 * n * page, page, prot,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (pages[n] == MAP_FAILED) {
            err = errno;
            break;
        }
    }
    check(err == ENOMEM && n > 8000 && n < 8192, "mmap past 8192 VMAs: ENOMEM");
    int fd = open("/proc/self/maps", O_RDONLY);
    static char text[1 << 20];
    size_t got = 0;
    ssize_t r;
    while ((r = read(fd, text + got, sizeof text - got)) > 0)
        got += r;
    close(fd);
    int lines = 0;
    for (size_t i = 0; i < got; i++)
        lines += text[i] == '\n';
    check(lines > 8000, "/proc/self/maps lists them all");
    errno = 0;
    check(munmap(pages[10], page) == 0, "munmap of one of them");
    int unmapped = 1;
    for (int i = 0; i < n; i++)
        if (i != 10)
            unmapped += munmap(pages[i], page) == 0;
    check(unmapped == n, "munmap of all");

    /* mprotect splits: every other page of one mapping, until ENOMEM. */
    size_t len = 20000 * page;
    char *big = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    err = 0;
    int splits = 0;
    for (; splits < 10000; splits++) {
        if (mprotect(big + (2 * splits + 1) * page, page, PROT_READ) != 0) {
            err = errno;
            break;
        }
    }
    check(err == ENOMEM && splits > 4000, "mprotect past 8192 VMAs: ENOMEM");
    /* The list may have had room for one more: then the first split succeeds. */
    int tries = 0;
    err = 0;
    for (; tries < 3; tries++) {
        if (munmap(big + len - (2 * tries + 2) * page, page) != 0) {
            err = errno;
            break;
        }
    }
    check(err == ENOMEM && tries <= 1, "a munmap that would split one more: ENOMEM");
    big[0] = 1;
    check(munmap(big, len) == 0 && mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                                        0) != MAP_FAILED,
          "after unmapping them, mappings work again");

    /* File bytes: 3 MiB in all. */
    fd = open("/big", O_RDWR | O_CREAT | O_TRUNC, 0644);
    static char chunk[256 << 10];
    memset(chunk, 'x', sizeof chunk);
    long total = 0;
    err = 0;
    for (int i = 0; i < 64; i++) {
        ssize_t w = write(fd, chunk, sizeof chunk);
        if (w < 0) {
            err = errno;
            break;
        }
        total += w;
    }
    check(err == ENOSPC && total >= (1 << 20) && total <= (3 << 20),
          "writing past the file budget: ENOSPC");
    char probe[4];
    check(pread(fd, probe, 4, total - 4) == 4 && memcmp(probe, "xxxx", 4) == 0,
          "what was written stays readable");
    close(fd);
    check(unlink("/big") == 0, "unlink gives the budget back");
    fd = open("/big", O_RDWR | O_CREAT | O_TRUNC, 0644);
    check(write(fd, chunk, sizeof chunk) == sizeof chunk, "... and writes work again");
    errno = 0;
    check(pwrite(fd, "y", 1, 1L << 40) == -1 && errno == ENOSPC,
          "a write 1 TiB past the end: ENOSPC (Linux makes a sparse file)");
    close(fd);
    unlink("/big");

    /* Created files: each costs its name and an entry, under the same budget. */
    char name[256];
    int files = 0;
    err = 0;
    for (; files < 100000; files++) {
        snprintf(name, sizeof name, "/%0200d", files);
        int f = open(name, O_WRONLY | O_CREAT, 0644);
        if (f < 0) {
            err = errno;
            break;
        }
        close(f);
    }
    check(err == ENOSPC && files > 1000, "creating files past the budget: ENOSPC");
    int removed = 0;
    for (int i = 0; i < files; i++) {
        snprintf(name, sizeof name, "/%0200d", i);
        removed += unlink(name) == 0;
    }
    check(removed == files, "unlink of all of them");

    /* Descriptors: 1024. */
    int fds = 0;
    err = 0;
    static int open_fds[2000];
    for (; fds < 2000; fds++) {
        open_fds[fds] = open("/proc/self/status", O_RDONLY);
        if (open_fds[fds] < 0) {
            err = errno;
            break;
        }
    }
    check(err == EMFILE && fds == 1024 - 3, "opening past 1024 descriptors: EMFILE");
    for (int i = 0; i < fds; i++)
        close(open_fds[i]);

    /* RLIMIT_NOFILE is kept and enforced; an open refused by it creates nothing. */
    struct rlimit nofile = {16, 16};
    check(setrlimit(RLIMIT_NOFILE, &nofile) == 0 && getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
              nofile.rlim_cur == 16 && nofile.rlim_max == 16,
          "setrlimit(RLIMIT_NOFILE, 16) is kept");
    int opened = 0;
    err = 0;
    for (; opened < 100; opened++) {
        open_fds[opened] = open("/dev/null", O_RDONLY);
        if (open_fds[opened] < 0) {
            err = errno;
            break;
        }
    }
    errno = 0;
    check(err == EMFILE && opened == 16 - 3 && open("/new-file", O_RDWR | O_CREAT, 0644) == -1 &&
              errno == EMFILE && access("/new-file", F_OK) == -1,
          "16 descriptors, then EMFILE, and O_CREAT creates nothing");
    for (int i = 0; i < opened; i++)
        close(open_fds[i]);
    nofile.rlim_max = 4096;
    errno = 0;
    check(setrlimit(RLIMIT_NOFILE, &nofile) == -1 && errno == EPERM,
          "RLIMIT_NOFILE above 1024: EPERM");

    /* Unknown system calls, 100 different numbers (the kernel keeps 64 of them). */
    int nosys = 0;
    for (long nr = 1000; nr < 1100; nr++)
        nosys += syscall(nr) == -1 && errno == ENOSYS;
    check(nosys == 100, "100 unknown system calls: ENOSYS");

    /* Large requests that work. */
    size_t want = 32 << 20;
    char *random = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ssize_t rnd = getrandom(random, want, 0);
    check(rnd == (32 << 20) - 1, "getrandom of 32 MiB gives 32 MiB - 1 bytes, as Linux");
    munmap(random, want);
    fd = open("/small", O_RDWR | O_CREAT | O_TRUNC, 0644);
    write(fd, "small file", 10);
    char *view = mmap(NULL, 1 << 30, PROT_READ, MAP_PRIVATE, fd, 0);
    check(view != MAP_FAILED && memcmp(view, "small file", 10) == 0 && view[10] == 0 &&
              view[(1 << 30) - 1] == 0,
          "a 1 GiB private mapping of a 10-byte file");
    munmap(view, 1 << 30);
    close(fd);

    printf("limits: %d failures\n", failures);
    return failures != 0;
}
