// SmtpSession: the outbox's mails over one SMTP connection, against a scripted fake server
// that records which commands came on which connection.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "daemon/smtp_sender.h"
#include "tests/support/tcp_proxy.h"

using namespace tilskudd;
using namespace std::chrono_literals;

namespace {

// Serves connections one after the other. The reply to each mail's end of data is taken from
// `replies` in order (250 when it runs out); `close_after_mails` closes a connection silently
// after that many accepted mails (a server's idle timeout).
class FakeServer {
 public:
  explicit FakeServer(std::deque<std::string> replies, int close_after_mails = 0)
      : replies_(std::move(replies)), close_after_(close_after_mails) {
    listen_fd_ = tilskudd::testing::listen_loopback(4, &port_);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeServer() { stop(); }
  void stop() {
    if (!thread_.joinable()) return;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    thread_.join();
  }
  int port() const { return port_; }
  // The command verbs of each connection, and the messages received.
  std::vector<std::string> connections() {
    std::lock_guard lock(mutex_);
    return connections_;
  }
  std::vector<std::string> messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }

 private:
  static void say(int fd, const std::string& s) { ::send(fd, s.data(), s.size(), MSG_NOSIGNAL); }
  static bool read_line(int fd, std::string& buf, std::string& line) {
    while (true) {
      const auto nl = buf.find("\r\n");
      if (nl != std::string::npos) {
        line = buf.substr(0, nl);
        buf.erase(0, nl + 2);
        return true;
      }
      char tmp[4096];
      const ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) return false;
      buf.append(tmp, static_cast<std::size_t>(n));
    }
  }
  void note(std::size_t conn, const std::string& verb) {
    std::lock_guard lock(mutex_);
    connections_[conn] += verb + " ";
  }

  void serve() {
    for (;;) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      std::size_t conn = 0;
      {
        std::lock_guard lock(mutex_);
        connections_.emplace_back();
        conn = connections_.size() - 1;
      }
      say(fd, "220 fake ESMTP\r\n");
      std::string buf, line;
      int accepted = 0;
      while (read_line(fd, buf, line)) {
        const std::string verb = line.substr(0, 4);
        note(conn, verb);
        if (verb == "EHLO") {
          say(fd, "250-fake\r\n250 8BITMIME\r\n");
        } else if (verb == "MAIL" || verb == "RCPT" || verb == "RSET" || verb == "NOOP") {
          say(fd, "250 2.1.0 Ok\r\n");
        } else if (verb == "DATA") {
          say(fd, "354 go ahead\r\n");
          std::string data;
          bool dot = false;
          while (read_line(fd, buf, line)) {
            if (line == ".") {
              dot = true;
              break;
            }
            data += line + "\r\n";
          }
          if (!dot) break;  // the connection ended inside the data: nothing was delivered
          std::string reply = "250 2.0.0 Ok: queued";
          {
            std::lock_guard lock(mutex_);
            messages_.push_back(data);
            if (!replies_.empty()) {
              reply = replies_.front();
              replies_.pop_front();
            }
          }
          say(fd, reply + "\r\n");
          if (reply[0] == '2' && ++accepted == close_after_) break;
        } else if (verb == "QUIT") {
          say(fd, "221 2.0.0 Bye\r\n");
          break;
        } else {
          say(fd, "502 5.5.2 Command not recognized\r\n");
        }
      }
      ::close(fd);
    }
  }

  std::deque<std::string> replies_;
  int close_after_ = 0;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> connections_;
  std::vector<std::string> messages_;
};

SmtpOptions options(const FakeServer& f) {
  SmtpOptions o;
  o.url = "smtp://127.0.0.1:" + std::to_string(f.port());
  o.allow_insecure = true;
  o.connect_timeout = 5s;
  o.timeout = 10s;
  return o;
}

std::string mail(int i) {
  return "From: post@asker.test\r\nTo: kari@x.no\r\nSubject: Vedtak " + std::to_string(i) +
         "\r\n\r\nHei " + std::to_string(i) + "\r\n";
}

TEST(SmtpSession, MailsShareOneConnectionEachWithItsOwnTransactionAndDataStep) {
  FakeServer server({});
  int handed_over = 0;
  {
    SmtpSession session(options(server));
    for (int i = 0; i < 3; ++i) {
      SmtpResult r = session.send("post@asker.test", "kari@x.no", mail(i), [&] { ++handed_over; });
      EXPECT_EQ(r.outcome, SendOutcome::accepted) << r.detail;
    }
    EXPECT_EQ(session.connections(), 1);
  }  // QUIT
  server.stop();
  EXPECT_EQ(handed_over, 3);
  auto conns = server.connections();
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0], "EHLO MAIL RCPT DATA MAIL RCPT DATA MAIL RCPT DATA QUIT ");
  auto msgs = server.messages();
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_NE(msgs[2].find("Subject: Vedtak 2"), std::string::npos);
}

TEST(SmtpSession, AFailedMailClosesTheConnectionAndTheNextStartsAFreshOne) {
  FakeServer server({"250 2.0.0 Ok", "554 5.7.1 Rejected as spam", "451 4.3.0 Try later"});
  SmtpSession session(options(server));
  EXPECT_EQ(session.send("post@asker.test", "kari@x.no", mail(0)).outcome, SendOutcome::accepted);
  SmtpResult refused = session.send("post@asker.test", "kari@x.no", mail(1));
  EXPECT_EQ(refused.outcome, SendOutcome::permanent) << refused.detail;
  EXPECT_FALSE(refused.data_handed_over);  // a definite answer to the data
  SmtpResult deferred = session.send("post@asker.test", "kari@x.no", mail(2));
  EXPECT_EQ(deferred.outcome, SendOutcome::temporary) << deferred.detail;
  SmtpResult ok = session.send("post@asker.test", "kari@x.no", mail(3));
  EXPECT_EQ(ok.outcome, SendOutcome::accepted) << ok.detail;
  EXPECT_EQ(session.connections(), 3);
  auto conns = server.connections();
  ASSERT_EQ(conns.size(), 3u);
  // No transaction is continued on a connection after a failure.
  EXPECT_EQ(conns[0].rfind("EHLO MAIL RCPT DATA MAIL RCPT DATA", 0), 0u) << conns[0];
  EXPECT_EQ(conns[0].find("MAIL", conns[0].find("DATA MAIL RCPT DATA") + 10), std::string::npos)
      << conns[0];
  EXPECT_EQ(conns[1].rfind("EHLO MAIL RCPT DATA", 0), 0u) << conns[1];
  EXPECT_EQ(conns[2].rfind("EHLO MAIL RCPT DATA", 0), 0u) << conns[2];
}

TEST(SmtpSession, ConnectionClosedByTheServerWhileIdleIsReplaced) {
  FakeServer server({}, /*close_after_mails=*/1);
  SmtpSession session(options(server));
  EXPECT_EQ(session.send("post@asker.test", "kari@x.no", mail(0)).outcome, SendOutcome::accepted);
  std::this_thread::sleep_for(100ms);  // the server has closed its end
  SmtpResult r = session.send("post@asker.test", "kari@x.no", mail(1));
  EXPECT_EQ(r.outcome, SendOutcome::accepted) << r.detail;
  EXPECT_EQ(server.messages().size(), 2u);
  EXPECT_EQ(session.connections(), 2);
}

TEST(SmtpSession, InvalidRecipientSendsNothingAndKeepsTheSessionUsable) {
  FakeServer server({});
  SmtpSession session(options(server));
  EXPECT_EQ(session.send("post@asker.test", "kari@x.no", mail(0)).outcome, SendOutcome::accepted);
  EXPECT_EQ(session.send("post@asker.test", "bad address", mail(1)).outcome,
            SendOutcome::permanent);
  EXPECT_EQ(session.send("post@asker.test", "ola@x.no", mail(2)).outcome, SendOutcome::accepted);
  EXPECT_EQ(session.connections(), 1);
  EXPECT_EQ(server.messages().size(), 2u);
}

// Was a bug (fixed): curl knows the message's size (CURLOPT_INFILESIZE_LARGE) and never calls
// the read callback again after the last byte, so data_complete was never called and the
// outbox never recorded the data step (a crash after the data made the mail `pending` again,
// and it was sent twice).
TEST(SmtpSend, DataCompleteIsCalledOnceBeforeTheEndOfData) {
  FakeServer server({});
  int n = 0;
  SmtpResult r = smtp_send(options(server), "post@asker.test", "kari@x.no", mail(0), [&] { ++n; });
  EXPECT_EQ(r.outcome, SendOutcome::accepted) << r.detail;
  EXPECT_EQ(n, 1);
}

TEST(SmtpSend, FailingDataCompleteAbortsBeforeTheEndOfData) {
  FakeServer server({});
  SmtpResult r = smtp_send(options(server), "post@asker.test", "kari@x.no", mail(0),
                           [] { throw std::runtime_error("disk full"); });
  EXPECT_EQ(r.outcome, SendOutcome::temporary);
  EXPECT_FALSE(r.data_handed_over) << r.detail;
  server.stop();
  EXPECT_TRUE(server.messages().empty());  // no terminating dot: nothing was delivered
}

}  // namespace
