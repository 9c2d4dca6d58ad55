/* How a process ends: `ends exit N` exits with N; the other modes die the way a
 * Linux process would be killed (or kill itself: abort, SIGTERM), and the kernel
 * reports the signal. `oom` touches
 * more memory than the machine has (boot with --mem 128): the process is killed, the
 * kernel gets every frame back. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "exit";
    printf("ends: %s\n", mode);
    fflush(stdout);
    if (strcmp(mode, "exit") == 0)
        exit(argc > 2 ? atoi(argv[2]) : 0);
    if (strcmp(mode, "null") == 0)
        *(volatile int *)0 = 1;
    if (strcmp(mode, "readonly") == 0) {
        volatile char *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        p[0] = 1;
    }
    if (strcmp(mode, "noexec") == 0) {
        unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        code[0] = 0xc3; /* ret, in a page without PROT_EXEC */
        ((void (*)(void))code)();
    }
    if (strcmp(mode, "ud2") == 0)
        __asm__ volatile("ud2");
    if (strcmp(mode, "int3") == 0)
        __asm__ volatile("int3");
    if (strcmp(mode, "divide") == 0) {
        volatile int numerator = 100, zero = 0; /* (1 / x is not a division at -O2) */
        printf("%d\n", numerator / zero);
    }
    if (strcmp(mode, "abort") == 0)
        abort();
    if (strcmp(mode, "term") == 0) {
        /* Signals whose default action is to be ignored do nothing. */
        if (raise(SIGCHLD) != 0 || raise(SIGWINCH) != 0 || kill(getpid(), 0) != 0)
            return 98;
        kill(getpid(), SIGTERM);
    }
    if (strcmp(mode, "oom") == 0) {
        size_t size = (size_t)256 << 20;
        char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        for (size_t off = 0; off < size; off += 4096)
            p[off] = 1;
        printf("ends: touched 256 MiB\n");
    }
    printf("ends: still alive\n");
    return 99;
}
