// A line-rewriting TCP proxy on loopback, for wire tests of a plaintext IMAP or SMTP session in
// front of the real server (tests/support/tcp_proxy.h forwards bytes untouched; this one reads
// lines). Each line from the server passes through `from_server` (whose result, possibly
// empty or several lines, is what the client gets); each line from the client passes through
// `from_client`, which may answer the client itself instead of forwarding (the server then sees
// nothing of it). Lines keep their CRLF. Literals are passed line by line like anything else:
// hooks match the lines they mean and return the rest unchanged. Plaintext only: once TLS
// starts the lines are noise, so tests use it for imap:// / smtp:// with allow_insecure, or to
// strip STARTTLS (a downgrade attack, which the client must refuse).
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace tilskudd::testing {

class ImapRewriteProxy {
 public:
  struct Hooks {
    std::function<std::string(const std::string& line)> from_server;
    std::function<std::optional<std::string>(const std::string& line)> from_client;
  };
  ImapRewriteProxy(int target_port, Hooks hooks);
  ~ImapRewriteProxy();
  ImapRewriteProxy(const ImapRewriteProxy&) = delete;
  ImapRewriteProxy& operator=(const ImapRewriteProxy&) = delete;

  int port() const { return port_; }
  int connections() const { return connections_; }
  // Every line the client sent so far (before from_client), in order, over all connections.
  std::vector<std::string> client_lines() const;

 private:
  void accept_loop();
  void pump(int client, int server);

  int target_port_;
  Hooks hooks_;
  int port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  mutable std::mutex mu_;
  std::vector<std::string> client_lines_;
  std::vector<int> open_fds_;
  std::thread acceptor_;
  std::vector<std::thread> pumps_;
};

// Removes the STARTTLS capability from a server line (IMAP CAPABILITY / greeting, SMTP EHLO).
std::string strip_starttls(const std::string& line);

}  // namespace tilskudd::testing
