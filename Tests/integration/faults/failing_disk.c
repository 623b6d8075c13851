/* LD_PRELOAD shim that makes writes and syncs to one file fail, as a full or broken disk would.
 *
 * Writes (write, pwrite, pwrite64, writev) and syncs (fsync, fdatasync) on file descriptors
 * whose path contains $FWS_FAULT_PATH fail with ENOSPC while the file $FWS_FAULT_TRIGGER
 * exists. Everything else passes through, so the test can turn the fault on and off. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static int faulty(int fd) {
    const char *trigger = getenv("FWS_FAULT_TRIGGER");
    const char *pattern = getenv("FWS_FAULT_PATH");
    if (!trigger || !pattern || access(trigger, F_OK) != 0) return 0;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0) return 0;
    path[n] = 0;
    return strstr(path, pattern) != NULL;
}

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

ssize_t write(int fd, const void *buf, size_t count) {
    if (faulty(fd)) { errno = ENOSPC; return -1; }
    return NEXT(write)(fd, buf, count);
}
ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset) {
    if (faulty(fd)) { errno = ENOSPC; return -1; }
    return NEXT(pwrite)(fd, buf, count, offset);
}
ssize_t pwrite64(int fd, const void *buf, size_t count, off_t offset) {
    if (faulty(fd)) { errno = ENOSPC; return -1; }
    return NEXT(pwrite64)(fd, buf, count, offset);
}
ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
    if (faulty(fd)) { errno = ENOSPC; return -1; }
    return NEXT(writev)(fd, iov, iovcnt);
}
int fsync(int fd) {
    if (faulty(fd)) { errno = EIO; return -1; }
    return NEXT(fsync)(fd);
}
int fdatasync(int fd) {
    if (faulty(fd)) { errno = EIO; return -1; }
    return NEXT(fdatasync)(fd);
}
