#include "daemon/private_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace tilskudd::private_files {

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw std::system_error(errno, std::generic_category(), what + " " + path);
}

std::string octal(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

}  // namespace

void restrict_umask() {
  ::umask(077);
}

int create_private(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) fail("cannot open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const int err = errno;
    ::close(fd);
    errno = err ? err : EINVAL;
    fail("not a regular file:", path);
  }
  // An existing file keeps its owner; it loses what others could read, before it is truncated
  // and written.
  if ((st.st_mode & 077) != 0 && ::fchmod(fd, st.st_mode & 0700) != 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
    fail("cannot make private:", path);
  }
  if (::ftruncate(fd, 0) != 0) {
    const int err = errno;
    ::close(fd);
    errno = err;
    fail("cannot truncate", path);
  }
  return fd;
}

void write_private(const std::string& path, const std::string& data) {
  const int fd = create_private(path);
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      errno = err;
      fail("cannot write", path);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) fail("cannot write", path);
}

StoreCheck secure_store(const std::string& store_path, bool tighten) {
  StoreCheck out;
  std::filesystem::path dir = std::filesystem::path(store_path).parent_path();
  if (dir.empty()) dir = ".";
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    out.refusal = "cannot read the store's folder " + dir.string() + ": " + std::strerror(errno);
    return out;
  }
  if (!S_ISDIR(st.st_mode)) {
    out.refusal = "the store's folder " + dir.string() + " is not a folder";
    return out;
  }
  if (st.st_mode & S_IWOTH) {
    out.refusal = "the store's folder " + dir.string() + " is writable by every user (mode " +
                  octal(st.st_mode) +
                  "): anyone could replace the store or its journal; give the store a folder "
                  "of its own (chmod 0700 " +
                  dir.string() + ")";
    return out;
  }
  if (st.st_mode & S_IWGRP)
    out.warnings.push_back("the store's folder " + dir.string() +
                           " is writable by its group (mode " + octal(st.st_mode) +
                           "): every member could replace the store");
  for (const char* suffix : {"", "-wal", "-shm", "-journal", ".lock", ".inflight"}) {
    const std::string file = store_path + suffix;
    struct stat f {};
    if (::lstat(file.c_str(), &f) != 0 || !S_ISREG(f.st_mode)) continue;
    if ((f.st_mode & 077) == 0 || f.st_uid != ::geteuid()) continue;
    if (!tighten || ::chmod(file.c_str(), f.st_mode & 0700) == 0) {
      out.tightened.push_back(file + " (was " + octal(f.st_mode) + ")");
    } else {
      out.warnings.push_back("cannot make " + file + " private: " + std::strerror(errno));
    }
  }
  return out;
}

}  // namespace tilskudd::private_files
