/* Files: /proc/self/maps parsed with sscanf and read in pieces of any size, EOF as
 * 0, /proc/self/status, /proc/self/exe, the devices, the tracing files, a file of
 * our own (lseek, fstat, O_APPEND, pread/pwrite), descriptors (dup, dup2, dup3,
 * fcntl), a second close (EBADF), and a file given with --file (/input.txt). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <dirent.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what)
{
    printf("files: %s: %s\n", what, ok ? "ok" : "FAILED");
    failures += !ok;
}

/* The whole of `path`, read `piece` bytes at a time. */
static size_t slurp(const char *path, size_t piece, char *out, size_t cap, int *eof_zero)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    size_t done = 0;
    ssize_t n;
    while (done < cap && (n = read(fd, out + done, piece < cap - done ? piece : cap - done)) > 0)
        done += n;
    *eof_zero = read(fd, out, 16) == 0;
    close(fd);
    return done;
}

int main(void)
{
    /* Mappings of our own, named in maps: a heap and an anonymous mapping. */
    char *heap = malloc(100);
    heap[0] = 1;
    void *anon = mmap((void *)0x10000000, 3 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
                      -1, 0);

    static char maps[3][65536];
    size_t sizes[3];
    int eof[3];
    size_t pieces[3] = {1, 7, 4096};
    for (int i = 0; i < 3; i++)
        sizes[i] = slurp("/proc/self/maps", pieces[i], maps[i], sizeof maps[i] - 1, &eof[i]);
    check(sizes[0] > 0 && sizes[0] == sizes[1] && sizes[1] == sizes[2] &&
              memcmp(maps[0], maps[1], sizes[0]) == 0 && memcmp(maps[1], maps[2], sizes[0]) == 0,
          "maps read in pieces of 1, 7 and 4096 bytes: the same text");
    check(eof[0] && eof[1] && eof[2], "maps: a read at the end returns 0");
    maps[2][sizes[2]] = 0;

    int lines = 0, exe_lines = 0, exe_x = 0, heap_lines = 0, stack_lines = 0, anon_ok = 0;
    int well_formed = 1;
    unsigned long previous_end = 0;
    for (char *line = strtok(maps[2], "\n"); line; line = strtok(NULL, "\n")) {
        unsigned long start, end, offset, inode;
        unsigned major, minor;
        char perms[8], path[256] = "";
        int fields = sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %255s", &start, &end, perms,
                            &offset, &major, &minor, &inode, path);
        lines++;
        well_formed &= fields >= 7 && start < end && start >= previous_end &&
                       strlen(perms) == 4 && (start & 4095) == 0 && (end & 4095) == 0;
        previous_end = end;
        if (strcmp(path, "/files") == 0) {
            exe_lines++;
            exe_x += perms[2] == 'x';
            well_formed &= inode != 0;
        }
        heap_lines += strcmp(path, "[heap]") == 0;
        stack_lines += strcmp(path, "[stack]") == 0;
        anon_ok += start == 0x10000000 && end == 0x10003000 && strcmp(perms, "r--p") == 0 &&
                   fields == 7;
    }
    check(lines >= 4 && well_formed, "maps: every line parses, in address order");
    check(exe_lines >= 2 && exe_x == 1, "maps: the program's segments named /files, one r-x");
    check(heap_lines == 1 && stack_lines == 1, "maps: one [heap], one [stack]");
    check(anon_ok == 1, "maps: our mapping, 10000000-10003000 r--p, no name");
    munmap(anon, 3 * 4096);

    char status[4096];
    int status_eof;
    size_t status_len = slurp("/proc/self/status", 5, status, sizeof status - 1, &status_eof);
    status[status_len] = 0;
    char name[64] = "";
    int pid = 0;
    long vmsize = 0, vmrss = 0;
    for (char *line = strtok(status, "\n"); line; line = strtok(NULL, "\n")) {
        sscanf(line, "Name: %63s", name);
        sscanf(line, "Pid: %d", &pid);
        sscanf(line, "VmSize: %ld kB", &vmsize);
        sscanf(line, "VmRSS: %ld kB", &vmrss);
    }
    check(strcmp(name, "files") == 0 && pid == getpid(), "status: Name files, Pid our pid");
    check(vmsize > 0 && vmrss > 0 && vmrss <= vmsize, "status: VmSize >= VmRSS > 0");
    char link[256];
    ssize_t link_len = readlink("/proc/self/exe", link, sizeof link);
    check(link_len == 6 && memcmp(link, "/files", 6) == 0, "readlink /proc/self/exe = /files");
    errno = 0;
    check(readlink("/files", link, sizeof link) == -1 && errno == EINVAL,
          "readlink of a file that is not a link: EINVAL");
    errno = 0;
    check(open("/no/such/file", O_RDONLY) == -1 && errno == ENOENT, "open of nothing: ENOENT");

    /* Devices and the tracing files. */
    char buf[64];
    int null = open("/dev/null", O_RDWR);
    check(write(null, "xyz", 3) == 3 && read(null, buf, sizeof buf) == 0,
          "/dev/null swallows writes, reads EOF");
    int zero = open("/dev/zero", O_RDONLY);
    memset(buf, 1, sizeof buf);
    check(read(zero, buf, sizeof buf) == sizeof buf && buf[0] == 0 && buf[63] == 0,
          "/dev/zero reads zeros");
    static char zeros[3 * 4096 + 5];
    memset(zeros, 1, sizeof zeros);
    check(read(zero, zeros, sizeof zeros) == sizeof zeros && zeros[sizeof zeros - 1] == 0,
          "/dev/zero fills a read of 3 pages and 5 bytes");
    struct stat dev;
    check(fstat(zero, &dev) == 0 && S_ISCHR(dev.st_mode) && major(dev.st_rdev) == 1 &&
              minor(dev.st_rdev) == 5,
          "/dev/zero is character device 1:5");
    int urandom = open("/dev/urandom", O_RDONLY);
    unsigned char r1[16], r2[16];
    check(read(urandom, r1, 16) == 16 && read(urandom, r2, 16) == 16 && memcmp(r1, r2, 16) != 0,
          "/dev/urandom reads different bytes each time");
    close(null);
    close(zero);
    close(urandom);
    int trace = open("/sys/kernel/debug/tracing/trace", O_WRONLY | O_TRUNC);
    int ftrace = open("/sys/kernel/debug/tracing/set_ftrace_pid", O_WRONLY);
    check(trace >= 0 && write(trace, "", 0) == 0 && ftrace >= 0 && write(ftrace, "1\n", 2) == 2,
          "the tracing files open and take writes");
    close(trace);
    close(ftrace);

    /* A file of our own. */
    int fd = open("/data", O_RDWR | O_CREAT | O_TRUNC, 0644);
    check(fd >= 3 && write(fd, "hello, world", 12) == 12, "create and write /data");
    check(lseek(fd, 0, SEEK_CUR) == 12 && lseek(fd, 7, SEEK_SET) == 7, "lseek");
    check(read(fd, buf, sizeof buf) == 5 && memcmp(buf, "world", 5) == 0, "read after lseek");
    check(read(fd, buf, sizeof buf) == 0, "read at the end: 0");
    errno = 0;
    check(lseek(fd, -100, SEEK_SET) == -1 && errno == EINVAL, "lseek before 0: EINVAL");
    check(pwrite(fd, "W", 1, 7) == 1 && pread(fd, buf, 5, 7) == 5 && buf[0] == 'W',
          "pwrite and pread");
    struct stat st;
    check(fstat(fd, &st) == 0 && st.st_size == 12 && S_ISREG(st.st_mode), "fstat: 12 bytes");
    check(fstatat(fd, "", &st, AT_EMPTY_PATH) == 0 && st.st_size == 12,
          "fstatat(AT_EMPTY_PATH)");
    check(stat("/data", &st) == 0 && st.st_size == 12, "stat by name");
    struct iovec iov[2] = {{"ab", 2}, {"cde", 3}};
    check(lseek(fd, 0, SEEK_END) == 12 && writev(fd, iov, 2) == 5, "writev");
    char x[3], y[14];
    struct iovec in[2] = {{x, 3}, {y, 14}};
    check(lseek(fd, 0, SEEK_SET) == 0 && readv(fd, in, 2) == 17 && memcmp(x, "hel", 3) == 0 &&
              memcmp(y + 11, "cde", 3) == 0,
          "readv");
    close(fd);
    fd = open("/data", O_WRONLY | O_APPEND);
    check(write(fd, "!", 1) == 1 && fstat(fd, &st) == 0 && st.st_size == 18, "O_APPEND");

    /* pwrite on an O_APPEND descriptor appends, as Linux does. */
    check(pwrite(fd, "+", 1, 0) == 1 && fstat(fd, &st) == 0 && st.st_size == 19,
          "pwrite with O_APPEND appends (Linux's documented behaviour)");

    /* Descriptors. */
    int d1 = dup(fd);
    int d2 = dup2(fd, 20);
    int d3 = dup3(fd, 21, O_CLOEXEC);
    int d4 = fcntl(fd, F_DUPFD, 30);
    int d5 = fcntl(fd, F_DUPFD_CLOEXEC, 30);
    check(d1 > fd && d2 == 20 && d3 == 21 && d4 == 30 && d5 == 31, "dup, dup2, dup3, F_DUPFD");
    check(fcntl(d3, F_GETFD) == FD_CLOEXEC && fcntl(d2, F_GETFD) == 0, "F_GETFD");
    check(fcntl(d2, F_SETFD, FD_CLOEXEC) == 0 && fcntl(d2, F_GETFD) == FD_CLOEXEC, "F_SETFD");
    check((fcntl(fd, F_GETFL) & (O_ACCMODE | O_APPEND)) == (O_WRONLY | O_APPEND), "F_GETFL");
    check(fcntl(fd, F_SETFL, 0) == 0 && (fcntl(d1, F_GETFL) & O_APPEND) == 0,
          "F_SETFL clears O_APPEND for every duplicate");
    check((fcntl(fd, F_GETFL) & 0x8000) != 0, "F_GETFL has O_LARGEFILE");
    errno = 0;
    check(dup3(fd, fd, 0) == -1 && errno == EINVAL, "dup3 onto itself: EINVAL");
    check(close(d1) == 0 && close(20) == 0, "close");
    errno = 0;
    check(close(20) == -1 && errno == EBADF, "a second close: EBADF");
    errno = 0;
    check(write(999, "x", 1) == -1 && errno == EBADF, "write to a closed fd: EBADF");
    errno = 0;
    struct termios tio;
    check(tcgetattr(1, &tio) == -1 && errno == ENOTTY && !isatty(1), "the console: ENOTTY");
    struct winsize ws;
    errno = 0;
    check(ioctl(1, TIOCGWINSZ, &ws) == -1 && errno == ENOTTY, "TIOCGWINSZ: ENOTTY");

    /* Renaming, truncating, the mask, the CPUs. */
    fd = open("/old-name", O_RDWR | O_CREAT, 0644);
    check(write(fd, "0123456789", 10) == 10 && ftruncate(fd, 4) == 0 && fstat(fd, &st) == 0 &&
              st.st_size == 4,
          "ftruncate shorter");
    check(ftruncate(fd, 10000) == 0 && pread(fd, buf, 8, 9992) == 8 && buf[0] == 0 &&
              fsync(fd) == 0 && fdatasync(fd) == 0,
          "ftruncate longer reads zeros; fsync, fdatasync");
    close(fd);
    check(rename("/old-name", "/new-name") == 0 && stat("/new-name", &st) == 0 &&
              st.st_size == 10000 && stat("/old-name", &st) == -1,
          "rename");
    errno = 0;
    check(rename("/old-name", "/x") == -1 && errno == ENOENT, "rename of nothing: ENOENT");
    errno = 0;
    check(renameat2(AT_FDCWD, "/new-name", AT_FDCWD, "/input.txt", RENAME_NOREPLACE) == -1 &&
              errno == EEXIST,
          "renameat2(RENAME_NOREPLACE) over a file: EEXIST");
    unlink("/new-name");
    mode_t old_mask = umask(077);
    check(old_mask == 022 && umask(022) == 077, "umask");
    cpu_set_t cpus;
    check(sysconf(_SC_NPROCESSORS_ONLN) == 1 && sched_getaffinity(0, sizeof cpus, &cpus) == 0 &&
              CPU_COUNT(&cpus) == 1,
          "one CPU (sysconf, sched_getaffinity)");
    check(chdir("/") == 0 && getcwd(buf, sizeof buf) && strcmp(buf, "/") == 0, "chdir(\"/\"), getcwd");

    /* The root directory, and opens that must create nothing. */
    DIR *root = opendir("/");
    int saw_self = 0, saw_input = 0, saw_dot = 0;
    struct dirent *entry;
    while (root && (entry = readdir(root))) {
        saw_self += strcmp(entry->d_name, "files") == 0 && entry->d_type == DT_REG;
        saw_input += strcmp(entry->d_name, "input.txt") == 0;
        saw_dot += strcmp(entry->d_name, ".") == 0 && entry->d_type == DT_DIR;
    }
    check(root && saw_self == 1 && saw_input == 1 && saw_dot == 1,
          "readdir of / lists ., the program and the --file");
    if (root)
        closedir(root);
    check(stat("/", &st) == 0 && S_ISDIR(st.st_mode), "stat of / is a directory");
    errno = 0;
    check(open("/", O_WRONLY) == -1 && errno == EISDIR, "open of / for writing: EISDIR");
    errno = 0;
    check(open("/made", O_RDWR | O_CREAT | O_DIRECTORY, 0644) == -1 && errno == EINVAL &&
              access("/made", F_OK) == -1,
          "O_CREAT|O_DIRECTORY: EINVAL, nothing created");
    errno = 0;
    check(open("/proc/self/exe", O_WRONLY) == -1 && errno == ETXTBSY &&
              open("/files", O_RDWR | O_TRUNC) == -1 && errno == ETXTBSY,
          "the running program cannot be opened for writing: ETXTBSY");

    /* The --file. */
    FILE *input = fopen("/input.txt", "r");
    char first[64] = "";
    check(input && fgets(first, sizeof first, input) &&
              strcmp(first, "first line of the input\n") == 0,
          "--file /input.txt readable");
    errno = 0;
    check(unlink("/data") == 0 && open("/data", O_RDONLY) == -1 && errno == ENOENT, "unlink");

    printf("files: %d failures\n", failures);
    return failures != 0;
}
