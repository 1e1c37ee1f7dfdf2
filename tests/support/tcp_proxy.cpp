#include "tests/support/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace tilskudd::testing {

int connect_loopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int listen_loopback(int backlog, int* bound_port, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, backlog) != 0) {
    ::close(fd);
    return -1;
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  if (bound_port) *bound_port = ntohs(a.sin_port);
  return fd;
}

TcpProxy::TcpProxy(int target_port) : target_port_(target_port) {
  listen_on();
  acceptor_ = std::thread([this] { accept_loop(); });
}

TcpProxy::~TcpProxy() {
  stop_ = true;
  set_up(false);
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& t : pumps_)
    if (t.joinable()) t.join();
}

void TcpProxy::listen_on() {
  const int fd = listen_loopback(64, &port_, port_);
  if (fd < 0) throw std::runtime_error("TcpProxy: cannot listen");
  std::lock_guard lk(mu_);
  listen_fd_ = fd;
}

void TcpProxy::set_up(bool up) {
  std::lock_guard lk(mu_);
  up_ = up;
  if (!up) {
    if (listen_fd_ >= 0) {
      ::shutdown(listen_fd_, SHUT_RDWR);
      ::close(listen_fd_);
      listen_fd_ = -1;
    }
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
}

void TcpProxy::accept_loop() {
  while (!stop_) {
    int lfd;
    {
      std::lock_guard lk(mu_);
      lfd = listen_fd_;
    }
    if (lfd < 0) {
      if (up_ && !stop_) {
        listen_on();  // back up on the same port
        continue;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    pollfd p{lfd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int client = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    int server = connect_loopback(target_port_);
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

void TcpProxy::pump(int client, int server) {
  char buf[16384];
  std::size_t from_server_here = 0;
  pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
  while (!stop_) {
    if (::poll(p, 2, 100) <= 0) continue;
    bool done = false;
    for (int i = 0; i < 2 && !done; ++i) {
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(p[i].fd, buf, sizeof buf);
      if (n <= 0) {
        done = true;
        break;
      }
      std::size_t len = static_cast<std::size_t>(n);
      if (i == 1) {
        const std::size_t limit = cut_after_;
        if (limit > 0 && from_server_here + len >= limit) {
          // Forward part of it, then drop the connection in the middle.
          std::size_t part = limit > from_server_here ? limit - from_server_here : 0;
          if (part > 0) (void)!::write(client, buf, part);
          done = true;
          break;
        }
        from_server_here += len;
        from_server_ += len;
      } else {
        to_server_ += len;
      }
      const int to = i == 0 ? server : client;
      std::size_t off = 0;
      while (off < len) {
        ssize_t w = ::write(to, buf + off, len - off);
        if (w <= 0) {
          done = true;
          break;
        }
        off += static_cast<std::size_t>(w);
      }
    }
    if (done) break;
  }
  std::lock_guard lk(mu_);
  for (int fd : {client, server}) {
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
    open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  }
}

}  // namespace tilskudd::testing
