#include "tests/support/imap_rewrite_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "tests/support/tcp_proxy.h"

namespace tilskudd::testing {

namespace {

bool write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t w = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (w <= 0) return false;
    off += static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

std::string strip_starttls(const std::string& line) {
  // SMTP: "250-STARTTLS" / "250 STARTTLS" is a line of its own; make it a harmless one.
  if (line.size() >= 12 && line.compare(0, 3, "250") == 0 && line.compare(4, 8, "STARTTLS") == 0)
    return line.substr(0, 4) + "X-NOTLS\r\n";
  // IMAP: a word of the CAPABILITY list (greeting code or response).
  std::string out = line;
  for (auto p = out.find(" STARTTLS"); p != std::string::npos; p = out.find(" STARTTLS"))
    out.erase(p, 9);
  return out;
}

ImapRewriteProxy::ImapRewriteProxy(int target_port, Hooks hooks)
    : target_port_(target_port), hooks_(std::move(hooks)) {
  listen_fd_ = listen_loopback(64, &port_);
  if (listen_fd_ < 0) throw std::runtime_error("ImapRewriteProxy: cannot listen");
  acceptor_ = std::thread([this] { accept_loop(); });
}

ImapRewriteProxy::~ImapRewriteProxy() {
  stop_ = true;
  {
    std::lock_guard lk(mu_);
    ::shutdown(listen_fd_, SHUT_RDWR);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& t : pumps_)
    if (t.joinable()) t.join();
  ::close(listen_fd_);
}

std::vector<std::string> ImapRewriteProxy::client_lines() const {
  std::lock_guard lk(mu_);
  return client_lines_;
}

void ImapRewriteProxy::accept_loop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    const int server = connect_loopback(target_port_);
    if (server < 0) {
      ::close(client);
      continue;
    }
    ++connections_;
    std::lock_guard lk(mu_);
    open_fds_.push_back(client);
    open_fds_.push_back(server);
    pumps_.emplace_back([this, client, server] { pump(client, server); });
  }
}

static bool is_starttls_command(const std::string& line) {
  std::string u;
  for (char c : line) u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  while (!u.empty() && (u.back() == '\n' || u.back() == '\r')) u.pop_back();
  return u == "STARTTLS" || (u.size() > 9 && u.compare(u.size() - 9, 9, " STARTTLS") == 0);
}

void ImapRewriteProxy::pump(int client, int server) {
  std::string pending[2];  // partial lines: from the client, from the server
  // After a STARTTLS command the bytes are TLS: passed through untouched (the client's at once,
  // the server's after its answer line).
  bool raw[2] = {false, false};
  bool server_raw_after_line = false;
  char buf[16384];
  pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
  bool done = false;
  while (!stop_ && !done) {
    if (::poll(p, 2, 100) <= 0) continue;
    for (int i = 0; i < 2 && !done; ++i) {
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::read(p[i].fd, buf, sizeof buf);
      if (n <= 0) {
        done = true;
        break;
      }
      const int to = i == 0 ? server : client;
      if (raw[i]) {
        done = !write_all(to, std::string(buf, static_cast<std::size_t>(n)));
        continue;
      }
      pending[i].append(buf, static_cast<std::size_t>(n));
      std::size_t nl;
      while (!done && !raw[i] && (nl = pending[i].find('\n')) != std::string::npos) {
        const std::string line = pending[i].substr(0, nl + 1);
        pending[i].erase(0, nl + 1);
        if (i == 0) {
          {
            std::lock_guard lk(mu_);
            client_lines_.push_back(line);
          }
          std::optional<std::string> answer;
          if (hooks_.from_client) answer = hooks_.from_client(line);
          done = answer ? !write_all(client, *answer) : !write_all(server, line);
          if (!answer && is_starttls_command(line)) {
            raw[0] = true;
            server_raw_after_line = true;
          }
        } else {
          done = !write_all(client, hooks_.from_server ? hooks_.from_server(line) : line);
          if (server_raw_after_line) raw[1] = true;
        }
      }
      if (raw[i] && !pending[i].empty()) {
        done = done || !write_all(to, pending[i]);
        pending[i].clear();
      }
    }
  }
  std::lock_guard lk(mu_);
  for (int fd : {client, server}) {
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  }
}

}  // namespace tilskudd::testing
