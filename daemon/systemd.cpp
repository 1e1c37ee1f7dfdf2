#include "daemon/systemd.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace tilskudd::systemd {

namespace {

// An unsigned decimal number that is the whole of `s`.
template <typename T>
std::optional<T> parse_unsigned(std::string_view s) {
  if (s.empty()) return std::nullopt;
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string_view env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string_view(v) : std::string_view();
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// The sockaddr for $NOTIFY_SOCKET's syntax: "/path" or "@abstract". False when it is neither
// or too long.
bool make_address(std::string_view name, sockaddr_un& addr, socklen_t& len) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (name.size() < 2 || (name[0] != '/' && name[0] != '@')) return false;
  if (name.find('\0') != std::string_view::npos) return false;
  if (name[0] == '/') {
    if (name.size() >= sizeof addr.sun_path) return false;  // room for the NUL
    std::memcpy(addr.sun_path, name.data(), name.size());
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + 1);
  } else {
    if (name.size() > sizeof addr.sun_path) return false;
    addr.sun_path[0] = '\0';  // the abstract namespace: no NUL terminator, the length counts
    std::memcpy(addr.sun_path + 1, name.data() + 1, name.size() - 1);
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
  }
  return true;
}

bool send_datagram(int fd, const sockaddr_un& addr, socklen_t len, std::string_view data) {
  while (true) {
    ssize_t n = ::sendto(fd, data.data(), data.size(), MSG_NOSIGNAL,
                         reinterpret_cast<const sockaddr*>(&addr), len);
    if (n >= 0) return static_cast<std::size_t>(n) == data.size();
    if (errno != EINTR) return false;
  }
}

// An entry too large for a datagram: written to a sealed memfd whose descriptor is the whole
// message (the protocol's way for large entries).
bool send_as_memfd(int fd, const sockaddr_un& addr, socklen_t len, std::string_view data) {
  Fd mem(::memfd_create("tilskudd-journal", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (mem.get() < 0) return false;
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(mem.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fcntl(mem.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) <
      0) {
    return false;
  }
  msghdr msg{};
  msg.msg_name = const_cast<sockaddr_un*>(&addr);
  msg.msg_namelen = len;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  const int passed = mem.get();
  std::memcpy(CMSG_DATA(c), &passed, sizeof passed);
  while (true) {
    if (::sendmsg(fd, &msg, MSG_NOSIGNAL) >= 0) return true;
    if (errno != EINTR) return false;
  }
}

}  // namespace

// ---- sd_notify -----------------------------------------------------------------------------

bool notify(std::string_view state) {
  const std::string_view name = env("NOTIFY_SOCKET");
  if (name.empty() || state.empty()) return false;
  sockaddr_un addr;
  socklen_t len = 0;
  if (!make_address(name, addr, len)) return false;
  Fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return false;
  return send_datagram(fd.get(), addr, len, state);
}

bool ready() {
  return notify("READY=1");
}

bool status(std::string_view text) {
  std::string s = "STATUS=";
  s.reserve(s.size() + text.size());
  for (char c : text) s.push_back(c == '\n' || c == '\r' ? ' ' : c);
  return notify(s);
}

bool watchdog() {
  return notify("WATCHDOG=1");
}

bool stopping() {
  return notify("STOPPING=1");
}

bool reloading() {
  return notify("RELOADING=1");
}

std::optional<std::chrono::microseconds> watchdog_interval() {
  const std::string_view pid_text = env("WATCHDOG_PID");
  if (!pid_text.empty()) {
    auto pid = parse_unsigned<unsigned long long>(pid_text);
    if (!pid || *pid != static_cast<unsigned long long>(::getpid())) return std::nullopt;
  }
  auto usec = parse_unsigned<unsigned long long>(env("WATCHDOG_USEC"));
  if (!usec || *usec == 0 ||
      *usec > static_cast<unsigned long long>(std::chrono::microseconds::max().count())) {
    return std::nullopt;
  }
  return std::chrono::microseconds(static_cast<std::chrono::microseconds::rep>(*usec));
}

bool under_journald() {
  const std::string_view v = env("JOURNAL_STREAM");
  const auto colon = v.find(':');
  if (colon == std::string_view::npos) return false;
  auto dev = parse_unsigned<unsigned long long>(v.substr(0, colon));
  auto ino = parse_unsigned<unsigned long long>(v.substr(colon + 1));
  if (!dev || !ino) return false;
  struct stat st;
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == *dev &&
         static_cast<unsigned long long>(st.st_ino) == *ino;
}

// ---- the journal's native protocol ---------------------------------------------------------

bool valid_journal_field_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  if (name[0] == '_' || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

std::string journal_serialize(const JournalFields& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!valid_journal_field_name(name)) continue;
    out += name;
    if (value.find('\n') == std::string::npos) {
      out += '=';
      out += value;
    } else {
      out += '\n';
      std::uint64_t n = value.size();
      for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
      out += value;
    }
    out += '\n';
  }
  return out;
}

JournalWriter::JournalWriter(std::string socket_path) : path_(std::move(socket_path)) {
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

JournalWriter::~JournalWriter() {
  if (fd_ >= 0) ::close(fd_);
}

bool JournalWriter::send(const JournalFields& fields) {
  if (fd_ < 0 || path_.empty() || path_[0] != '/') return false;
  sockaddr_un addr;
  socklen_t len = 0;
  if (!make_address(path_, addr, len)) return false;
  const std::string entry = journal_serialize(fields);
  if (entry.empty()) return false;
  if (send_datagram(fd_, addr, len, entry)) return true;
  // Too large for one datagram (the socket's send buffer): the memfd way.
  if (errno == EMSGSIZE || errno == ENOBUFS) return send_as_memfd(fd_, addr, len, entry);
  return false;
}

}  // namespace tilskudd::systemd
