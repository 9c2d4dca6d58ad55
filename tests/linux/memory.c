/* Memory calls: hint addresses, MAP_FIXED over a mapping, MAP_FIXED_NOREPLACE,
 * a 2 GiB mapping read end to end (the shared zero page: it costs nothing), mincore
 * before and after touching, madvise(MADV_DONTNEED), brk up and down, mremap,
 * mprotect, file-backed private mappings, and the errors of bad requests. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static int failures;

static void check(int ok, const char *what)
{
    printf("memory: %s: %s\n", what, ok ? "ok" : "FAILED");
    failures += !ok;
}

static void *map(void *at, size_t len, int prot, int flags)
{
    return mmap(at, len, prot, flags | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/* VmPTE from /proc/self/status: the page tables' size in KiB. */
static long page_table_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        sscanf(line, "VmPTE: %ld kB", &kib);
    if (f)
        fclose(f);
    return kib;
}

static int resident_pages(void *at, size_t len)
{
    unsigned char vec[64];
    size_t pages = len / 4096;
    if (pages > sizeof vec || mincore(at, len, vec) != 0)
        return -1;
    int n = 0;
    for (size_t i = 0; i < pages; i++)
        n += vec[i] & 1;
    return n;
}

int main(void)
{
    const long page = sysconf(_SC_PAGESIZE);
    check(page == 4096, "page size 4096");
    int rw = PROT_READ | PROT_WRITE;

    /* A free hint is honoured exactly; an occupied one falls back elsewhere. */
    void *hint = (void *)0x200000000;
    char *a = map(hint, 16 * page, rw, 0);
    check(a == hint, "free hint honoured exactly");
    char *b = map(hint, 16 * page, rw, 0);
    check(b != MAP_FAILED && b != hint, "occupied hint falls back to another address");
    check(map((void *)0x2000, page, rw, 0) != (void *)0x2000, "hint below 1 MiB not taken");

    /* MAP_FIXED replaces the pages under it; MAP_FIXED_NOREPLACE refuses. */
    memset(a, 0x5a, 16 * page);
    char *c = map(a + 4 * page, 2 * page, rw, MAP_FIXED);
    check(c == a + 4 * page, "MAP_FIXED at the address asked");
    check(a[4 * page] == 0 && a[6 * page - 1] == 0 && a[3 * page] == 0x5a &&
              a[6 * page] == 0x5a,
          "MAP_FIXED replaced exactly its pages (zeros inside, data around)");
    errno = 0;
    char *d = map(a + 8 * page, page, rw, MAP_FIXED_NOREPLACE);
    check(d == MAP_FAILED && errno == EEXIST, "MAP_FIXED_NOREPLACE over a mapping: EEXIST");
    check(a[8 * page] == 0x5a, "... and the mapping is untouched");
    char *e = map((void *)0x300000000, page, rw, MAP_FIXED_NOREPLACE);
    check(e == (void *)0x300000000, "MAP_FIXED_NOREPLACE on free addresses");

    /* A 2 GiB mapping, read end to end: every page reads zero and is resident (the
     * shared zero page), as on Linux. */
    size_t huge = (size_t)2 << 30;
    unsigned char *h = map(NULL, huge, PROT_READ | PROT_WRITE, MAP_NORESERVE);
    check(h != MAP_FAILED, "2 GiB mapping");
    check(resident_pages(h, 16 * page) == 0, "untouched pages are not resident");
    unsigned long sum = 0;
    for (size_t off = 0; off < huge; off += page)
        sum += h[off] + h[off + page - 1];
    check(sum == 0, "2 GiB read end to end: all zeros");
    check(resident_pages(h, 16 * page) == 16, "read pages are resident (zero page)");
    h[5 * page] = 1;
    check(h[5 * page] == 1 && h[4 * page] == 0 && h[6 * page] == 0,
          "a write after a read copies only its page");
    long tables_full = page_table_kib();
    check(tables_full >= 4096, "page tables for 2 GiB of zero-page mappings: 4 MiB or more");
    check(munmap(h, huge) == 0, "munmap of the 2 GiB mapping");
    check(page_table_kib() < tables_full - 4000, "munmap freed those page tables");

    /* mincore: untouched, written, then MADV_DONTNEED (reads back zeros). */
    char *m = map(NULL, 8 * page, rw, 0);
    check(resident_pages(m, 8 * page) == 0, "mincore: fresh mapping not resident");
    m[0] = 1;
    m[3 * page] = 3;
    check(resident_pages(m, 8 * page) == 2, "mincore: two written pages resident");
    check(madvise(m, 8 * page, MADV_DONTNEED) == 0, "madvise(MADV_DONTNEED)");
    check(m[0] == 0 && m[3 * page] == 0, "after MADV_DONTNEED the pages read zero");
    check(madvise(m, 8 * page, MADV_WILLNEED) == 0, "madvise(MADV_WILLNEED) accepted");
    errno = 0;
    check(mincore(m + 1, page, (unsigned char[1]){0}) == -1 && errno == EINVAL,
          "mincore of an unaligned address: EINVAL");
    errno = 0;
    check(mincore((void *)0x10000000000, page, (unsigned char[1]){0}) == -1 &&
              errno == ENOMEM,
          "mincore of unmapped memory: ENOMEM");

    /* brk: up, written, down, up again (the new pages read zero). */
    char *start = sbrk(0);
    check(sbrk(1 << 20) == start, "sbrk(+1 MiB) returns the old break");
    memset(start, 7, 1 << 20);
    check(sbrk(0) == start + (1 << 20), "break moved up 1 MiB");
    check(sbrk(-(1 << 20)) == start + (1 << 20), "sbrk(-1 MiB)");
    check(sbrk(0) == start, "break back down");
    check(sbrk(2 * page) == start, "sbrk up again");
    check(start[0] == 0 && start[page] == 0, "re-grown heap reads zero");
    check(brk(start) == 0, "brk back to the start");

    /* mremap: grow in place or moving (the data follows), shrink, MREMAP_FIXED. */
    char *r = map(NULL, 4 * page, rw, 0);
    for (int i = 0; i < 4; i++)
        r[i * page] = 'a' + i;
    map(r + 4 * page, page, rw, MAP_FIXED); /* something right after it */
    char *r2 = mremap(r, 4 * page, 64 * page, MREMAP_MAYMOVE);
    check(r2 != MAP_FAILED && r2 != r, "mremap MAYMOVE grows by moving");
    check(r2[0] == 'a' && r2[3 * page] == 'd' && r2[63 * page] == 0,
          "mremap moved the data, the new tail reads zero");
    check(resident_pages(r, 4 * page) == -1, "the old range is gone (mincore: ENOMEM)");
    char *g = map((void *)0x600000000, 4 * page, rw, MAP_FIXED_NOREPLACE);
    g[0] = 'g';
    char *g2 = mremap(g, 4 * page, 8 * page, 0);
    check(g2 == g && g2[0] == 'g' && g2[7 * page] == 0, "mremap grows in place into free space");
    map(g + 8 * page, page, rw, MAP_FIXED);
    errno = 0;
    check(mremap(g, 8 * page, 16 * page, 0) == MAP_FAILED && errno == ENOMEM,
          "mremap without MAYMOVE, blocked: ENOMEM");
    char *r3 = mremap(r2, 64 * page, 2 * page, 0);
    check(r3 == r2 && r3[page] == 'b', "mremap shrinks in place");
    char *target = (char *)0x400000000;
    char *r4 = mremap(r3, 2 * page, 2 * page, MREMAP_MAYMOVE | MREMAP_FIXED, target);
    check(r4 == target && r4[0] == 'a' && r4[page] == 'b', "mremap MREMAP_FIXED");
    errno = 0;
    check(mremap(r4, page, page, 4) == MAP_FAILED && errno == EINVAL,
          "mremap with unknown flags: EINVAL");

    /* mprotect, and file-backed private mappings. */
    char *p = map(NULL, 2 * page, rw, 0);
    p[0] = 9;
    check(mprotect(p, 2 * page, PROT_READ) == 0 && p[0] == 9, "mprotect read-only keeps data");
    errno = 0;
    check(mprotect(p, page, 0x100) == -1 && errno == EINVAL, "mprotect with bad bits: EINVAL");
    check(mprotect(p, page, PROT_READ | 0x8) == 0, "mprotect accepts PROT_SEM");
    errno = 0;
    check(mprotect(p + 1, 0, PROT_READ) == -1 && errno == EINVAL,
          "mprotect of 0 bytes at an unaligned address: EINVAL");
    check(mprotect(p, 2 * page, PROT_NONE) == 0 && mprotect(p, 2 * page, rw) == 0 && p[0] == 9,
          "PROT_NONE and back keeps the data");
    p[page] = 10;
    check(mprotect(p + page, page, PROT_NONE) == 0 && munmap(p, 2 * page) == 0,
          "munmap of a PROT_NONE page");
    int fd = open("/memory-file", O_RDWR | O_CREAT | O_TRUNC, 0644);
    char text[5000];
    for (int i = 0; i < 5000; i++)
        text[i] = 'A' + i % 26;
    check(write(fd, text, 5000) == 5000, "write a 5000-byte file");
    char *fm = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    check(fm != MAP_FAILED && memcmp(fm, text, 5000) == 0 && fm[5000] == 0,
          "MAP_PRIVATE of a file: its bytes, zeros after the end");
    fm[0] = 'z';
    char first;
    pread(fd, &first, 1, 0);
    check(first == 'A', "a private mapping's writes stay private");
    char *fo = mmap(NULL, page, PROT_READ, MAP_PRIVATE, fd, page);
    check(fo != MAP_FAILED && fo[0] == text[4096], "file mapping at an offset");
    errno = 0;
    check(mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED && errno == ENODEV,
          "MAP_SHARED of a file: ENODEV (not offered here)");
    check(madvise(fm, page, MADV_DONTNEED) == 0 && fm[0] == 'A',
          "MADV_DONTNEED on a private file mapping reads the file again");
    close(fd);
    int zero = open("/dev/zero", O_RDWR);
    char *zm = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, zero, 0);
    check(zm != MAP_FAILED && zm[0] == 0 && (zm[page] = 5) == 5, "MAP_PRIVATE of /dev/zero");
    close(zero);

    /* The last page below 2^47 stays unmapped (Linux's TASK_SIZE). */
    char *top = (char *)0x7ffffffff000 - page; /* the stack's top page */
    errno = 0;
    check(mremap(top, page, 2 * page, 0) == MAP_FAILED && errno == ENOMEM,
          "mremap cannot grow the stack into the last page below 2^47");

    /* Bad requests. */
    errno = 0;
    check(map(NULL, 0, rw, 0) == MAP_FAILED && errno == EINVAL, "mmap of 0 bytes: EINVAL");
    errno = 0;
    check(map(NULL, (size_t)-4096, rw, 0) == MAP_FAILED && errno == ENOMEM,
          "mmap of 2^64 - 4096 bytes: ENOMEM");
    errno = 0;
    check(map(NULL, (size_t)1 << 47, rw, 0) == MAP_FAILED && errno == ENOMEM,
          "mmap of 128 TiB: ENOMEM");
    errno = 0;
    check(map((void *)0x1000, page, rw, MAP_FIXED) == MAP_FAILED && errno == EPERM,
          "MAP_FIXED below 64 KiB: EPERM");
    errno = 0;
    check(map((void *)0x7ffffffff000, 2 * page, rw, MAP_FIXED) == MAP_FAILED &&
              errno == ENOMEM,
          "MAP_FIXED past the top of user space: ENOMEM");
    errno = 0;
    check(munmap(a + 1, page) == -1 && errno == EINVAL, "munmap unaligned: EINVAL");
    errno = 0;
    check(munmap(a, 0) == -1 && errno == EINVAL, "munmap of 0 bytes: EINVAL");
    check(munmap((void *)0x500000000, page) == 0, "munmap of nothing succeeds");
    errno = 0;
    check(madvise(a, page, 12345) == -1 && errno == EINVAL, "madvise unknown advice: EINVAL");

    printf("memory: %d failures\n", failures);
    return failures != 0;
}
