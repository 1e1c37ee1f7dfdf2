#include "daemon/pdf_sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>

#include "parsers/text.h"

namespace tilskudd {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxStderrBytes = 4096;
constexpr std::size_t kChunk = 64 * 1024;
constexpr rlim_t kMaxOpenFiles = 64;
// pdftotext writes no files; a small limit still lets a debug log fail instead of filling disks.
constexpr rlim_t kMaxFileSize = 0;

// Owns a file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// Moves a descriptor above 2, so that dup2 onto 0, 1 and 2 in the child cannot clobber it (a
// daemon may run with stdin closed, and then pipe() hands out 0).
bool move_above_stdio(Fd& fd) {
  if (fd.get() > 2) return true;
  int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return false;
  fd.reset(moved);
  return true;
}

bool set_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

PdfText fail(PdfStatus status, std::string detail) {
  PdfText t;
  t.status = status;
  t.detail = std::move(detail);
  return t;
}

std::string errno_text(int err) {
  char buf[128];
  // GNU strerror_r returns the message (thread-safe, unlike strerror).
  return ::strerror_r(err, buf, sizeof buf);
}

// Closes every descriptor >= 3 except `keep`. Async-signal-safe.
void close_other_fds(int keep) {
  bool done = true;
  if (keep > 3 && ::close_range(3, static_cast<unsigned>(keep - 1), 0) != 0) done = false;
  if (done && ::close_range(static_cast<unsigned>(keep + 1), ~0U, 0) != 0) done = false;
  if (done) return;
  // Kernels before 5.9: close them one by one.
  struct rlimit rl;
  int max = 4096;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 65536) {
    max = static_cast<int>(rl.rlim_cur);
  }
  for (int fd = 3; fd < max; ++fd) {
    if (fd != keep) ::close(fd);
  }
}

void set_limit(int resource, rlim_t value) {
  struct rlimit rl;
  rl.rlim_cur = value;
  rl.rlim_max = value;
  ::setrlimit(resource, &rl);
}

// The rlimits of an extractor (the same for the confined and the unconfined child).
std::vector<confinement::Policy::Limit> extractor_rlimits(const PdfLimits& limits) {
  int timeout_ms = std::max(limits.timeout_ms, 1);
  rlim_t cpu_seconds = static_cast<rlim_t>(timeout_ms / 1000 + 2);
  return {{RLIMIT_AS, static_cast<rlim_t>(limits.memory_bytes)},
          {RLIMIT_CPU, cpu_seconds},
          {RLIMIT_FSIZE, kMaxFileSize},
          {RLIMIT_CORE, 0},
          {RLIMIT_NOFILE, kMaxOpenFiles}};
}

// Everything the child does between fork and exec: only async-signal-safe calls, no allocation
// (argv, envp and the confinement are prepared before the fork).
[[noreturn]] void run_child(int in_fd, int out_fd, int err_fd, int exec_err_fd, char* const* argv,
                            char* const* envp, const confinement::Policy::Limit* rlimits,
                            std::size_t rlimit_count, const confinement::Confinement* confine) {
  ::setpgid(0, 0);
  // Our process may ignore SIGPIPE or block signals; the extractor must start clean.
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) {
    int e = errno;
    (void)!::write(exec_err_fd, &e, sizeof e);
    ::_exit(127);
  }
  int e = 0;
  if (confine != nullptr) {
    // Closes the descriptors, sets the rlimits, enters Landlock and seccomp, execs.
    e = confine->exec(argv, &exec_err_fd, 1);
  } else {
    close_other_fds(exec_err_fd);
    for (std::size_t i = 0; i < rlimit_count; ++i) set_limit(rlimits[i].resource, rlimits[i].value);
    ::execve(argv[0], argv, envp);
    e = errno;
  }
  (void)!::write(exec_err_fd, &e, sizeof e);
  ::_exit(127);
}

void kill_child(pid_t pid) {
  ::kill(-pid, SIGKILL);  // the whole process group the child made
  ::kill(pid, SIGKILL);   // in case it had not yet made its group
}

// Blocking wait, retried on EINTR. Returns false when the child was reaped by someone else.
bool reap(pid_t pid, int& status) {
  for (;;) {
    pid_t r = ::waitpid(pid, &status, 0);
    if (r == pid) return true;
    if (r < 0 && errno == EINTR) continue;
    return false;
  }
}

// Waits for the child until `deadline`; kills and reaps it when the deadline passes.
// Returns false when it had to kill it.
bool wait_until(pid_t pid, Clock::time_point deadline, int& status, bool& reaped) {
  long sleep_us = 500;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      reaped = true;
      return true;
    }
    if (r < 0 && errno != EINTR) {
      reaped = false;
      return true;
    }
    if (Clock::now() >= deadline) {
      kill_child(pid);
      reaped = reap(pid, status);
      return false;
    }
    struct timespec ts {
      0, sleep_us * 1000
    };
    ::nanosleep(&ts, nullptr);
    sleep_us = std::min(sleep_us * 2, 20000L);
  }
}

bool only_white_space(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  });
}

std::string first_line(std::string_view s) {
  s = text::trim(s);
  auto nl = s.find('\n');
  std::string line(s.substr(0, std::min<std::size_t>(nl, 200)));
  return text::sanitize_utf8(line);
}

}  // namespace

std::string find_pdftotext() {
  if (const char* path = std::getenv("PATH")) {
    std::string_view rest = path;
    while (!rest.empty()) {
      auto colon = rest.find(':');
      std::string_view dir = rest.substr(0, colon);
      rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
      if (dir.empty() || dir.front() != '/') continue;  // relative entries are not trusted
      std::string candidate = std::string(dir) + "/pdftotext";
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  if (::access("/usr/bin/pdftotext", X_OK) == 0) return "/usr/bin/pdftotext";
  return "";
}

namespace {

// A started extractor: its process (its own group) and our ends of its stdin, stdout, stderr.
struct Spawned {
  pid_t pid = -1;
  Fd in, out, err;
};

// Forks and execs argv under `limits` (the rlimits are the child's own, set before exec).
// Returns the failure when the child could not be started (nothing is left running then).
std::optional<PdfText> spawn_extractor(const std::vector<std::string>& argv_in,
                                       const PdfLimits& limits,
                                       const confinement::Confinement* confine, Spawned& child) {
  if (argv_in.empty() || argv_in[0].empty()) return fail(PdfStatus::broken, "no extractor");

  // Everything the child needs, allocated before the fork.
  std::vector<std::string> argv_store = argv_in;
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string env_path = "PATH=/usr/bin:/bin";
  std::string env_lang = "LC_ALL=C.UTF-8";
  char* envp[] = {env_path.data(), env_lang.data(), nullptr};
  const std::vector<confinement::Policy::Limit> rlimits = extractor_rlimits(limits);

  // stdin is a socket, so that writing after the child has gone gives EPIPE with MSG_NOSIGNAL
  // instead of a SIGPIPE to our process (no process-wide signal changes).
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return fail(PdfStatus::broken, "socketpair: " + errno_text(errno));
  }
  Fd in_parent(sv[0]), in_child(sv[1]);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return fail(PdfStatus::broken, "pipe: " + errno_text(errno));
  Fd out_parent(p[0]), out_child(p[1]);
  if (::pipe2(p, O_CLOEXEC) != 0) return fail(PdfStatus::broken, "pipe: " + errno_text(errno));
  Fd err_parent(p[0]), err_child(p[1]);
  if (::pipe2(p, O_CLOEXEC) != 0) return fail(PdfStatus::broken, "pipe: " + errno_text(errno));
  Fd exec_parent(p[0]), exec_child(p[1]);
  for (Fd* fd : {&in_parent, &in_child, &out_parent, &out_child, &err_parent, &err_child,
                 &exec_parent, &exec_child}) {
    if (!move_above_stdio(*fd)) return fail(PdfStatus::broken, "fcntl: " + errno_text(errno));
  }
  if (!set_nonblocking(in_parent.get()) || !set_nonblocking(out_parent.get()) ||
      !set_nonblocking(err_parent.get())) {
    return fail(PdfStatus::broken, "fcntl: " + errno_text(errno));
  }

  // vfork, not fork: the child borrows our memory until its exec instead of copying our page
  // tables, so neither side pays copy-on-write faults for the daemon's heap (measured: a fork
  // of a process with 20 MB of written heap cost about 100 ms of CPU a document on this VM).
  // The child only makes system calls before the exec (run_child), and every signal stays
  // blocked until it has reset the handlers, so none of our handlers runs in it.
  sigset_t all_signals, old_mask;
  ::sigfillset(&all_signals);
  ::pthread_sigmask(SIG_SETMASK, &all_signals, &old_mask);
  pid_t pid = ::vfork();
  if (pid != 0) ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  if (pid < 0) return fail(PdfStatus::broken, "fork: " + errno_text(errno));
  if (pid == 0) {
    run_child(in_child.get(), out_child.get(), err_child.get(), exec_child.get(), argv.data(), envp,
              rlimits.data(), rlimits.size(), confine);
  }
  ::setpgid(pid, pid);  // also here, so that a kill of the group cannot miss (may fail: fine)
  in_child.reset();
  out_child.reset();
  err_child.reset();
  exec_child.reset();

  // Did the exec work? The pipe closes on exec (CLOEXEC) or carries errno.
  int exec_errno = 0;
  for (;;) {
    ssize_t n = ::read(exec_parent.get(), &exec_errno, sizeof exec_errno);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof exec_errno)) exec_errno = 0;
    break;
  }
  exec_parent.reset();
  if (exec_errno != 0) {
    int status = 0;
    reap(pid, status);
    return fail(PdfStatus::broken, "cannot run " + argv_in[0] + ": " + errno_text(exec_errno));
  }
  child.pid = pid;
  child.in.reset(in_parent.release());
  child.out.reset(out_parent.release());
  child.err.reset(err_parent.release());
  return std::nullopt;
}

// Kills a started extractor that was never used, and reaps it.
void discard(Spawned& child) {
  if (child.pid <= 0) return;
  kill_child(child.pid);
  int status = 0;
  reap(child.pid, status);
  child.pid = -1;
  child.in.reset();
  child.out.reset();
  child.err.reset();
}

// Feeds `input` to a started extractor, collects its output under the limits (the timeout
// counts from now), always reaps it, and maps its exit to a PdfText.
PdfText communicate(Spawned& child, std::string_view input, const PdfLimits& limits) {
  const pid_t pid = child.pid;
  child.pid = -1;
  Fd in_parent(child.in.release()), out_parent(child.out.release()),
      err_parent(child.err.release());
  int timeout_ms = std::max(limits.timeout_ms, 1);

  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string out, err;
  std::size_t written = 0;
  bool timed_out = false, too_large = false;
  if (input.empty()) in_parent.reset();
  std::vector<char> buf(kChunk);

  while (out_parent.open() || err_parent.open()) {
    auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (remaining <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd fds[3];
    int n = 0, in_i = -1, out_i = -1, err_i = -1;
    if (in_parent.open()) {
      fds[n] = {in_parent.get(), POLLOUT, 0};
      in_i = n++;
    }
    if (out_parent.open()) {
      fds[n] = {out_parent.get(), POLLIN, 0};
      out_i = n++;
    }
    if (err_parent.open()) {
      fds[n] = {err_parent.get(), POLLIN, 0};
      err_i = n++;
    }
    int r = ::poll(fds, static_cast<nfds_t>(n),
                   static_cast<int>(std::min<long long>(remaining, 1000LL * 60 * 60)));
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      kill_child(pid);
      int status = 0;
      reap(pid, status);
      return fail(PdfStatus::broken, "poll: " + errno_text(e));
    }
    if (r == 0) continue;
    if (in_i >= 0 && fds[in_i].revents != 0) {
      std::size_t len = std::min(kChunk, input.size() - written);
      ssize_t w = ::send(in_parent.get(), input.data() + written, len, MSG_NOSIGNAL);
      if (w > 0) {
        written += static_cast<std::size_t>(w);
        if (written == input.size()) in_parent.reset();  // EOF for the child
      } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        in_parent.reset();  // EPIPE and the like: the child stopped reading
      }
    }
    if (out_i >= 0 && fds[out_i].revents != 0) {
      ssize_t got = ::read(out_parent.get(), buf.data(), buf.size());
      if (got > 0) {
        std::size_t room = limits.max_text_bytes - std::min(limits.max_text_bytes, out.size());
        out.append(buf.data(), std::min(room, static_cast<std::size_t>(got)));
        if (static_cast<std::size_t>(got) > room) {
          too_large = true;
          break;
        }
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        out_parent.reset();
      }
    }
    if (err_i >= 0 && fds[err_i].revents != 0) {
      ssize_t got = ::read(err_parent.get(), buf.data(), buf.size());
      if (got > 0) {
        std::size_t room = kMaxStderrBytes - std::min(kMaxStderrBytes, err.size());
        err.append(buf.data(), std::min(room, static_cast<std::size_t>(got)));
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        err_parent.reset();
      }
    }
  }
  in_parent.reset();
  out_parent.reset();
  err_parent.reset();

  int status = 0;
  bool reaped = false;
  if (timed_out || too_large) {
    kill_child(pid);
    reaped = reap(pid, status);
  } else if (!wait_until(pid, deadline, status, reaped)) {
    timed_out = true;
  }

  if (too_large) {
    PdfText t = fail(PdfStatus::too_large, "extracted text larger than " +
                                               std::to_string(limits.max_text_bytes) + " bytes");
    t.text = text::normalize_spaces(text::sanitize_utf8(out));
    return t;
  }
  if (timed_out) {
    return fail(PdfStatus::timeout,
                "extraction took longer than " + std::to_string(timeout_ms) + " ms");
  }
  if (!reaped) return fail(PdfStatus::broken, "extractor exit status lost");
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    if (sig == SIGXCPU) return fail(PdfStatus::timeout, "extractor hit its CPU time limit");
    return fail(PdfStatus::broken, "extractor killed by signal " + std::to_string(sig));
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code == 0) {
    PdfText t;
    t.text = text::normalize_spaces(text::sanitize_utf8(out));
    if (only_white_space(t.text)) {
      t.status = PdfStatus::no_text;
      t.detail = "no text layer (a scan or an empty document)";
      t.text.clear();
    } else {
      t.status = PdfStatus::ok;
    }
    return t;
  }
  // pdftotext: 1 = cannot open (also a wrong password), 3 = permissions. With -q it prints
  // nothing, so an /Encrypt entry in the input tells an encrypted file from a broken one.
  bool says_password = text::contains_ci(err, "password");
  bool has_encrypt = input.find("/Encrypt") != std::string_view::npos;
  if (code == 3 || (code == 1 && (says_password || has_encrypt))) {
    return fail(PdfStatus::encrypted, "the PDF is encrypted (password protected)");
  }
  std::string detail = "extractor exited with status " + std::to_string(code);
  if (std::string line = first_line(err); !line.empty()) detail += ": " + line;
  return fail(PdfStatus::broken, detail);
}

// The checks done before any process runs; nullopt when the bytes may go to pdftotext.
std::optional<PdfText> precheck(const std::string& pdftotext_path, std::string_view pdf_bytes,
                                const PdfLimits& limits) {
  if (pdf_bytes.size() > limits.max_input_bytes) {
    return fail(PdfStatus::too_large,
                "PDF larger than " + std::to_string(limits.max_input_bytes) + " bytes");
  }
  // A PDF starts with %PDF- within its first 1024 bytes (readers tolerate leading junk).
  if (pdf_bytes.substr(0, 1024).find("%PDF-") == std::string_view::npos) {
    return fail(PdfStatus::broken, "not a PDF (no %PDF- header)");
  }
  if (pdftotext_path.empty() || ::access(pdftotext_path.c_str(), X_OK) != 0) {
    return fail(PdfStatus::broken, "pdftotext not installed");
  }
  return std::nullopt;
}

std::vector<std::string> pdftotext_argv(const std::string& pdftotext_path,
                                        const PdfLimits& limits) {
  int pages = std::max(limits.max_pages, 1);
  return {pdftotext_path, "-q", "-enc", "UTF-8", "-layout", "-l", std::to_string(pages), "-", "-"};
}

}  // namespace

ConfinementDecision decide_document_confinement(const confinement::Support& support,
                                                bool allow_unconfined) {
  ConfinementDecision d;
  const std::string offered = support.summary();
  if (support.complete()) {
    d.level = allow_unconfined ? ConfinementDecision::Level::warn : ConfinementDecision::Level::ok;
    d.message = "document programs run confined: " + offered;
    if (allow_unconfined) {
      d.message += "; [limits] allow_unconfined_documents = true is not needed here (remove it)";
    }
    return d;
  }
  if (!allow_unconfined) {
    d.level = ConfinementDecision::Level::refuse;
    d.message = "document programs cannot be confined: " + offered +
                "; set [limits] allow_unconfined_documents = true to run them with what the "
                "kernel offers (docs/CONFINEMENT.md)";
    return d;
  }
  d.level = ConfinementDecision::Level::warn;
  d.mode = DocumentConfinement::best_effort;
  d.message =
      "document programs run only partly confined ([limits] allow_unconfined_documents "
      "= true): " +
      offered + " (docs/CONFINEMENT.md)";
  return d;
}

std::unique_ptr<confinement::Confinement> document_confinement(const std::string& program,
                                                               const PdfLimits& limits,
                                                               DocumentConfinement mode,
                                                               std::string& error) {
  confinement::Policy policy = confinement::document_policy(program);
  policy.rlimits = extractor_rlimits(limits);
  if (mode == DocumentConfinement::best_effort) {
    policy.landlock = confinement::Layer::if_available;
    policy.seccomp = confinement::Layer::if_available;
  }
  auto c = confinement::Confinement::prepare(policy, error);
  if (!c) error = "document confinement unavailable: " + error + " (docs/CONFINEMENT.md)";
  return c;
}

PdfText run_pdf_extractor(const std::vector<std::string>& argv_in, std::string_view input,
                          const PdfLimits& limits, const confinement::Confinement* confine) {
  Spawned child;
  if (auto failed = spawn_extractor(argv_in, limits, confine, child)) return *failed;
  return communicate(child, input, limits);
}

PdfText extract_pdf_text_with(const std::string& pdftotext_path, std::string_view pdf_bytes,
                              const PdfLimits& limits, DocumentConfinement mode) {
  if (auto refused = precheck(pdftotext_path, pdf_bytes, limits)) return *refused;
  std::string error;
  auto confine = document_confinement(pdftotext_path, limits, mode, error);
  if (!confine) return fail(PdfStatus::broken, error);
  return run_pdf_extractor(pdftotext_argv(pdftotext_path, limits), pdf_bytes, limits,
                           confine.get());
}

PdfText extract_pdf_text_sandboxed(std::string_view pdf_bytes, const PdfLimits& limits,
                                   DocumentConfinement mode) {
  return extract_pdf_text_with(find_pdftotext(), pdf_bytes, limits, mode);
}

// ---- the pool -------------------------------------------------------------------------------

struct PdfExtractorPool::Impl {
  std::mutex mutex;
  std::string path;
  PdfLimits limits;
  std::unique_ptr<confinement::Confinement> confine;
  std::string confine_error;  // why `confine` is null
  std::optional<Spawned> spare;
  PdfExtractorPool::Counters counters;

  // The spare when it is still waiting for its input; a spare that died while waiting (killed
  // from outside, out of memory at start-up) is reaped and dropped.
  std::optional<Spawned> take_spare() {
    if (!spare) return std::nullopt;
    Spawned s = std::move(*spare);
    spare.reset();
    int status = 0;
    pid_t r = ::waitpid(s.pid, &status, WNOHANG);
    if (r == 0) return s;
    // Reaped now, or by someone else (then its pid may be reused: never signal it again).
    ++counters.spares_lost;
    return std::nullopt;
  }

  void start_spare() {
    Spawned s;
    if (spawn_extractor(pdftotext_argv(path, limits), limits, confine.get(), s)) {
      ++counters.spawn_failures;  // the next document starts its own process
      return;
    }
    ++counters.started;
    spare = std::move(s);
  }
};

PdfExtractorPool::PdfExtractorPool(PdfLimits limits, std::string pdftotext_path,
                                   DocumentConfinement mode)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = std::move(pdftotext_path);
  impl_->limits = limits;
  if (!impl_->path.empty() && ::access(impl_->path.c_str(), X_OK) == 0) {
    impl_->confine = document_confinement(impl_->path, limits, mode, impl_->confine_error);
  }
}

PdfExtractorPool::~PdfExtractorPool() {
  if (impl_ && impl_->spare) discard(*impl_->spare);
}

PdfText PdfExtractorPool::extract(std::string_view pdf_bytes) {
  std::lock_guard lock(impl_->mutex);
  if (auto refused = precheck(impl_->path, pdf_bytes, impl_->limits)) return *refused;
  if (!impl_->confine) return fail(PdfStatus::broken, impl_->confine_error);
  std::optional<Spawned> child = impl_->take_spare();
  if (child) {
    ++impl_->counters.from_spare;
  } else {
    Spawned s;
    if (auto failed = spawn_extractor(pdftotext_argv(impl_->path, impl_->limits), impl_->limits,
                                      impl_->confine.get(), s)) {
      return *failed;
    }
    ++impl_->counters.started;
    child = std::move(s);
  }
  PdfText t = communicate(*child, pdf_bytes, impl_->limits);
  // The next document's process starts now, while the caller goes on with this one.
  impl_->start_spare();
  return t;
}

PdfExtractorPool::Counters PdfExtractorPool::counters() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->counters;
}

}  // namespace tilskudd
