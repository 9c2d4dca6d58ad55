/* MPX management misused: prctl with non-zero arguments, PR_MPX_ENABLE_MANAGEMENT
 * with EN clear and with hostile directories (unmapped, in the kernel half, a
 * 32-bit-looking one), PR_MPX_DISABLE_MANAGEMENT twice, unknown options; a bounds
 * store the kernel does not manage and one through a corrupt directory entry, each
 * SIGSEGV with SI_KERNEL and BNDSTATUS code 2 in the frame (never a kernel fault,
 * never a table); the process carries on. Deterministic output. */
#include "mpx.h"

static int failures;

static void check(int ok, const char *what)
{
    printf("mpxmisc: %s: %s\n", what, ok ? "ok" : "FAILED");
    failures += !ok;
}

static volatile int segvs, last_code, last_trapno;
static volatile uint64_t last_status;

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    (void)sig;
    segvs++;
    last_code = si->si_code;
    last_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
    last_status = frame_bndstatus(uc);
    uint8_t *rip = (uint8_t *)uc->uc_mcontext.gregs[REG_RIP];
    uc->uc_mcontext.gregs[REG_RIP] += bound_insn_len(rip);
}

static void store_bounds(uint64_t p)
{
    __asm__ volatile("bndmk (%0,%1,1), %%bnd0\n"
                     "bndstx %%bnd0, (%0,%0,1)" ::"r"(p),
                     "r"(7UL)
                     : "memory");
}

static int enable(uint64_t cfg)
{
    load_bndcfgu(cfg);
    errno = 0;
    return prctl(PR_MPX_ENABLE_MANAGEMENT, 0, 0, 0, 0) == 0 ? 0 : errno;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);

    uint64_t *bd = mmap(NULL, BD_SIZE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    errno = 0;
    check(prctl(PR_MPX_ENABLE_MANAGEMENT, 1, 0, 0, 0) == -1 && errno == EINVAL &&
              (errno = 0, prctl(PR_MPX_ENABLE_MANAGEMENT, 0, 0, 0, 1)) == -1 && errno == EINVAL,
          "non-zero arguments: EINVAL");
    errno = 0;
    check(prctl(PR_MPX_DISABLE_MANAGEMENT, 0, 7, 0, 0) == -1 && errno == EINVAL,
          "disable with a non-zero argument: EINVAL");
    errno = 0;
    check(prctl(12345, 0, 0, 0, 0) == -1 && errno == EINVAL, "an unknown option: EINVAL");
    check(enable(0) == ENXIO, "enable with BNDCFGU in its init state: ENXIO");
    check(enable((uint64_t)bd) == ENXIO, "enable with EN clear: ENXIO");
    check(enable(0x6f0000000000UL | 1) == ENXIO, "an unmapped directory: ENXIO");
    check(enable(0xffff800000000000UL | 1) == ENXIO, "a directory in the kernel half: ENXIO");
    check(enable(0x10000 | 1) == ENXIO, "a 32-bit-looking directory (64 KiB, unmapped): ENXIO");

    /* Managed; then a directory entry the program scribbled on. */
    uint64_t *data = mmap((void *)0x400000000, 3 * BT_SPAN, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(enable((uint64_t)bd | 3) == 0, "enable with a mapped directory");
    store_bounds((uint64_t)data);
    check(segvs == 0 && (*bd_entry(bd, (uint64_t)data) & 1), "a store gets its table");
    *bd_entry(bd, (uint64_t)data + BT_SPAN) = 0x1234560; /* non-zero, not valid */
    store_bounds((uint64_t)data + BT_SPAN);
    check(segvs == 1 && last_code == SI_KERNEL && last_trapno == 5 && (last_status & 3) == 2,
          "a store through a corrupt entry: SIGSEGV, SI_KERNEL, trapno 5, BNDSTATUS code 2");
    check(*bd_entry(bd, (uint64_t)data + BT_SPAN) == 0x1234560, "... the entry left as it was");
    *bd_entry(bd, (uint64_t)data + BT_SPAN) = 0;

    check(prctl(PR_MPX_DISABLE_MANAGEMENT, 0, 0, 0, 0) == 0 &&
              prctl(PR_MPX_DISABLE_MANAGEMENT, 0, 0, 0, 0) == 0,
          "disable twice: 0 both times");
    store_bounds((uint64_t)data + 4096); /* its table exists: no #BR */
    check(segvs == 1, "a store into an existing table needs no kernel");
    /* MPX still on in the CPU (BNDCFGU as the kernel encoded it), the kernel not
     * managing: a store that needs a table is SIGSEGV (SI_KERNEL), no table. */
    store_bounds((uint64_t)data + 2 * BT_SPAN);
    check(segvs == 2 && last_code == SI_KERNEL && last_trapno == 5 && (last_status & 3) == 2 &&
              *bd_entry(bd, (uint64_t)data + 2 * BT_SPAN) == 0,
          "a store needing a table, unmanaged: SIGSEGV, SI_KERNEL, BNDSTATUS code 2, no table");
    check(munmap(data, 3 * BT_SPAN) == 0 && (*bd_entry(bd, (uint64_t)data) & 1),
          "unmanaged: munmap leaves the table alone");
    check(enable((uint64_t)bd | 3) == 0, "enable again");
    errno = 0;
    check(prctl(PR_MPX_DISABLE_MANAGEMENT, 0, 0, 0, 0) == 0 &&
              prctl(PR_MPX_ENABLE_MANAGEMENT, 0, 0, 0, 0) == 0,
          "disable, then enable with BNDCFGU as it was (no reload)");
    munmap(bd, BD_SIZE);
    printf("mpxmisc: %d failures\n", failures);
    return failures != 0;
}
