/* glibc smoke test: stdio to the console and to a file, the allocator (small and
 * large blocks: brk and mmap, realloc through mremap), qsort, snprintf, and clocks
 * that advance across a one-second busy loop. Prints only what does not depend on
 * addresses or times; exits with the status given as argv[1] (default 0). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static double seconds(clockid_t clock)
{
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0) {
        perror("clock_gettime");
        exit(90);
    }
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Whether the SSE registers and MXCSR survive a system call whose kernel side uses
 * SSE itself (mprotect splitting a mapping: the kernel's VMA code does). */
static int sse_survives_syscalls(void)
{
    unsigned char before[16 * 16], after[16 * 16];
    for (int i = 0; i < (int)sizeof before; i++)
        before[i] = (unsigned char)(i * 37 + 11);
    /* (The middle page of three: the kernel splits the VMA.) */
    char *three = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void *page = three + 4096;
    unsigned mxcsr_in = 0x1f80 | 0x6000, mxcsr_out = 0, mxcsr_saved;
    long ret;
    __asm__ volatile("stmxcsr %[saved]\n\t"
                     "ldmxcsr %[mxin]\n\t"
#define LOAD(n) "movdqu " #n "*16(%[src]), %%xmm" #n "\n\t"
                     LOAD(0) LOAD(1) LOAD(2) LOAD(3) LOAD(4) LOAD(5) LOAD(6) LOAD(7)
                     LOAD(8) LOAD(9) LOAD(10) LOAD(11) LOAD(12) LOAD(13) LOAD(14) LOAD(15)
                     "mov $10, %%eax\n\t"
                     "syscall\n\t"
#define STORE(n) "movdqu %%xmm" #n ", " #n "*16(%[dst])\n\t"
                     STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5) STORE(6) STORE(7)
                     STORE(8) STORE(9) STORE(10) STORE(11) STORE(12) STORE(13) STORE(14) STORE(15)
                     "stmxcsr %[mxout]\n\t"
                     "ldmxcsr %[saved]"
                     : [mxout] "=m"(mxcsr_out), [saved] "=m"(mxcsr_saved), "=a"(ret)
                     : [src] "r"(before), [dst] "r"(after), [mxin] "m"(mxcsr_in),
                       "D"(page), "S"(4096L), "d"(PROT_READ)
                     : "rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",
                       "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
                       "xmm14", "xmm15");
    return ret == 0 && memcmp(before, after, sizeof before) == 0 && mxcsr_out == mxcsr_in;
}

int main(int argc, char **argv)
{
    printf("smoke: argc=%d argv[0]=%s\n", argc, argv[0]);
    for (int i = 1; i < argc; i++)
        printf("smoke: argv[%d]=[%s]\n", i, argv[i]);
    printf("smoke: PATH=%s HOME=%s\n", getenv("PATH"), getenv("HOME"));
    fprintf(stderr, "smoke: stderr works\n");

    /* A file written with stdio and read back. */
    FILE *f = fopen("/smoke.txt", "w");
    if (!f) {
        perror("fopen w");
        return 91;
    }
    for (int i = 0; i < 100; i++)
        fprintf(f, "line %d\n", i);
    fclose(f);
    f = fopen("/smoke.txt", "r");
    char line[64];
    int lines = 0, last = -1;
    while (fgets(line, sizeof line, f)) {
        lines++;
        sscanf(line, "line %d", &last);
    }
    fclose(f);
    printf("smoke: file lines=%d last=%d\n", lines, last);

    /* The allocator: many small blocks, then large ones (mmap), grown by realloc. */
    char *small[1000];
    for (int i = 0; i < 1000; i++) {
        small[i] = malloc(16 + i);
        memset(small[i], i & 0xff, 16 + i);
    }
    int small_ok = 1;
    for (int i = 0; i < 1000; i++) {
        for (int j = 0; j < 16 + i; j++)
            small_ok &= (unsigned char)small[i][j] == (i & 0xff);
        free(small[i]);
    }
    printf("smoke: 1000 small blocks %s\n", small_ok ? "ok" : "CORRUPT");
    size_t size = 1 << 20;
    unsigned char *big = malloc(size);
    for (size_t i = 0; i < size; i++)
        big[i] = (unsigned char)(i * 7);
    for (int round = 0; round < 4; round++) {
        size *= 2;
        big = realloc(big, size);
        if (!big) {
            printf("smoke: realloc failed\n");
            return 92;
        }
    }
    int big_ok = 1;
    for (size_t i = 0; i < (1 << 20); i++)
        big_ok &= big[i] == (unsigned char)(i * 7);
    memset(big, 0, size);
    free(big);
    printf("smoke: 1 MiB block grown to %zu MiB by realloc %s\n", size >> 20,
           big_ok ? "ok" : "CORRUPT");

    /* qsort and snprintf. */
    enum { N = 5000 };
    static int numbers[N];
    unsigned seed = 12345;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245 + 12345;
        numbers[i] = (int)(seed >> 8) % 100000;
    }
    qsort(numbers, N, sizeof numbers[0], cmp_int);
    int sorted = 1;
    long sum = 0;
    for (int i = 0; i < N; i++) {
        sorted &= i == 0 || numbers[i - 1] <= numbers[i];
        sum += numbers[i];
    }
    printf("smoke: qsort %d numbers: %s, min=%d max=%d sum=%ld\n", N,
           sorted ? "sorted" : "NOT SORTED", numbers[0], numbers[N - 1], sum);
    char text[128];
    int n = snprintf(text, sizeof text, "%5.2f|%-6s|%08x|%+d|%e", 3.14159, "mpx", 0xbeef,
                     42, 12345.678);
    printf("smoke: snprintf %d [%s]\n", n, text);

    /* Clocks: monotonic and real time advance across a one-second busy loop. */
    double mono0 = seconds(CLOCK_MONOTONIC), real0 = seconds(CLOCK_REALTIME);
    time_t t0 = time(NULL);
    struct timeval tv0;
    gettimeofday(&tv0, NULL);
    volatile unsigned long spins = 0;
    while (seconds(CLOCK_MONOTONIC) < mono0 + 1.0)
        spins++;
    double mono1 = seconds(CLOCK_MONOTONIC), real1 = seconds(CLOCK_REALTIME);
    struct timeval tv1;
    gettimeofday(&tv1, NULL);
    printf("smoke: monotonic advanced >= 1 s: %s\n", mono1 - mono0 >= 1.0 ? "yes" : "no");
    /* (Read just after the monotonic clock at either end: a little under 1 s apart.) */
    printf("smoke: realtime advanced about 1 s: %s\n",
           real1 - real0 >= 0.99 && real1 - real0 < 3.0 ? "yes" : "no");
    printf("smoke: gettimeofday advanced about 1 s: %s\n",
           tv1.tv_sec * 1000000L + tv1.tv_usec - (tv0.tv_sec * 1000000L + tv0.tv_usec) >=
                   990000L
               ? "yes"
               : "no");
    printf("smoke: time() after 2020: %s\n", t0 > 1577836800 ? "yes" : "no");
    struct timespec res;
    clock_getres(CLOCK_MONOTONIC, &res);
    printf("smoke: clock_getres positive: %s\n",
           res.tv_sec == 0 && res.tv_nsec > 0 ? "yes" : "no");
    struct timespec nap = {0, 20 * 1000 * 1000};
    double before = seconds(CLOCK_MONOTONIC);
    nanosleep(&nap, NULL);
    printf("smoke: nanosleep 20 ms slept: %s\n",
           seconds(CLOCK_MONOTONIC) - before >= 0.02 ? "yes" : "no");

    printf("smoke: xmm0-15 and MXCSR survive a system call: %s\n",
           sse_survives_syscalls() ? "yes" : "no");

    fflush(stdout);
    int status = argc > 1 ? atoi(argv[1]) : 0;
    printf("smoke: exiting with %d\n", status);
    return status;
}
