/* Fault injection for the store, loaded into the real daemon with LD_PRELOAD by the integration
 * tests (never linked into tilskudd itself).
 *
 * A full disk cannot be made on demand in every CI container (mounting a small tmpfs needs
 * CAP_SYS_ADMIN), and a file system cannot be remounted read-only while the daemon holds the
 * store open for writing (EBUSY). So this library makes the kernel's answers up instead, exactly
 * as a full or read-only file system gives them: while the file named by TILSKUDD_FAULT_FILE
 * holds "ENOSPC", "EROFS" or "EIO", every write, truncate and sync of a file under the directory
 * TILSKUDD_FAULT_DIR fails with that errno. With the file absent or empty, nothing changes.
 * SQLite then reports SQLITE_FULL (ENOSPC) or SQLITE_IOERR_* (EROFS, EIO), as in production.
 *
 * Sockets, pipes and files elsewhere are never touched: the path of the descriptor is looked up
 * in /proc/self/fd. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static int fault_errno(void) {
  const char* file = getenv("TILSKUDD_FAULT_FILE");
  if (!file) return 0;
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[16] = {0};
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  if (strncmp(buf, "ENOSPC", 6) == 0) return ENOSPC;
  if (strncmp(buf, "EROFS", 5) == 0) return EROFS;
  if (strncmp(buf, "EIO", 3) == 0) return EIO;
  return 0;
}

/* The errno to fail with for a write to `fd`, or 0. */
static int fault_for(int fd) {
  const char* dir = getenv("TILSKUDD_FAULT_DIR");
  if (!dir || !*dir) return 0;
  int e = fault_errno();
  if (!e) return 0;
  char link[64];
  char path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return 0;
  path[n] = '\0';
  size_t len = strlen(dir);
  if (strncmp(path, dir, len) != 0 || (path[len] != '/' && path[len] != '\0')) return 0;
  return e;
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

#define FAIL_IF_FAULT(fd, value)  \
  do {                            \
    int e_ = fault_for(fd);       \
    if (e_) {                     \
      errno = e_;                 \
      return (value);             \
    }                             \
  } while (0)

ssize_t write(int fd, const void* buf, size_t count) {
  FAIL_IF_FAULT(fd, -1);
  return REAL(write)(fd, buf, count);
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  FAIL_IF_FAULT(fd, -1);
  return REAL(pwrite)(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off64_t offset) {
  FAIL_IF_FAULT(fd, -1);
  return REAL(pwrite64)(fd, buf, count, offset);
}

ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
  FAIL_IF_FAULT(fd, -1);
  return REAL(writev)(fd, iov, iovcnt);
}

int ftruncate(int fd, off_t length) {
  FAIL_IF_FAULT(fd, -1);
  return REAL(ftruncate)(fd, length);
}

int ftruncate64(int fd, off64_t length) {
  FAIL_IF_FAULT(fd, -1);
  return REAL(ftruncate64)(fd, length);
}

int fsync(int fd) {
  FAIL_IF_FAULT(fd, -1);
  return REAL(fsync)(fd);
}

int fdatasync(int fd) {
  FAIL_IF_FAULT(fd, -1);
  return REAL(fdatasync)(fd);
}

int fallocate(int fd, int mode, off_t offset, off_t len) {
  FAIL_IF_FAULT(fd, -1);
  return REAL(fallocate)(fd, mode, offset, len);
}

int posix_fallocate(int fd, off_t offset, off_t len) {
  int e = fault_for(fd);
  if (e) return e; /* posix_fallocate returns the error number */
  return REAL(posix_fallocate)(fd, offset, len);
}
