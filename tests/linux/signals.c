/* Signals as Linux x86-64 delivers them: the rt_sigframe's layout (entry registers,
 * alignment, ucontext and siginfo offsets, the XSAVE image and its magics), the
 * siginfo and sigcontext of each fault, handlers that change RIP, a general register
 * and an SSE register before returning, kill/tgkill, the blocked and pending sets,
 * nested signals, SA_NODEFER, SA_RESETHAND, SIG_IGN, sigaltstack (SS_ONSTACK,
 * SS_AUTODISARM), and the errors of bad requests. Prints the same on Linux.
 *
 * `signals MODE` instead runs one case that must kill the process with SIGSEGV:
 * forge (a frame whose FPU pointer is misaligned), mxcsr (reserved MXCSR bits in the
 * frame's image), norestorer (a handler installed without SA_RESTORER), blocked (a
 * fault while SIGSEGV is blocked), stack (no stack to build a frame on). */
#define _GNU_SOURCE
#include <errno.h>
#include <fenv.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/auxv.h>
#include <sys/ucontext.h>
#include <unistd.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static int failures;

static void check(int ok, const char *what)
{
    printf("signals: %s: %s\n", what, ok ? "ok" : "FAILED");
    failures += !ok;
}

/* The kernel's struct sigaction on x86-64 (what rt_sigaction reads). */
struct ksigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    unsigned long mask;
};

static long raw_sigaction(int sig, const struct ksigaction *act, struct ksigaction *old,
                          size_t size)
{
    return syscall(SYS_rt_sigaction, sig, act, old, size);
}

static void install(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0) {
        perror("sigaction");
        exit(90);
    }
}

/* ---- What a handler saw. */
static struct {
    int signo, code, trapno, err;
    uintptr_t addr, cr2, rip, rsp_at_entry, uc, info;
    unsigned long uc_flags;
    uintptr_t fpregs;
    uint32_t magic1, ext_size, xstate_size, magic2;
    uint64_t xfeatures;
    void *pretcode;
    unsigned long oldmask, sigmask;
} seen;

uintptr_t entry_rsp; /* RSP as the handler was entered (the stub records it) */
static unsigned long seen_eflags;
static void *skip_to;       /* where the handler resumes the program */

void record(int sig, siginfo_t *si, void *ucv);
void record(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    seen.signo = sig;
    seen.code = si->si_code;
    seen.addr = (uintptr_t)si->si_addr;
    seen.trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
    seen.err = uc->uc_mcontext.gregs[REG_ERR];
    seen.cr2 = uc->uc_mcontext.gregs[REG_CR2];
    seen.rip = uc->uc_mcontext.gregs[REG_RIP];
    seen.rsp_at_entry = entry_rsp;
    seen.uc = (uintptr_t)uc;
    seen.info = (uintptr_t)si;
    seen.uc_flags = uc->uc_flags;
    seen.fpregs = (uintptr_t)uc->uc_mcontext.fpregs;
    seen.oldmask = uc->uc_mcontext.gregs[REG_OLDMASK];
    seen_eflags = uc->uc_mcontext.gregs[REG_EFL];
    if (sig == SIGFPE && seen.trapno == 16)
        uc->uc_mcontext.fpregs->swd &= ~0xffU; /* the x87 exception handled */
    memcpy(&seen.sigmask, &uc->uc_sigmask, sizeof seen.sigmask);
    if (seen.fpregs) {
        const uint8_t *fp = (const uint8_t *)seen.fpregs;
        memcpy(&seen.magic1, fp + 464, 4);
        memcpy(&seen.ext_size, fp + 468, 4);
        memcpy(&seen.xfeatures, fp + 472, 8);
        memcpy(&seen.xstate_size, fp + 480, 4);
        memcpy(&seen.magic2, fp + seen.xstate_size, 4);
    }
    seen.pretcode = *(void **)entry_rsp;
    if (skip_to)
        uc->uc_mcontext.gregs[REG_RIP] = (greg_t)skip_to;
}

/* The handler's entry: record RSP, then the C handler (rdi, rsi, rdx untouched). */
void stub_handler(int, siginfo_t *, void *);
__asm__(".globl stub_handler\n"
        "stub_handler:\n"
        "    mov %rsp, entry_rsp(%rip)\n"
        "    jmp record\n");

extern char int4_after[];
extern char segv_insn[], segv_after[], segv_insn2[], segv_after2[], ud2_insn[], ud2_after[], div_insn[], div_after[],
    hlt_insn[], hlt_after[], int3_after[];

static void faults(void)
{
    install(SIGSEGV, stub_handler, 0);
    install(SIGILL, stub_handler, 0);
    install(SIGFPE, stub_handler, 0);
    install(SIGTRAP, stub_handler, 0);

    /* A write to an unmapped page. */
    volatile char *nowhere = (char *)0x10;
    skip_to = segv_after;
    __asm__ volatile("segv_insn: movb $1, (%0)\n segv_after:" ::"r"(nowhere) : "memory");
    check(seen.signo == SIGSEGV && seen.code == SEGV_MAPERR && seen.addr == 0x10,
          "write to an unmapped page: SIGSEGV, SEGV_MAPERR, si_addr");
    check(seen.trapno == 14 && seen.err == 6 && seen.cr2 == 0x10 &&
              seen.rip == (uintptr_t)segv_insn,
          "... trapno 14, err 6 (write, user), cr2, RIP at the instruction");
    check(seen.rsp_at_entry % 16 == 8, "handler entered with rsp = 8 mod 16");
    check(seen.uc == seen.rsp_at_entry + 8 && seen.info == seen.rsp_at_entry + 312,
          "ucontext at frame + 8, siginfo at frame + 312");
    struct ksigaction current;
    raw_sigaction(SIGSEGV, NULL, &current, 8);
    check(seen.pretcode == current.restorer && (current.flags & 0x04000000),
          "return address = sa_restorer (SA_RESTORER set by glibc)");
    check(seen.uc_flags == 7, "uc_flags = UC_FP_XSTATE|UC_SIGCONTEXT_SS|UC_STRICT_RESTORE_SS");
    check(seen.fpregs % 64 == 0 && seen.fpregs > seen.info && seen.fpregs - seen.info >= 128,
          "FPU area 64-byte aligned, above the siginfo");
    check(seen.magic1 == 0x46505853 && seen.magic2 == 0x46505845 &&
              seen.ext_size == seen.xstate_size + 4 && (seen.xfeatures & 3) == 3,
          "FPU area: FP_XSTATE_MAGIC1, sizes, features, FP_XSTATE_MAGIC2 after the image");

    /* A write to a read-only page: the mapping refuses it. */
    char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    skip_to = segv_after2;
    __asm__ volatile("segv_insn2: movb $1, (%0)\n segv_after2:" ::"r"(ro) : "memory");
    check(seen.signo == SIGSEGV && seen.code == SEGV_ACCERR && seen.addr == (uintptr_t)ro &&
              seen.cr2 == (uintptr_t)ro && seen.trapno == 14,
          "write to a read-only page: SIGSEGV, SEGV_ACCERR, si_addr = cr2");
    munmap(ro, 4096);

    /* ud2, a division by zero, int3, hlt (a #GP in ring 3). */
    skip_to = ud2_after;
    __asm__ volatile("ud2_insn: ud2\n ud2_after:");
    check(seen.signo == SIGILL && seen.code == ILL_ILLOPN && seen.addr == (uintptr_t)ud2_insn &&
              seen.trapno == 6,
          "ud2: SIGILL, ILL_ILLOPN, si_addr = RIP, trapno 6");
    skip_to = div_after;
    __asm__ volatile("xor %%edx, %%edx\n mov $1, %%eax\n xor %%ecx, %%ecx\n"
                     "div_insn: idivl %%ecx\n div_after:" ::: "eax", "ecx", "edx");
    check(seen.signo == SIGFPE && seen.code == FPE_INTDIV && seen.addr == (uintptr_t)div_insn &&
              seen.trapno == 0,
          "division by zero: SIGFPE, FPE_INTDIV, trapno 0");
    skip_to = NULL;
    __asm__ volatile("int3\n int3_after:");
    check(seen.signo == SIGTRAP && seen.code == SI_KERNEL && seen.trapno == 3 &&
              seen.rip == (uintptr_t)int3_after,
          "int3: SIGTRAP, SI_KERNEL, trapno 3, RIP after it");
    skip_to = hlt_after;
    __asm__ volatile("hlt_insn: hlt\n hlt_after:");
    check(seen.signo == SIGSEGV && seen.code == SI_KERNEL && seen.trapno == 13 &&
              seen.rip == (uintptr_t)hlt_insn,
          "hlt in user mode: SIGSEGV, SI_KERNEL, trapno 13 (#GP)");
    skip_to = NULL;
    __asm__ volatile("int $4\n int4_after:");
    check(seen.signo == SIGSEGV && seen.code == SI_KERNEL && seen.trapno == 4,
          "int $4: SIGSEGV, SI_KERNEL, trapno 4");
    check((seen_eflags & 0x200) != 0, "the interrupted code ran with IF set");

    /* An unmasked x87 exception (#MF). */
    fenv_t env;
    fegetenv(&env);
    feenableexcept(FE_DIVBYZERO);
    volatile long double one = 1, zero = 0, quotient;
    skip_to = NULL;
    quotient = one / zero;
    /* (Real CPUs raise #MF at the next x87 instruction; QEMU only at a WAIT.) */
    __asm__ volatile("fwait\n fnclex");
    fesetenv(&env);
    (void)quotient;
    check(seen.signo == SIGFPE && seen.code == FPE_FLTDIV && seen.trapno == 16,
          "x87 division by zero, unmasked: SIGFPE, FPE_FLTDIV, trapno 16");
    skip_to = NULL;
    /* (#AC, an unaligned access with EFLAGS.AC set, is not tested: QEMU's TCG never
     * raises it. The kernel turns it into SIGBUS, BUS_ADRALN, as Linux.) */
}

/* ---- A handler that changes a general register and an SSE register. */
static void change_registers(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    (void)sig;
    (void)si;
    uc->uc_mcontext.gregs[REG_RBX] = 42;
    uc->uc_mcontext.gregs[REG_RIP] += 2; /* past the ud2 */
    uint32_t *xmm3 = (uint32_t *)uc->uc_mcontext.fpregs->_xmm[3].element;
    xmm3[0] = 0x12345678;
}

static void clear_magic(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    (void)sig;
    (void)si;
    uc->uc_mcontext.gregs[REG_RIP] += 2;
    memset((char *)uc->uc_mcontext.fpregs + 464, 0, 4); /* magic1 */
    uint32_t *xmm3 = (uint32_t *)uc->uc_mcontext.fpregs->_xmm[3].element;
    xmm3[0] = 0x0badf00d;
}

static void header_bytes(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    (void)sig;
    (void)si;
    uc->uc_mcontext.gregs[REG_RIP] += 2;
    ((uint8_t *)uc->uc_mcontext.fpregs)[512 + 40] = 0x77;
}

static void registers(void)
{
    install(SIGILL, change_registers, 0);
    unsigned long rbx;
    uint32_t xmm3;
    __asm__ volatile("mov $1, %%ebx\n"
                     "movd %%ebx, %%xmm3\n"
                     "ud2\n"
                     "mov %%rbx, %0\n"
                     "movd %%xmm3, %1"
                     : "=r"(rbx), "=r"(xmm3)
                     :
                     : "rbx", "xmm3");
    check(rbx == 42 && xmm3 == 0x12345678,
          "rbx and xmm3 as the handler left them in the frame");
    install(SIGILL, clear_magic, 0);
    __asm__ volatile("mov $7, %%ebx\n"
                     "movd %%ebx, %%xmm3\n"
                     "ud2\n"
                     "movd %%xmm3, %0"
                     : "=r"(xmm3)
                     :
                     : "rbx", "xmm3");
    check(xmm3 == 0x0badf00d, "without magic1: the legacy region still restores xmm3");
    install(SIGILL, header_bytes, 0);
    __asm__ volatile("mov $9, %%ebx\n"
                     "movd %%ebx, %%xmm3\n"
                     "ud2\n"
                     "movd %%xmm3, %0"
                     : "=r"(xmm3)
                     :
                     : "rbx", "xmm3");
    check(xmm3 == 9, "XSAVE header bytes 24..63 set: ignored, as XRSTOR ignores them");
}

/* ---- Signals sent to ourselves, masks, nesting. */
static volatile int order[16], depth, deliveries, raised;

static void note(int sig, siginfo_t *si, void *ucv)
{
    (void)ucv;
    seen.signo = sig;
    seen.code = si->si_code;
    seen.addr = (uintptr_t)si->si_pid;
    order[deliveries++ % 16] = sig;
}

static void nest(int sig, siginfo_t *si, void *ucv)
{
    (void)si;
    (void)ucv;
    int mine = ++depth;
    order[deliveries++ % 16] = sig * 10 + mine;
    if (sig == SIGUSR1 && !raised) {
        raised = 1; /* once: SIGUSR1 again, then SIGUSR2 */
        raise(SIGUSR1);
        raise(SIGUSR2);
    }
    depth--;
}

static void sending(void)
{
    install(SIGUSR1, note, 0);
    deliveries = 0;
    kill(getpid(), SIGUSR1);
    check(deliveries == 1 && seen.signo == SIGUSR1 && seen.code == SI_USER &&
              (pid_t)seen.addr == getpid(),
          "kill to itself: delivered before kill returns, SI_USER, si_pid");
    syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
    check(deliveries == 2 && seen.code == SI_TKILL, "tgkill: SI_TKILL");

    sigset_t block, old, pending;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    raise(SIGUSR1);
    sigpending(&pending);
    check(deliveries == 2 && sigismember(&pending, SIGUSR1), "blocked: pending, not delivered");
    sigprocmask(SIG_SETMASK, &old, NULL);
    check(deliveries == 3, "unblocked: delivered as sigprocmask returns");

    /* Nested: SIGUSR1 raises itself (deferred: blocked in its own handler) and
     * SIGUSR2 (delivered at once, nested). */
    install(SIGUSR1, nest, 0);
    install(SIGUSR2, nest, 0);
    deliveries = 0;
    raised = 0;
    raise(SIGUSR1);
    check(deliveries == 3 && order[0] == 101 && order[1] == 122 && order[2] == 101,
          "nested: SIGUSR2 inside SIGUSR1's handler, the second SIGUSR1 after it returns");
    install(SIGUSR1, nest, SA_NODEFER);
    deliveries = 0;
    raised = 0;
    raise(SIGUSR1);
    check(deliveries == 3 && order[0] == 101 && order[1] == 102 && order[2] == 122,
          "SA_NODEFER: SIGUSR1 nested in its own handler");

    install(SIGUSR1, note, SA_RESETHAND);
    raise(SIGUSR1);
    struct sigaction now;
    sigaction(SIGUSR1, NULL, &now);
    check(now.sa_handler == SIG_DFL && (now.sa_flags & SA_RESETHAND) && (now.sa_flags & SA_SIGINFO),
          "SA_RESETHAND: back to SIG_DFL after one delivery, the flags kept");

    /* A blocked signal sent while ignored stays pending (its action may change). */
    sigprocmask(SIG_BLOCK, &block, &old);
    signal(SIGUSR1, SIG_IGN);
    raise(SIGUSR1);
    sigpending(&pending);
    int kept = sigismember(&pending, SIGUSR1);
    install(SIGUSR1, note, 0);
    deliveries = 0;
    sigprocmask(SIG_SETMASK, &old, NULL);
    check(kept && deliveries == 1, "blocked and ignored when sent: still pending, delivered later");

    /* Several pending at once: the synchronous ones (SIGSEGV, SIGTRAP...) dequeued
     * first, the rest by number; each frame goes on top of the last, so the
     * handlers run in the reverse order. */
    int many[] = {34, 12, SIGSEGV, SIGUSR1, SIGTRAP};
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, &old);
    for (int i = 0; i < 5; i++)
        install(many[i], note, 0);
    for (int i = 0; i < 5; i++)
        raise(many[i]);
    deliveries = 0;
    sigprocmask(SIG_SETMASK, &old, NULL);
    check(deliveries == 5 && order[0] == 34 && order[1] == 12 && order[2] == SIGUSR1 &&
              order[3] == SIGSEGV && order[4] == SIGTRAP,
          "five pending: handlers run 34, 12, SIGUSR1, SIGSEGV, SIGTRAP");
    install(SIGSEGV, stub_handler, 0);
    install(SIGTRAP, stub_handler, 0);
    signal(12, SIG_DFL);
    signal(34, SIG_DFL);

    /* The signal and ids are ints: the upper halves are ignored. */
    install(SIGUSR1, note, 0);
    deliveries = 0;
    syscall(SYS_kill, getpid() | (1L << 32), SIGUSR1 | (1L << 32));
    check(deliveries == 1, "kill with garbage in the upper halves of pid and signal");
    errno = 0;
    check(syscall(SYS_kill, 99999, 65) == -1 && errno == ESRCH,
          "kill of nobody with a bad signal: ESRCH first");
    signal(SIGUSR1, SIG_IGN);
    deliveries = 0;
    raise(SIGUSR1);
    raise(SIGCHLD);
    raise(SIGWINCH);
    check(deliveries == 0, "SIG_IGN, and the signals ignored by default, do nothing");
}

/* ---- sigaltstack. */
static char altstack[64 * 1024];
static volatile uintptr_t handler_local;
static volatile int alt_flags_inside;

static volatile int uc_stack_flags;

static void on_alt(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    uc_stack_flags = ((ucontext_t *)ucv)->uc_stack.ss_flags;
    volatile char here;
    handler_local = (uintptr_t)&here;
    stack_t now;
    sigaltstack(NULL, &now);
    alt_flags_inside = now.ss_flags;
}

static void altstacks(void)
{
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0}, old;
    check(sigaltstack(&ss, &old) == 0 && old.ss_flags == SS_DISABLE, "sigaltstack set");
    install(SIGUSR2, on_alt, SA_ONSTACK);
    raise(SIGUSR2);
    check(handler_local >= (uintptr_t)altstack &&
              handler_local < (uintptr_t)altstack + sizeof altstack &&
              alt_flags_inside == SS_ONSTACK,
          "SA_ONSTACK: the handler runs on it, which reports SS_ONSTACK");
    ss.ss_flags = SS_AUTODISARM;
    check(sigaltstack(&ss, NULL) == 0, "SS_AUTODISARM set");
    raise(SIGUSR2);
    stack_t after;
    sigaltstack(NULL, &after);
    check(alt_flags_inside == SS_DISABLE && (after.ss_flags & SS_AUTODISARM) &&
              after.ss_sp == altstack,
          "SS_AUTODISARM: disarmed in the handler, armed again after it");
    stack_t onstack = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = SS_ONSTACK};
    sigaltstack(&onstack, NULL);
    raise(SIGUSR2);
    check(uc_stack_flags == SS_ONSTACK, "uc_stack.ss_flags: the flags as set (SS_ONSTACK)");
    stack_t small = {.ss_sp = altstack, .ss_size = 2047, .ss_flags = 0};
    errno = 0;
    check(sigaltstack(&small, NULL) == -1 && errno == ENOMEM, "an altstack of 2047 bytes: ENOMEM");
    stack_t bad = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 4};
    errno = 0;
    check(sigaltstack(&bad, NULL) == -1 && errno == EINVAL, "unknown ss_flags: EINVAL");
    stack_t off = {.ss_flags = SS_DISABLE};
    sigaltstack(&off, NULL);
}

/* ---- Bad requests. */
static void requests(void)
{
    struct ksigaction act = {.handler = (void *)note, .flags = 0x04000004 | 0x400 | 0x20000,
                             .restorer = NULL, .mask = ~0UL},
                      back;
    errno = 0;
    check(raw_sigaction(SIGUSR1, &act, NULL, 4) == -1 && errno == EINVAL,
          "rt_sigaction with sigsetsize 4: EINVAL");
    errno = 0;
    check(raw_sigaction(SIGKILL, &act, NULL, 8) == -1 && errno == EINVAL &&
              raw_sigaction(SIGKILL, NULL, &back, 8) == 0,
          "SIGKILL: no new action (EINVAL), reading it is fine");
    errno = 0;
    check(raw_sigaction(65, NULL, &back, 8) == -1 && errno == EINVAL && (errno = 0, 1) &&
              raw_sigaction(0, NULL, &back, 8) == -1 && errno == EINVAL,
          "signals 0 and 65: EINVAL");
    struct sigaction saved;
    sigaction(SIGUSR2, NULL, &saved);
    raw_sigaction(SIGUSR2, &act, NULL, 8);
    raw_sigaction(SIGUSR2, NULL, &back, 8);
    check(back.flags == 0x04000004 && back.mask == (~0UL & ~((1UL << 8) | (1UL << 18))),
          "unknown flags dropped, SIGKILL and SIGSTOP never in the mask");
    sigaction(SIGUSR2, &saved, NULL);
    unsigned long all = ~0UL, got = 0, before;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, NULL, &before, 8);
    errno = 0;
    check(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, 4) == -1 && errno == EINVAL,
          "rt_sigprocmask with sigsetsize 4: EINVAL");
    errno = 0;
    check(syscall(SYS_rt_sigprocmask, 7, &all, NULL, 8) == -1 && errno == EINVAL &&
              syscall(SYS_rt_sigprocmask, 7, NULL, &got, 8) == 0,
          "rt_sigprocmask how 7: EINVAL with a set, fine without");
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &before, &got, 8);
    check(got == ~((1UL << 8) | (1UL << 18)), "blocking everything leaves SIGKILL and SIGSTOP out");
    errno = 0;
    check(syscall(SYS_rt_sigaction, SIGUSR1, (void *)0x10, NULL, 8) == -1 && errno == EFAULT,
          "rt_sigaction with a bad pointer: EFAULT");
    struct ksigaction ign = {.handler = SIG_IGN, .flags = 0x04000000};
    errno = 0;
    check(raw_sigaction(SIGUSR2, &ign, (void *)0x10, 8) == -1 && errno == EFAULT &&
              raw_sigaction(SIGUSR2, NULL, &back, 8) == 0 && back.handler == SIG_IGN,
          "rt_sigaction with a bad oact: EFAULT, the new action in place");
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack}, old = {.ss_flags = 0x5555};
    errno = 0;
    check(sigaltstack((stack_t *)0x10, &old) == -1 && errno == EFAULT && old.ss_flags == 0x5555,
          "sigaltstack with a bad new stack: EFAULT, the old one not reported");
    errno = 0;
    check(syscall(SYS_sigaltstack, &ss, (void *)0x10) == -1 && errno == EFAULT &&
              sigaltstack(NULL, &old) == 0 && old.ss_sp == altstack,
          "sigaltstack with a bad old pointer: EFAULT, the new stack set");
    stack_t off = {.ss_flags = SS_DISABLE};
    sigaltstack(&off, NULL);
}

/* ---- The fatal cases. */
static void forge(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    (void)sig;
    (void)si;
    uc->uc_mcontext.fpregs = (void *)((char *)uc->uc_mcontext.fpregs + 8);
}

static void bad_mxcsr(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    (void)sig;
    (void)si;
    uc->uc_mcontext.fpregs->mxcsr = 0xffff0000;
}

static int fatal(const char *mode)
{
    printf("signals: %s\n", mode);
    fflush(stdout);
    if (!strcmp(mode, "forge") || !strcmp(mode, "mxcsr")) {
        install(SIGUSR1, !strcmp(mode, "forge") ? forge : bad_mxcsr, 0);
        raise(SIGUSR1);
    } else if (!strcmp(mode, "norestorer")) {
        struct ksigaction act = {.handler = (void *)note, .flags = SA_SIGINFO};
        raw_sigaction(SIGUSR1, &act, NULL, 8);
        raise(SIGUSR1);
    } else if (!strcmp(mode, "blocked")) {
        install(SIGSEGV, note, 0);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGSEGV);
        sigprocmask(SIG_BLOCK, &set, NULL);
        volatile int *volatile nowhere = (int *)0x10;
        *nowhere = 1;
    } else if (!strcmp(mode, "stack")) {
        install(SIGILL, note, 0);
        __asm__ volatile("mov $0x10000, %rsp\n ud2");
    }
    printf("signals: still alive\n");
    return 99;
}

/* The frame's layout as glibc's headers describe it (the kernel builds it to match). */
static void layout(void)
{
    check(offsetof(ucontext_t, uc_mcontext) == 40 &&
              offsetof(ucontext_t, uc_mcontext.gregs[REG_RIP]) == 40 + 8 * 16 &&
              REG_R8 == 0 && REG_RDI == 8 && REG_RAX == 13 && REG_RSP == 15 && REG_RIP == 16 &&
              REG_EFL == 17 && REG_ERR == 19 && REG_TRAPNO == 20 && REG_OLDMASK == 21 &&
              REG_CR2 == 22,
          "ucontext_t: uc_mcontext at 40, gregs in Linux's order (r8 0 .. cr2 22)");
    check(offsetof(ucontext_t, uc_mcontext.fpregs) == 224 &&
              offsetof(ucontext_t, uc_sigmask) == 296 && offsetof(ucontext_t, uc_stack) == 16 &&
              offsetof(ucontext_t, uc_flags) == 0,
          "ucontext_t: fpregs at 224, uc_sigmask at 296, uc_stack at 16");
    check(offsetof(siginfo_t, si_signo) == 0 && offsetof(siginfo_t, si_code) == 8 &&
              offsetof(siginfo_t, si_addr) == 16 && offsetof(siginfo_t, si_pid) == 16 &&
              offsetof(siginfo_t, si_uid) == 20 && offsetof(siginfo_t, si_lower) == 32 &&
              offsetof(siginfo_t, si_upper) == 40 && sizeof(siginfo_t) == 128,
          "siginfo_t: signo 0, code 8, addr/pid 16, uid 20, lower 32, upper 40, 128 bytes");
    check(offsetof(struct _libc_fpstate, mxcsr) == 24 &&
              offsetof(struct _libc_fpstate, _xmm) == 160,
          "the FPU area's legacy region: mxcsr at 24, xmm0 at 160");
    unsigned long minsig = getauxval(AT_MINSIGSTKSZ);
    check(minsig >= 1024 && minsig <= 8192, "AT_MINSIGSTKSZ in the auxiliary vector");
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return fatal(argv[1]);
    layout();
    faults();
    registers();
    sending();
    altstacks();
    requests();
    printf("signals: %d failures\n", failures);
    return failures != 0;
}
