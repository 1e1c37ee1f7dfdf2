#include "tests/support/mail_servers.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
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

std::map<std::string, std::string> read_env(const std::string& dir) {
  std::string out;
  run_command(script() + " env '" + dir + "'", &out);
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
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::array<char, 4096> buf{};
  std::string text;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) text.append(buf.data(), n);
  const int rc = ::pclose(p);
  if (out) *out = text;
  return rc;
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

}  // namespace tilskudd::testing
