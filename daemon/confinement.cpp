#include "daemon/confinement.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>

namespace tilskudd::confinement {

namespace {

// The Landlock ABI (linux/landlock.h; Debian 12's header is older than the kernels we run
// on, so the values are spelled out here: they are a stable kernel interface).
constexpr unsigned kCreateRulesetVersion = 1u << 0;
constexpr int kRulePathBeneath = 1;

constexpr std::uint64_t kFsExecute = 1ull << 0;
constexpr std::uint64_t kFsReadFile = 1ull << 2;
constexpr std::uint64_t kFsReadDir = 1ull << 3;
// ABI 1 handles bits 0..12; 2 adds REFER (13), 3 TRUNCATE (14), 5 IOCTL_DEV (15).
constexpr std::uint64_t handled_fs(int abi) {
  std::uint64_t all = (1ull << 13) - 1;
  if (abi >= 2) all |= 1ull << 13;
  if (abi >= 3) all |= 1ull << 14;
  if (abi >= 5) all |= 1ull << 15;
  return all;
}
constexpr std::uint64_t kNetBindTcp = 1ull << 0;
constexpr std::uint64_t kNetConnectTcp = 1ull << 1;
constexpr std::uint64_t kScopeAbstractUnixSocket = 1ull << 0;
constexpr std::uint64_t kScopeSignal = 1ull << 1;

struct RulesetAttr {
  std::uint64_t handled_access_fs;
  std::uint64_t handled_access_net;  // ABI 4
  std::uint64_t scoped;              // ABI 6
};

struct __attribute__((packed)) PathBeneathAttr {
  std::uint64_t allowed_access;
  std::int32_t parent_fd;
};

long landlock_create_ruleset(const RulesetAttr* attr, std::size_t size, unsigned flags) {
  return ::syscall(SYS_landlock_create_ruleset, attr, size, flags);
}
long landlock_add_rule(int ruleset_fd, int type, const void* attr, unsigned flags) {
  return ::syscall(SYS_landlock_add_rule, ruleset_fd, type, attr, flags);
}
long landlock_restrict_self(int ruleset_fd, unsigned flags) {
  return ::syscall(SYS_landlock_restrict_self, ruleset_fd, flags);
}

std::string errno_text(int e) {
  char buf[128];
  return ::strerror_r(e, buf, sizeof buf);
}

// Owns a descriptor for the length of prepare().
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// The ELF interpreter (PT_INTERP) of a native executable, "" when it has none (static) or is
// not a native ELF file. Reads at most a few kilobytes.
std::string elf_interpreter(int fd) {
  ElfW(Ehdr) eh;
  if (::pread(fd, &eh, sizeof eh, 0) != static_cast<ssize_t>(sizeof eh)) return "";
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return "";
  if (eh.e_phentsize != sizeof(ElfW(Phdr)) || eh.e_phnum > 256) return "";
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    ElfW(Phdr) ph;
    off_t at = static_cast<off_t>(eh.e_phoff + i * sizeof ph);
    if (::pread(fd, &ph, sizeof ph, at) != static_cast<ssize_t>(sizeof ph)) return "";
    if (ph.p_type != PT_INTERP) continue;
    if (ph.p_filesz < 2 || ph.p_filesz > 4096) return "";
    std::string path(ph.p_filesz, '\0');
    if (::pread(fd, path.data(), path.size(), static_cast<off_t>(ph.p_offset)) !=
        static_cast<ssize_t>(path.size()))
      return "";
    path.resize(std::strlen(path.c_str()));
    return path;
  }
  return "";
}

// Adds a path-beneath rule; a missing path is skipped (returns true).
bool add_path_rule(int ruleset, const std::string& path, std::uint64_t file_access,
                   std::uint64_t dir_access, std::string& error) {
  Fd fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (fd.fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return true;
    error = "cannot open " + path + ": " + errno_text(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0) {
    error = "cannot stat " + path + ": " + errno_text(errno);
    return false;
  }
  PathBeneathAttr attr{S_ISDIR(st.st_mode) ? dir_access : file_access, fd.fd};
  if (landlock_add_rule(ruleset, kRulePathBeneath, &attr, 0) != 0) {
    error = "landlock_add_rule " + path + ": " + errno_text(errno);
    return false;
  }
  return true;
}

// The seccomp allow-list (docs/CONFINEMENT.md "System calls"). Everything else fails with
// EPERM; execve with another pathname pointer, and execveat, kill the process.
bool build_filter(const char* program_ptr, std::vector<sock_filter>& out, std::string& error) {
  // libseccomp asks the kernel which actions it supports through seccomp(2), which a systemd
  // unit's @system-service filter refuses; it would then refuse SCMP_ACT_KILL_PROCESS. We only
  // export the program, and every kernel with Landlock (5.13) has KILL_PROCESS (4.14): say so.
  // libseccomp keeps that level in a global: one filter is built at a time.
  static std::mutex libseccomp;
  std::lock_guard lock(libseccomp);
  if (::seccomp_api_get() < 3) ::seccomp_api_set(3);
  scmp_filter_ctx ctx = ::seccomp_init(SCMP_ACT_ERRNO(EPERM));
  if (ctx == nullptr) {
    error = "seccomp_init failed";
    return false;
  }
  struct Ctx {
    scmp_filter_ctx c;
    ~Ctx() { ::seccomp_release(c); }
  } owner{ctx};
  // We set no_new_privs ourselves, and only export the program.
  ::seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);

  // Plain allowed calls: memory, reading, the descriptors it has, time, its own identity.
  // Names this architecture lacks (open, stat on arm64) are skipped.
  static const char* const kAllowed[] = {"read",
                                         "readv",
                                         "pread64",
                                         "preadv",
                                         "write",
                                         "writev",
                                         "close",
                                         "fstat",
                                         "newfstatat",
                                         "statx",
                                         "stat",
                                         "lstat",
                                         "lseek",
                                         "mmap",
                                         "mprotect",
                                         "munmap",
                                         "mremap",
                                         "madvise",
                                         "brk",
                                         "rt_sigaction",
                                         "rt_sigprocmask",
                                         "rt_sigreturn",
                                         "sigaltstack",
                                         "futex",
                                         "set_tid_address",
                                         "set_robust_list",
                                         "rseq",
                                         "getrlimit",
                                         "arch_prctl",
                                         "getrandom",
                                         "access",
                                         "faccessat",
                                         "faccessat2",
                                         "readlink",
                                         "readlinkat",
                                         "getdents64",
                                         "getcwd",
                                         "fcntl",
                                         "dup",
                                         "dup2",
                                         "dup3",
                                         "exit",
                                         "exit_group",
                                         "clock_gettime",
                                         "clock_getres",
                                         "gettimeofday",
                                         "time",
                                         "nanosleep",
                                         "clock_nanosleep",
                                         "getpid",
                                         "gettid",
                                         "getppid",
                                         "getuid",
                                         "geteuid",
                                         "getgid",
                                         "getegid",
                                         "uname",
                                         "sysinfo",
                                         "sched_getaffinity",
                                         "sched_yield",
                                         "statfs",
                                         "fstatfs",
                                         "restart_syscall"};
  for (const char* name : kAllowed) {
    int nr = ::seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR || nr < 0) continue;
    if (int rc = ::seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0); rc != 0) {
      error = std::string("seccomp_rule_add ") + name + ": " + errno_text(-rc);
      return false;
    }
  }

  // open and openat only without a flag that writes, creates or truncates (O_TMPFILE without
  // its O_DIRECTORY part, which is allowed alone).
  const scmp_datum_t write_flags =
      O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | (O_TMPFILE & ~O_DIRECTORY);
  auto check = [&error](int rc, const char* what) {
    if (rc != 0 && error.empty())
      error = std::string("seccomp_rule_add ") + what + ": " + errno_text(-rc);
  };
  error.clear();
  if (int nr = ::seccomp_syscall_resolve_name("open"); nr >= 0)
    check(
        ::seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A1(SCMP_CMP_MASKED_EQ, write_flags, 0)),
        "open");
  check(::seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
                           SCMP_A2(SCMP_CMP_MASKED_EQ, write_flags, 0)),
        "openat");
  // Reading its limits, never setting them (a root child could raise its hard limits).
  check(::seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1, SCMP_A2(SCMP_CMP_EQ, 0)),
        "prlimit64");
  // isatty() only.
  check(::seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                           SCMP_A1(SCMP_CMP_EQ, static_cast<scmp_datum_t>(TCGETS))),
        "ioctl");
  // The one execve: our pathname pointer (see the header).
  const auto ptr = static_cast<scmp_datum_t>(reinterpret_cast<std::uintptr_t>(program_ptr));
  check(::seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(execve), 1, SCMP_A0(SCMP_CMP_EQ, ptr)),
        "execve");
  check(::seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(execve), 1,
                           SCMP_A0(SCMP_CMP_NE, ptr)),
        "execve (kill)");
  check(::seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, SCMP_SYS(execveat), 0), "execveat");
  if (!error.empty()) return false;

  // libseccomp 2.5 exports to a descriptor only.
  Fd mem(::memfd_create("tilskudd-seccomp", MFD_CLOEXEC));
  if (mem.fd < 0) {
    error = "memfd_create: " + errno_text(errno);
    return false;
  }
  if (int e = ::seccomp_export_bpf(ctx, mem.fd); e != 0) {
    error = "seccomp_export_bpf: " + errno_text(-e);
    return false;
  }
  off_t size = ::lseek(mem.fd, 0, SEEK_END);
  if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0 || size > (1 << 20)) {
    error = "seccomp_export_bpf: unexpected size";
    return false;
  }
  out.resize(static_cast<std::size_t>(size) / sizeof(sock_filter));
  if (::pread(mem.fd, out.data(), static_cast<std::size_t>(size), 0) != size) {
    error = "cannot read the seccomp program back";
    return false;
  }
  return true;
}

// A page at a random address (about 35 bits of the 47-bit user space), falling back to one the
// kernel picks; the caller writes the path at a random offset in it and makes it read-only.
void* random_page(std::size_t page) {
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer keeps its shadow memory in that range and aborts on a mapping there: the
  // kernel's randomised choice (about 28 bits) must do in a TSan build.
  constexpr int kAttempts = 0;
#else
  constexpr int kAttempts = 8;
#endif
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    std::uint64_t r = 0;
    if (::getrandom(&r, sizeof r, 0) != static_cast<ssize_t>(sizeof r)) break;
    // Between 1 TiB and 120 TiB, page aligned: clear of the low mappings and the stack.
    std::uint64_t addr = (1ull << 40) + (r % (119ull << 40));
    addr &= ~static_cast<std::uint64_t>(page - 1);
    void* want = reinterpret_cast<void*>(addr);
    void* got = ::mmap(want, page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (got == want) return got;
    if (got != MAP_FAILED) ::munmap(got, page);  // a kernel that took the flag as a hint
  }
  void* got = ::mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return got == MAP_FAILED ? nullptr : got;
}

}  // namespace

std::string Support::summary() const {
  std::string s;
  if (landlock_abi > 0) {
    s = "Landlock ABI " + std::to_string(landlock_abi) + " (files";
    if (landlock_abi >= 4) s += ", TCP";
    if (landlock_abi >= 6) s += ", signals, abstract sockets";
    s += ")";
  } else {
    s = "no Landlock (" + landlock_detail + ")";
  }
  s += seccomp ? ", seccomp filters" : ", no seccomp filters (" + seccomp_detail + ")";
  return s;
}

Support probe() {
  Support s;
  long abi = landlock_create_ruleset(nullptr, 0, kCreateRulesetVersion);
  if (abi > 0) {
    s.landlock_abi = static_cast<int>(abi);
  } else if (errno == ENOSYS) {
    s.landlock_detail = "the kernel is older than 5.13 or built without it (ENOSYS)";
  } else if (errno == EOPNOTSUPP) {
    s.landlock_detail = "disabled at boot: add landlock to the kernel's lsm= list";
  } else if (errno == EPERM) {
    s.landlock_detail =
        "blocked by a seccomp filter this process runs under (a systemd unit needs "
        "SystemCallFilter=landlock_create_ruleset landlock_add_rule landlock_restrict_self)";
  } else {
    s.landlock_detail = "landlock_create_ruleset: " + errno_text(errno);
  }
  // With a NULL program the kernel checks the mode first (EINVAL: no filter support) and then
  // fails to copy the program (EFAULT): nothing is installed.
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, nullptr, 0, 0) == 0) {
    s.seccomp = true;  // cannot happen
  } else if (errno == EFAULT) {
    s.seccomp = true;
  } else if (errno == EINVAL) {
    s.seccomp_detail = "the kernel is built without seccomp filters (EINVAL)";
  } else {
    s.seccomp_detail = "prctl(PR_SET_SECCOMP): " + errno_text(errno);
  }
  return s;
}

Policy document_policy(const std::string& program) {
  Policy p;
  p.program = program;
  p.read_only = {
      "/usr/lib",         "/lib",       "/lib64",          "/usr/lib64", "/usr/share/poppler",
      "/usr/share/fonts", "/etc/fonts", "/etc/ld.so.cache"};
  return p;
}

std::unique_ptr<Confinement> Confinement::prepare(const Policy& policy, std::string& error) {
  std::unique_ptr<Confinement> c(new Confinement());
  c->rlimits_ = policy.rlimits;
  if (policy.program.empty() || policy.program.front() != '/' || policy.program.size() > 1024) {
    error = "the program must be an absolute path";
    return nullptr;
  }
  Fd prog(::open(policy.program.c_str(), O_RDONLY | O_CLOEXEC));
  if (prog.fd < 0) {
    error = "cannot open " + policy.program + ": " + errno_text(errno);
    return nullptr;
  }
  const std::string interpreter = elf_interpreter(prog.fd);

  // The program's path at a random address (header: "The one execve").
  long ps = ::sysconf(_SC_PAGESIZE);
  c->page_size_ = ps > 0 ? static_cast<std::size_t>(ps) : 4096;
  c->page_ = random_page(c->page_size_);
  if (c->page_ == nullptr) {
    error = "mmap: " + errno_text(errno);
    return nullptr;
  }
  std::uint32_t r = 0;
  (void)!::getrandom(&r, sizeof r, 0);
  const std::size_t room = c->page_size_ - policy.program.size() - 1;
  const std::size_t offset = (r % (room / 16 + 1)) * 16;
  char* path = static_cast<char*>(c->page_) + offset;
  std::memcpy(path, policy.program.c_str(), policy.program.size() + 1);
  ::mprotect(c->page_, c->page_size_, PROT_READ);
  c->program_ = path;

  const bool want_landlock = policy.landlock != Layer::off;
  const bool want_seccomp = policy.seccomp != Layer::off;
  Support support;
  if (want_landlock || want_seccomp) support = probe();

  if (want_landlock && support.landlock_abi == 0 && policy.landlock == Layer::required) {
    error = "Landlock is not available: " + support.landlock_detail;
    return nullptr;
  }
  if (want_seccomp && !support.seccomp && policy.seccomp == Layer::required) {
    error = "seccomp filters are not available: " + support.seccomp_detail;
    return nullptr;
  }

  if (want_landlock && support.landlock_abi > 0) {
    const int abi = support.landlock_abi;
    RulesetAttr attr{handled_fs(abi), 0, 0};
    std::size_t size = sizeof attr.handled_access_fs;
    if (abi >= 4) {
      attr.handled_access_net = kNetBindTcp | kNetConnectTcp;  // no rule: none allowed
      size += sizeof attr.handled_access_net;
    }
    if (abi >= 6) {
      attr.scoped = kScopeAbstractUnixSocket | kScopeSignal;
      size += sizeof attr.scoped;
    }
    long fd = landlock_create_ruleset(&attr, size, 0);
    if (fd < 0) {
      error = "landlock_create_ruleset: " + errno_text(errno);
      return nullptr;
    }
    c->ruleset_fd_ = static_cast<int>(fd);
    c->abi_ = abi;
    const std::uint64_t read_file = kFsReadFile;
    const std::uint64_t read_dir = kFsReadFile | kFsReadDir;
    for (const std::string& p : policy.read_only) {
      if (!add_path_rule(c->ruleset_fd_, p, read_file, read_dir, error)) return nullptr;
    }
    // The program and its loader: the only files that may be executed.
    PathBeneathAttr exec_attr{kFsReadFile | kFsExecute, prog.fd};
    if (landlock_add_rule(c->ruleset_fd_, kRulePathBeneath, &exec_attr, 0) != 0) {
      error = "landlock_add_rule " + policy.program + ": " + errno_text(errno);
      return nullptr;
    }
    if (!interpreter.empty() &&
        !add_path_rule(c->ruleset_fd_, interpreter, kFsReadFile | kFsExecute, 0, error))
      return nullptr;
  }

  if (want_seccomp && support.seccomp) {
    std::vector<sock_filter> insns;
    if (!build_filter(c->program_, insns, error)) return nullptr;
    static_assert(sizeof(Insn) == sizeof(sock_filter));
    c->filter_.resize(insns.size());
    std::memcpy(c->filter_.data(), insns.data(), insns.size() * sizeof(sock_filter));
  }
  return c;
}

Confinement::~Confinement() {
  if (ruleset_fd_ >= 0) ::close(ruleset_fd_);
  if (page_ != nullptr) ::munmap(page_, page_size_);
}

int Confinement::exec(char* const* argv, const int* keep, std::size_t keep_count) const noexcept {
  // The descriptors to keep, sorted, on the stack.
  int kept[16];
  std::size_t n = 0;
  for (std::size_t i = 0; i < keep_count && n < 8; ++i) {
    if (keep[i] > 2) kept[n++] = keep[i];
  }
  if (ruleset_fd_ > 2) kept[n++] = ruleset_fd_;
  std::sort(kept, kept + n);
  unsigned from = 3;
  for (std::size_t i = 0; i <= n; ++i) {
    const unsigned until = i < n ? static_cast<unsigned>(kept[i]) : ~0U;  // exclusive
    if (until > from) {
      if (::close_range(from, until - 1, 0) != 0) {
        // Kernels before 5.9: one by one, up to a bound.
        for (unsigned fd = from; fd < until && fd < 65536; ++fd) ::close(static_cast<int>(fd));
      }
    }
    if (i < n) from = static_cast<unsigned>(kept[i]) + 1;
  }

  for (const Policy::Limit& l : rlimits_) {
    struct rlimit rl {
      l.value, l.value
    };
    if (::setrlimit(l.resource, &rl) != 0) return errno;
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  if (ruleset_fd_ >= 0) {
    if (landlock_restrict_self(ruleset_fd_, 0) != 0) return errno;
    ::close(ruleset_fd_);  // only the child's copy
  }
  if (!filter_.empty()) {
    struct sock_fprog prog {
      static_cast<unsigned short>(filter_.size()),
          reinterpret_cast<sock_filter*>(const_cast<Insn*>(filter_.data()))
    };
    // prctl rather than seccomp(2): systemd's @system-service allows prctl, not seccomp.
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) return errno;
  }
  static char* const kEmptyEnvironment[] = {nullptr};
  ::execve(program_, argv, kEmptyEnvironment);
  return errno;
}

}  // namespace tilskudd::confinement
