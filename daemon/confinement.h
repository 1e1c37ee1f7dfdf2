// Unprivileged confinement of a child process that handles untrusted documents
// (docs/CONFINEMENT.md): no_new_privs, every inherited descriptor closed but the ones named, an
// empty environment, rlimits, Landlock (read-only access to named paths, nowhere writable, no
// TCP bind or connect, no signals or abstract sockets outside) and a seccomp allow-list (no
// socket, no ptrace, no open for writing, no second execve).
//
// The work is split in two, because the child of a multi-threaded process may only make
// async-signal-safe calls between fork (or vfork) and exec:
// - Confinement::prepare(), in the parent before the fork, does everything that allocates or
//   opens: the paths, the Landlock ruleset (a descriptor) and the seccomp program (BPF,
//   compiled by libseccomp). The result is read-only and may be shared by threads that fork at
//   the same time.
// - Confinement::exec(), in the child, only makes system calls through libc's thin wrappers
//   (close_range, setrlimit, prctl, landlock_restrict_self, execve): no allocation, no lock.
//
// The one execve: the seccomp filter allows execve only with the exact pathname pointer that
// exec() passes, a string at a random address (a page mapped at a random place, the string at
// a random offset in it) in the parent's memory, which the exec'd program never sees. Any
// other execve or execveat kills the process (SIGSYS), so a compromised program gets one guess
// at a 40-bit secret per document. Landlock also allows executing only the program and its ELF
// interpreter (the dynamic loader).
#pragma once

#include <sys/resource.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace tilskudd::confinement {

// What the running kernel (and the seccomp filter this process already runs under, such as a
// systemd unit's SystemCallFilter=) offers.
struct Support {
  int landlock_abi = 0;         // 0: no Landlock
  std::string landlock_detail;  // why not, when 0
  bool seccomp = false;         // seccomp filters (SECCOMP_MODE_FILTER)
  std::string seccomp_detail;   // why not, when false
  bool complete() const { return landlock_abi > 0 && seccomp; }
  // One line: "Landlock ABI 7 (files, TCP, signals), seccomp filters" or what is missing.
  std::string summary() const;
};

// Asks the kernel: landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) and
// prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, NULL) (EFAULT: supported). Changes nothing.
Support probe();

// How much a layer is wanted.
enum class Layer {
  required,      // prepare() fails when the kernel does not offer it
  if_available,  // applied when the kernel offers it (the operator's opt-out)
  off,           // not applied (tests that check one layer alone)
};

struct Policy {
  // Absolute path of the ELF program the child runs: the one file it may execute, with its
  // interpreter. A script (#!) cannot run under Landlock: its interpreter is not executable.
  std::string program;
  // Files and folders (with everything beneath) the child may read. Missing ones are skipped.
  // Nothing is writable.
  std::vector<std::string> read_only;
  Layer landlock = Layer::required;
  Layer seccomp = Layer::required;
  struct Limit {
    int resource;  // RLIMIT_*
    rlim_t value;  // soft and hard
  };
  std::vector<Limit> rlimits;
};

// The paths a document program (pdftotext) needs to read: the program, /usr/lib, /lib,
// /lib64, /usr/lib64, /usr/share/poppler, /usr/share/fonts, /etc/fonts, /etc/ld.so.cache.
// The document itself comes on an open descriptor (stdin), never by path.
Policy document_policy(const std::string& program);

class Confinement {
 public:
  // Everything that allocates or opens, before the fork. Returns nullptr with `error` set when
  // a required layer is missing or the program cannot be used.
  static std::unique_ptr<Confinement> prepare(const Policy& policy, std::string& error);
  ~Confinement();
  Confinement(const Confinement&) = delete;
  Confinement& operator=(const Confinement&) = delete;

  // In the child, after fork or vfork: closes every descriptor but 0, 1, 2 and `keep` (sorted
  // or not, at most 8), sets the rlimits and no_new_privs, enters the Landlock domain, loads the
  // seccomp filter and execs the program with `argv` and an empty environment. Returns only
  // when something failed, with its errno (the caller reports it and calls _exit). Only
  // async-signal-safe system calls.
  int exec(char* const* argv, const int* keep, std::size_t keep_count) const noexcept;

  bool landlock() const { return ruleset_fd_ >= 0; }  // applied by exec()
  int landlock_abi() const { return abi_; }
  bool seccomp() const { return !filter_.empty(); }

 private:
  Confinement() = default;

  struct Insn {  // struct sock_filter
    unsigned short code;
    unsigned char jt, jf;
    unsigned int k;
  };
  int abi_ = 0;
  int ruleset_fd_ = -1;
  std::vector<Insn> filter_;
  std::vector<Policy::Limit> rlimits_;
  void* page_ = nullptr;  // the page holding the program's path at a random address
  std::size_t page_size_ = 0;
  const char* program_ = nullptr;  // inside page_: the only pathname execve accepts
};

}  // namespace tilskudd::confinement
