// A TCP forwarder on loopback for fault tests: it accepts on its own port and forwards to a
// target port, and can be switched off (connections refused, as a stopped server), told to drop
// every connection after a number of bytes from the server (a connection lost mid-literal), or
// to cut all open connections. TLS passes through untouched.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace tilskudd::testing {

// A listening TCP socket on 127.0.0.1 (`port` 0: any free port); the port it got goes to
// *bound_port. Returns the descriptor, or -1 when it cannot bind or listen.
int listen_loopback(int backlog, int* bound_port, int port = 0);

// A TCP connection to 127.0.0.1:`port` (SOCK_CLOEXEC), or -1.
int connect_loopback(int port);

class TcpProxy {
 public:
  explicit TcpProxy(int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  // Off: the listening socket is closed (connect() is refused) and open connections are cut.
  void set_up(bool up);
  // Cut every connection once this many bytes came from the server on it (0: never).
  void cut_after(std::size_t server_bytes) { cut_after_ = server_bytes; }
  std::size_t connections() const { return connections_; }
  std::uint64_t bytes_from_server() const { return from_server_; }
  std::uint64_t bytes_to_server() const { return to_server_; }

 private:
  void listen_on();
  void accept_loop();
  void pump(int client, int server);

  int target_port_;
  int port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<bool> up_{true};
  std::atomic<std::size_t> cut_after_{0};
  std::atomic<std::size_t> connections_{0};
  std::atomic<std::uint64_t> from_server_{0};
  std::atomic<std::uint64_t> to_server_{0};
  std::mutex mu_;
  std::vector<int> open_fds_;
  std::thread acceptor_;
  std::vector<std::thread> pumps_;
};

}  // namespace tilskudd::testing
