#include "tests/support/mail_servers.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>

#ifndef TILSKUDD_SOURCE_DIR
#error "TILSKUDD_SOURCE_DIR must be defined"
#endif

namespace tilskudd::testing {

namespace {

std::string script() {
  return std::string(TILSKUDD_SOURCE_DIR) + "/tests/integration/mailservers.sh";
}

std::string cyrus_script() {
  return std::string(TILSKUDD_SOURCE_DIR) + "/tests/integration/cyrus.sh";
}

std::map<std::string, std::string> read_env(const std::string& dir,
                                            const std::string& which = script()) {
  std::string out;
  run_command(which + " env '" + dir + "'", &out);
  std::map<std::string, std::string> env;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("export ", 0) != 0) continue;
    const auto eq = line.find('=');
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '\'') value = value.substr(1, value.size() - 2);
    env[line.substr(7, eq - 7)] = value;
  }
  return env;
}

MailServers* g_servers = nullptr;

// Passwords changed by set_password, by user.
std::map<std::string, std::string>& changed_passwords() {
  static std::map<std::string, std::string> m;
  return m;
}

void stop_at_exit() {
  if (g_servers && g_servers->started_here) {
    run_command(script() + " stop '" + g_servers->dir + "' >/dev/null 2>&1");
    std::error_code ec;
    std::filesystem::remove_all(g_servers->dir, ec);
  }
}

struct ReadSource {
  const std::string* data;
  std::size_t pos = 0;
};

size_t read_cb(char* buf, size_t size, size_t n, void* user) {
  auto* src = static_cast<ReadSource*>(user);
  const std::size_t len = std::min(size * n, src->data->size() - src->pos);
  std::memcpy(buf, src->data->data() + src->pos, len);
  src->pos += len;
  return len;
}

}  // namespace

int run_command(const std::string& cmd, std::string* out) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return -1;
  }
  if (pid == 0) {
    // The child: async-signal-safe calls only (the test may have threads).
    if (::dup2(fds[1], 1) < 0) ::_exit(127);
    ::close_range(3, ~0U, 0);
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::array<char, 4096> buf{};
  std::string text;
  while (true) {
    const ssize_t n = ::read(fds[0], buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf.data(), static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (out) *out = text;
  return status;
}

void lmtp_deliver(int port, const std::string& from, const std::string& to,
                  const std::string& raw) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("LMTP: socket failed");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error("LMTP: cannot connect to 127.0.0.1:" + std::to_string(port));
  }
  std::string pending;
  // One reply (its last line "NNN text"); throws unless its code starts with `want`.
  auto reply = [&](char want, const std::string& after) {
    std::string all;
    while (true) {
      const auto eol = pending.find("\r\n");
      if (eol == std::string::npos) {
        if (pending.size() > 64 * 1024) throw std::runtime_error("LMTP: reply too long");
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) throw std::runtime_error("LMTP: connection lost after " + after);
        pending.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      const std::string line = pending.substr(0, eol);
      pending.erase(0, eol + 2);
      all += line + "\n";
      if (line.size() < 4 || line[3] != '-') {
        if (line.empty() || line[0] != want) {
          throw std::runtime_error("LMTP: after " + after + " the server said: " + all);
        }
        return;
      }
    }
  };
  auto send = [&](const std::string& data) {
    std::size_t at = 0;
    while (at < data.size()) {
      const ssize_t n = ::send(fd, data.data() + at, data.size() - at, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("LMTP: send failed");
      at += static_cast<std::size_t>(n);
    }
  };
  reply('2', "connect");
  send("LHLO test.local\r\n");
  reply('2', "LHLO");
  send("MAIL FROM:<" + from + ">\r\n");
  reply('2', "MAIL FROM");
  send("RCPT TO:<" + to + ">\r\n");
  reply('2', "RCPT TO");
  send("DATA\r\n");
  reply('3', "DATA");
  // Lines end in CRLF on the wire; a line that starts with '.' gets one more.
  std::string body;
  body.reserve(raw.size() + raw.size() / 50 + 8);
  bool line_start = true;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char ch = raw[i];
    if (line_start && ch == '.') body += '.';
    if (ch == '\n' && (i == 0 || raw[i - 1] != '\r')) body += '\r';
    body += ch;
    line_start = ch == '\n';
  }
  if (!line_start) body += "\r\n";
  body += ".\r\n";
  send(body);
  reply('2', "the message");  // one reply per recipient: one recipient
  send("QUIT\r\n");
}

MailServers& MailServers::get() {
  if (g_servers) return *g_servers;
  g_servers = new MailServers;
  MailServers& s = *g_servers;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (const char* d = std::getenv("TILSKUDD_MAIL_DIR"); d && *d) {
    s.dir = d;
  } else {
    if (::geteuid() != 0) {
      s.skip_reason = "needs root to start Dovecot and OpenSMTPD";
      return s;
    }
    if (run_command("command -v dovecot >/dev/null && command -v smtpd >/dev/null") != 0) {
      s.skip_reason = "dovecot or smtpd not installed";
      return s;
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "tilskudd-mail-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) {
      s.skip_reason = "mkdtemp failed";
      return s;
    }
    s.dir = tmpl;
    s.started_here = true;
    std::atexit(stop_at_exit);
  }
  std::string out;
  if (run_command(script() + " start '" + s.dir + "' 2>&1", &out) != 0) {
    // Not a skip: the machine has what it needs, so a failure to start is a failure.
    throw std::runtime_error("mailservers.sh start failed: " + out);
  }
  s.env = read_env(s.dir);
  return s;
}

std::string MailServers::var(const std::string& name) const {
  auto it = env.find(name);
  if (it == env.end()) throw std::runtime_error("mailservers.sh env has no " + name);
  return it->second;
}

std::string MailServers::imaps_url() const {
  return "imaps://127.0.0.1:" + var("TILSKUDD_IMAPS_PORT") + "/INBOX";
}

std::string MailServers::smtp_url() const {
  return "smtp://127.0.0.1:" + var("TILSKUDD_SMTP_PORT");
}

std::string MailServers::ca_file() const {
  return var("TILSKUDD_MAIL_CA");
}

void smtp_deliver(const std::string& from, const std::string& to, const std::string& raw) {
  smtp_deliver_at(MailServers::get().smtp_url(), from, to, raw);
}

void smtp_deliver_at(const std::string& smtp_url, const std::string& from, const std::string& to,
                     const std::string& raw) {
  CURL* h = curl_easy_init();
  if (!h) throw std::runtime_error("curl_easy_init failed");
  const std::string url = smtp_url + "/test.local";
  const std::string mail_from = "<" + from + ">";
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + to + ">").c_str());
  ReadSource src{&raw};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt(h, CURLOPT_READDATA, &src);
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(raw.size()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
  const CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(h);
  if (rc != CURLE_OK) {
    throw std::runtime_error(std::string("SMTP delivery failed: ") + curl_easy_strerror(rc));
  }
}

std::unique_ptr<ImapClient> imap_login(const std::string& user) {
  const MailServers& s = MailServers::get();
  ImapOptions o;
  o.url = s.imaps_url();
  o.username = user;
  auto changed = changed_passwords().find(user);
  o.password = changed != changed_passwords().end() ? changed->second
                                                    : "secret-" + user.substr(0, user.find('@'));
  o.ca_file = s.ca_file();
  o.connect_timeout = std::chrono::seconds(10);
  o.command_timeout = std::chrono::seconds(20);
  auto c = std::make_unique<ImapClient>(o);
  c->connect();
  return c;
}

void set_password(const std::string& user, const std::string& password) {
  const MailServers& s = MailServers::get();
  if (password.empty()) {
    changed_passwords().erase(user);
  } else {
    changed_passwords()[user] = password;
  }
  std::string text;
  for (const auto& [u, p] : changed_passwords()) text += u + ":" + p + "\n";
  const std::filesystem::path path = std::filesystem::path(s.dir) / "passwd.changed";
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp.string());
  }
  std::filesystem::permissions(tmp, std::filesystem::perms(0644));
  // Dovecot rereads the file when its mtime (in seconds) or size changed: make each version's
  // mtime a later second than the one before.
  static std::time_t last = 0;
  last = std::max(last + 1, std::time(nullptr));
  const struct timespec times[2] = {{last, 0}, {last, 0}};
  if (::utimensat(AT_FDCWD, tmp.c_str(), times, 0) != 0) {
    throw std::runtime_error("utimensat " + tmp.string());
  }
  std::filesystem::rename(tmp, path);
  // Dovecot looks at the file at most once a second: let that second pass, then check that
  // the server has the new password.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  imap_login(user)->logout();
}

void kick_sessions(const std::string& user) {
  const MailServers& s = MailServers::get();
  std::string out;
  if (run_command("doveadm -c '" + s.dir + "/dovecot.conf' kick '" + user + "' 2>&1", &out) != 0) {
    throw std::runtime_error("doveadm kick failed: " + out);
  }
}

std::string dovecot_log() {
  const MailServers& s = MailServers::get();
  std::ifstream in(std::filesystem::path(s.dir) / "log" / "dovecot.log", std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool wait_for_messages(const std::string& user, std::uint32_t count,
                       std::chrono::milliseconds timeout) {
  auto c = imap_login(user);
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (c->status("INBOX").messages >= count) return true;
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::vector<StoredMessage> inbox(const std::string& user) {
  auto c = imap_login(user);
  MailboxInfo info = c->examine("INBOX");
  std::vector<StoredMessage> out;
  if (info.exists == 0) return out;
  for (const MessageMeta& m : c->uid_fetch_meta("1:*")) {
    StoredMessage s;
    s.uid = m.uid;
    s.flags = m.flags;
    s.raw = c->uid_fetch_body_peek(m.uid).value_or("");
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.uid < b.uid; });
  c->logout();
  return out;
}

bool has_flag(const StoredMessage& m, const std::string& flag) {
  return std::find(m.flags.begin(), m.flags.end(), flag) != m.flags.end();
}

// ---- ImapServer ---------------------------------------------------------------------------

namespace {

ImapServer* g_dovecot = nullptr;
ImapServer* g_cyrus = nullptr;

std::string local_part(const std::string& user) {
  return user.substr(0, user.find('@'));
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

void stop_cyrus_at_exit() {
  if (g_cyrus && g_cyrus->started_here_) {
    run_command(cyrus_script() + " stop '" + g_cyrus->dir_ + "' >/dev/null 2>&1");
    std::error_code ec;
    std::filesystem::remove_all(g_cyrus->dir_, ec);
  }
}

ImapServer& ImapServer::get(const std::string& name) {
  if (name == "Dovecot") {
    if (g_dovecot) return *g_dovecot;
    g_dovecot = new ImapServer(name);
    MailServers& m = MailServers::get();
    g_dovecot->skip_reason_ = m.skip_reason;
    g_dovecot->dir_ = m.dir;
    g_dovecot->env_ = m.env;
    return *g_dovecot;
  }
  if (name != "Cyrus") throw std::invalid_argument("no test IMAP server " + name);
  // A Cyrus that failed to start (or, under CI=true, cannot run here) fails every test that asks
  // for it, not just the first.
  static std::string ci_failure;
  if (!ci_failure.empty()) throw std::runtime_error(ci_failure);
  if (g_cyrus) return *g_cyrus;
  g_cyrus = new ImapServer(name);
  ImapServer& s = *g_cyrus;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (const char* d = std::getenv("TILSKUDD_CYRUS_DIR"); d && *d) {
    s.dir_ = d;
  } else {
    const char* root_env = std::getenv("TILSKUDD_CYRUS_ROOT");
    const std::string root = root_env && *root_env ? root_env : "/opt/tilskudd-test/cyrus";
    if (::geteuid() != 0) {
      s.skip_reason_ = "Cyrus IMAP: needs root to start it";
    } else if (::access((root + "/usr/lib/cyrus/bin/master").c_str(), X_OK) != 0) {
      s.skip_reason_ = "Cyrus IMAP is not unpacked in " + root +
                       " (scripts/setup unpacks Debian's cyrus-common, cyrus-imapd and sasl2-bin "
                       "there)";
    }
    if (!s.skip_reason_.empty()) {
      // CI installs it (scripts/setup): there a missing Cyrus must not pass as a skip.
      if (const char* ci = std::getenv("CI"); ci && std::string(ci) == "true") {
        ci_failure = s.skip_reason_ + ", and CI=true (CI runs scripts/setup)";
        throw std::runtime_error(ci_failure);
      }
      return s;
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "tilskudd-cyrus-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    s.dir_ = tmpl;
    s.started_here_ = true;
    std::atexit(stop_cyrus_at_exit);
  }
  std::string out;
  if (run_command(cyrus_script() + " start '" + s.dir_ + "' 2>&1", &out) != 0) {
    ci_failure = "cyrus.sh start failed: " + out;  // for every later test too
    throw std::runtime_error(ci_failure);
  }
  s.env_ = read_env(s.dir_, cyrus_script());
  return s;
}

std::string ImapServer::var(const std::string& key) const {
  auto it = env_.find(key);
  if (it == env_.end()) throw std::runtime_error(name_ + ": no " + key + " in its env");
  return it->second;
}

std::string ImapServer::imaps_url() const {
  return "imaps://127.0.0.1:" +
         var(name_ == "Cyrus" ? "TILSKUDD_CYRUS_IMAPS_PORT" : "TILSKUDD_IMAPS_PORT") + "/INBOX";
}

std::string ImapServer::imap_url() const {
  return "imap://127.0.0.1:" +
         var(name_ == "Cyrus" ? "TILSKUDD_CYRUS_IMAP_PORT" : "TILSKUDD_IMAP_PORT") + "/INBOX";
}

std::string ImapServer::ca_file() const {
  return var(name_ == "Cyrus" ? "TILSKUDD_CYRUS_CA" : "TILSKUDD_MAIL_CA");
}

std::string ImapServer::personal_folder(const std::string& leaf) const {
  return name_ == "Cyrus" ? "INBOX." + leaf : leaf;
}

void ImapServer::add_user(const std::string& user) {
  if (name_ != "Cyrus") return;
  std::string out;
  if (run_command(cyrus_script() + " adduser '" + dir_ + "' '" + user + "' 'secret-" +
                      local_part(user) + "' 2>&1",
                  &out) != 0) {
    throw std::runtime_error("cyrus.sh adduser " + user + " failed: " + out);
  }
}

void ImapServer::deliver(const std::string& from, const std::string& to, const std::string& raw) {
  if (name_ == "Cyrus") {
    lmtp_deliver(std::stoi(var("TILSKUDD_CYRUS_LMTP_PORT")), from, to, raw);
  } else {
    smtp_deliver(from, to, raw);
  }
}

std::unique_ptr<ImapClient> ImapServer::login(const std::string& user) {
  if (name_ != "Cyrus") return imap_login(user);
  ImapOptions o;
  o.url = imaps_url();
  o.username = user;
  o.password = "secret-" + local_part(user);
  o.ca_file = ca_file();
  o.connect_timeout = std::chrono::seconds(10);
  o.command_timeout = std::chrono::seconds(20);
  auto c = std::make_unique<ImapClient>(o);
  c->connect();
  return c;
}

bool ImapServer::wait_for_messages(const std::string& user, std::uint32_t count,
                                   std::chrono::milliseconds timeout, const std::string& mailbox) {
  auto c = login(user);
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (c->status(mailbox).messages >= count) return true;
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::vector<StoredMessage> ImapServer::messages(const std::string& user,
                                                const std::string& mailbox) {
  auto c = login(user);
  MailboxInfo info = c->examine(mailbox);
  std::vector<StoredMessage> out;
  if (info.exists == 0) return out;
  for (const MessageMeta& m : c->uid_fetch_meta("1:*")) {
    StoredMessage s;
    s.uid = m.uid;
    s.flags = m.flags;
    s.raw = c->uid_fetch_body_peek(m.uid).value_or("");
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.uid < b.uid; });
  c->logout();
  return out;
}

namespace {

void run_or_throw(const std::string& cmd) {
  std::string out;
  if (run_command(cmd + " 2>&1", &out) != 0) throw std::runtime_error(cmd + ": " + out);
}

}  // namespace

std::uint32_t ImapServer::renew_uidvalidity(const std::string& user) {
  auto uidvalidity = [&] { return login(user)->status("INBOX").uidvalidity; };
  const std::uint32_t old = uidvalidity();
  if (name_ != "Cyrus") {
    run_or_throw("doveadm -c '" + dir_ + "/dovecot.conf' mailbox update -u '" + user +
                 "' --uid-validity " + std::to_string(old + 1000) + " INBOX");
    return uidvalidity();
  }
  // reconstruct takes the time in seconds for the new UIDVALIDITY: within the second the
  // mailbox was made it may come out the same.
  for (int i = 0; i < 3; ++i) {
    run_or_throw(cyrus_script() + " restore '" + dir_ + "' '" + user + "'");
    const std::uint32_t now = uidvalidity();
    if (now != old) return now;
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  }
  throw std::runtime_error("Cyrus kept the UIDVALIDITY of " + user + "'s INBOX");
}

void ImapServer::expunge_inbox(const std::string& user) {
  if (name_ != "Cyrus") {
    run_or_throw("doveadm -c '" + dir_ + "/dovecot.conf' expunge -u '" + user +
                 "' mailbox INBOX all");
  } else {
    run_or_throw(cyrus_script() + " expunge '" + dir_ + "' '" + user + "'");
  }
}

std::string ImapServer::session_log(const std::string& user) const {
  if (name_ != "Cyrus") return dovecot_log();
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(
           std::filesystem::path(dir_) / "lib" / "log" / user, ec);
       !ec && it != std::filesystem::directory_iterator(); ++it) {
    files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  std::string text;
  for (const auto& f : files) text += "== " + f.filename().string() + "\n" + read_file(f);
  return text;
}

}  // namespace tilskudd::testing
