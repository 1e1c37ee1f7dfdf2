#include "daemon/config_check.h"

#include "daemon/private_files.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <system_error>

#include "config/config.h"
#include "daemon/connections.h"
#include "daemon/imap_client.h"
#include "daemon/imap_source.h"
#include "daemon/install_paths.h"
#include "daemon/pdf_sandbox.h"
#include "daemon/smtp_sender.h"
#include "workflow/outgoing.h"

namespace tilskudd {

namespace {

namespace fs = std::filesystem;
using Level = ConfigCheck::Level;

// A secret or CA file larger than this is not what the setting meant.
constexpr std::size_t kMaxSmallFileBytes = 1u << 20;

std::string running_user() {
  const uid_t uid = ::geteuid();
  const passwd* pw = ::getpwuid(uid);
  return pw ? std::string(pw->pw_name) : "uid " + std::to_string(uid);
}

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::string errno_text(int e) {
  return std::strerror(e);
}

class Checks {
 public:
  void add(Level level, std::string subject, std::string detail) {
    items_.push_back({level, std::move(subject), std::move(detail)});
  }
  void ok(std::string s, std::string d) { add(Level::ok, std::move(s), std::move(d)); }
  void warn(std::string s, std::string d) { add(Level::warn, std::move(s), std::move(d)); }
  void fail(std::string s, std::string d) { add(Level::fail, std::move(s), std::move(d)); }
  const std::vector<ConfigCheck>& items() const { return items_; }
  std::vector<ConfigCheck> take() { return std::move(items_); }

 private:
  std::vector<ConfigCheck> items_;
};

// Reads at most kMaxSmallFileBytes + 1 bytes; nullopt (errno set) when it cannot be opened.
std::optional<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string s(kMaxSmallFileBytes + 1, '\0');
  in.read(s.data(), static_cast<std::streamsize>(s.size()));
  s.resize(static_cast<std::size_t>(in.gcount()));
  return s;
}

// A folder the daemon writes in: it exists and is writable and searchable, or (when the daemon
// creates it at start) its nearest existing ancestor is.
void check_writable_dir(Checks& c, const std::string& subject, const fs::path& dir) {
  std::error_code ec;
  fs::path probe = dir.empty() ? fs::path(".") : dir;
  if (fs::exists(probe, ec)) {
    if (!fs::is_directory(probe, ec)) return c.fail(subject, probe.string() + " is not a folder");
    if (::access(probe.c_str(), W_OK | X_OK) != 0)
      return c.fail(subject, probe.string() + " is not writable by " + running_user() + " (" +
                                 errno_text(errno) + ")");
    return c.ok(subject, probe.string() + " is a folder writable by " + running_user());
  }
  fs::path ancestor = probe.parent_path();
  while (!ancestor.empty() && !fs::exists(ancestor, ec)) ancestor = ancestor.parent_path();
  if (ancestor.empty()) ancestor = ".";
  if (!fs::is_directory(ancestor, ec))
    return c.fail(subject,
                  probe.string() + " cannot be created: " + ancestor.string() + " is not a folder");
  if (::access(ancestor.c_str(), W_OK | X_OK) != 0)
    return c.fail(subject, probe.string() + " does not exist, and " + running_user() +
                               " cannot create it in " + ancestor.string());
  c.ok(subject, probe.string() + " does not exist yet; the daemon creates it (in " +
                    ancestor.string() + ", writable by " + running_user() + ")");
}

// A secret the daemon reads (its first line is the secret, as service.cpp reads it).
void check_secret_file(Checks& c, const std::string& subject, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return c.fail(subject, path + ": " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) return c.fail(subject, path + " is not a regular file");
  if (st.st_mode & (S_IROTH | S_IWOTH))
    return c.fail(subject, path + " is readable or writable by every user (mode " +
                               mode_text(st.st_mode) + "): chmod o-rw " + path);
  auto text = read_small_file(path);
  if (!text)
    return c.fail(subject,
                  path + " cannot be read by " + running_user() + " (" + errno_text(errno) + ")");
  std::string first = text->substr(0, text->find('\n'));
  if (!first.empty() && first.back() == '\r') first.pop_back();
  if (first.empty()) return c.fail(subject, path + " is empty (its first line is the secret)");
  c.ok(subject, path + " is readable by " + running_user() + ", mode " + mode_text(st.st_mode));
}

void check_ca_file(Checks& c, const std::string& subject, const std::string& path) {
  auto text = read_small_file(path);
  if (!text) return c.fail(subject, path + ": " + errno_text(errno));
  std::size_t count = 0;
  for (std::size_t at = text->find("-----BEGIN CERTIFICATE-----"); at != std::string::npos;
       at = text->find("-----BEGIN CERTIFICATE-----", at + 1))
    ++count;
  if (count == 0) return c.fail(subject, path + " holds no PEM certificate");
  c.ok(subject, path + ": " + std::to_string(count) + " certificate(s)");
}

// A file the daemon writes (the OAuth2 token cache, a refresh token it replaces, their .lock):
// its folder must be writable.
void check_written_file(Checks& c, const std::string& subject, const std::string& path) {
  check_writable_dir(c, subject + " (its folder)", fs::path(path).parent_path());
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IROTH | S_IWOTH)))
    c.fail(subject, path + " is readable or writable by every user (mode " + mode_text(st.st_mode) +
                        "): chmod o-rw " + path);
}

void check_store(Checks& c, const config::Config& cfg) {
  const fs::path store = cfg.store.path;
  check_writable_dir(c, "[store] path (its folder)", store.parent_path());
  // As the daemon checks it at start (daemon/private_files.h), changing nothing.
  std::error_code ec;
  const fs::path folder = store.parent_path().empty() ? fs::path(".") : store.parent_path();
  if (!fs::is_directory(folder, ec)) return;  // check_writable_dir said why
  const private_files::StoreCheck sc = private_files::secure_store(store.string(), false);
  if (!sc.refusal.empty()) return c.fail("[store] path (its folder)", sc.refusal);
  for (const auto& w : sc.warnings) c.warn("[store] path (its folder)", w);
  for (const auto& t : sc.tightened)
    c.warn("[store] path", t + " is readable by other users; the daemon makes it private (0600) "
                               "at its next start");
  struct stat st {};
  if (::stat(store.c_str(), &st) != 0) {
    if (errno == ENOENT)
      return c.ok("[store] path", store.string() + ": no store yet, created at the first start");
    return c.fail("[store] path", store.string() + ": " + errno_text(errno));
  }
  if (!S_ISREG(st.st_mode)) return c.fail("[store] path", store.string() + " is not a file");
  if (::access(store.c_str(), R_OK | W_OK) != 0)
    return c.fail("[store] path", store.string() + " is not readable and writable by " +
                                      running_user() + " (" + errno_text(errno) + ")");
  c.ok("[store] path",
       store.string() + ": an existing store, readable and writable by " + running_user());
}

void check_rosters(Checks& c, const config::Config& cfg) {
  for (const auto& [year, y] : cfg.years) {
    const std::string subject = "[year." + std::to_string(year) + "] roster";
    if (!y.roster) {
      c.warn(subject, "none: every line of " + std::to_string(year) +
                          " is flagged for a person to confirm the student");
      continue;
    }
    struct stat st {};
    if (::stat(y.roster_path.c_str(), &st) == 0 && (st.st_mode & S_IROTH)) {
      c.warn(subject, y.roster_path +
                          " is readable by every user (it names employees): chmod o-r " +
                          y.roster_path);
      continue;
    }
    c.ok(subject, y.roster_path + ": " + std::to_string(y.roster->size()) + " student(s)");
  }
}

// The secrets the daemon's settings select (service.cpp make_setup reads exactly these).
void check_credentials(Checks& c, const config::Config& cfg) {
  const auto& m = cfg.mailbox;
  if (m.oauth2) {
    c.ok("[mailbox] oauth2", "tokens from [oauth2]");
  } else if (!m.oauth2_token_file.empty()) {
    check_secret_file(c, "[mailbox] oauth2_token_file", m.oauth2_token_file);
  } else if (!m.password_file.empty()) {
    check_secret_file(c, "[mailbox] password_file", m.password_file);
  }
  const auto& s = cfg.smtp;
  if (s.oauth2) {
    c.ok("[smtp] oauth2", "tokens from [oauth2]");
  } else if (!s.oauth2_token_file.empty()) {
    check_secret_file(c, "[smtp] oauth2_token_file", s.oauth2_token_file);
  } else if (!s.username.empty() && !s.password_file.empty()) {
    check_secret_file(c, "[smtp] password_file", s.password_file);
  } else if (s.username.empty()) {
    c.ok("[smtp] username", "empty: no SMTP AUTH, no password read");
  }
  if (m.oauth2 || s.oauth2) {
    const auto& o = cfg.oauth2;
    if (!o.client_secret_file.empty())
      check_secret_file(c, "[oauth2] client_secret_file", o.client_secret_file);
    if (!o.refresh_token_file.empty()) {
      check_secret_file(c, "[oauth2] refresh_token_file", o.refresh_token_file);
      // The daemon replaces the file when the server rotates the token, next to a .lock file.
      check_writable_dir(c, "[oauth2] refresh_token_file (its folder)",
                         fs::path(o.refresh_token_file).parent_path());
    }
    if (!o.cache_file.empty()) check_written_file(c, "[oauth2] cache_file", o.cache_file);
  }
}

void check_ca_files(Checks& c, const config::Config& cfg) {
  if (!cfg.mailbox.ca_file.empty()) check_ca_file(c, "[mailbox] ca_file", cfg.mailbox.ca_file);
  if (!cfg.smtp.ca_file.empty()) check_ca_file(c, "[smtp] ca_file", cfg.smtp.ca_file);
  if ((cfg.mailbox.oauth2 || cfg.smtp.oauth2) && !cfg.oauth2.ca_file.empty())
    check_ca_file(c, "[oauth2] ca_file", cfg.oauth2.ca_file);
}

void check_templates(Checks& c, const config::Config& cfg) {
  const std::string dir = letter_templates_dir(cfg);
  try {
    outgoing::load_templates(dir);
    c.ok("[letters] templates", dir + ": every letter template loads");
  } catch (const std::exception& e) {
    c.fail("[letters] templates", dir + ": " + e.what());
  }
}

void check_pdftotext(Checks& c) {
  const std::string path = find_pdftotext();
  if (path.empty() || ::access(path.c_str(), X_OK) != 0)
    return c.fail("pdftotext",
                  "not installed (Debian: poppler-utils): no PDF letter could be read, and "
                  "each would be flagged");
  c.ok("pdftotext", path);
}

// What `run` decides about document confinement (pdf_sandbox.h decide_document_confinement).
void check_confinement(Checks& c, const config::Config& cfg) {
  const ConfinementDecision d =
      decide_document_confinement(confinement::probe(), cfg.limits.allow_unconfined_documents);
  const std::string subject = "document confinement";
  if (d.level == ConfinementDecision::Level::ok) return c.ok(subject, d.message);
  if (d.level == ConfinementDecision::Level::warn) return c.warn(subject, d.message);
  c.fail(subject, d.message);
}

// The host of a URL, for the lines printed (never its user info or query).
std::string host_of(const std::string& url) {
  std::string h = url;
  if (const auto p = h.find("://"); p != std::string::npos) h = h.substr(p + 3);
  h = h.substr(0, h.find_first_of("/?#"));
  if (const auto at = h.rfind('@'); at != std::string::npos) h = h.substr(at + 1);
  return h;
}

// What an operator can do about a refused IMAP login, by what the server said.
std::string imap_hint(const ImapError& e) {
  const std::string& t = e.server_text();
  if (t.find("authenticated but not connected") != std::string::npos)
    return " (Exchange Online: the app has no permission on this mailbox yet, or the username "
           "is not the mailbox: docs/MICROSOFT-365.md section 2; permissions take up to an hour)";
  if (e.kind() == ImapError::Kind::auth)
    return " (check [mailbox] username and the password or token)";
  if (e.kind() == ImapError::Kind::tls)
    return " (the certificate is not trusted for this host name: [mailbox] ca_file)";
  return "";
}

bool has_capability(const std::vector<std::string>& caps, std::string_view name) {
  return std::any_of(caps.begin(), caps.end(), [&](const std::string& c) {
    return c.size() == name.size() &&
           std::equal(c.begin(), c.end(), name.begin(), [](char a, char b) {
             return std::toupper(static_cast<unsigned char>(a)) ==
                    std::toupper(static_cast<unsigned char>(b));
           });
  });
}

// `--connect`: log in as the daemon will, changing nothing: SELECT and STATUS only (no FETCH of a
// body, no STORE, no MOVE, so no \Seen and no keyword); SMTP stops after AUTH: no mail is sent.
void check_connections(Checks& c, const config::Config& cfg) {
  Connections conn;
  try {
    conn = make_connections(cfg);
  } catch (const std::exception& e) {
    return c.fail("connect", e.what());
  }
  if (conn.tokens) {
    try {
      conn.tokens->access_token();
      c.ok("[oauth2] token", "fetched from " + host_of(cfg.oauth2.token_url));
    } catch (const std::exception& e) {
      return c.fail("[oauth2] token", e.what());
    }
  }

  const std::string imap_host = host_of(cfg.mailbox.url);
  ImapOptions io = conn.imap;
  io.connect_timeout = std::min(io.connect_timeout, std::chrono::milliseconds(30000));
  io.command_timeout = std::min(io.command_timeout, std::chrono::milliseconds(30000));
  std::string step = "[mailbox] login";
  try {
    ImapClient client(io);
    client.connect();
    c.ok(step, "logged in to " + imap_host + " as " + cfg.mailbox.username);
    step = "[mailbox] capabilities";
    const std::vector<std::string> caps = client.capability();
    std::string offered, missing;
    for (std::string_view cap : {"IDLE", "MOVE", "UIDPLUS", "NAMESPACE"})
      (has_capability(caps, cap) ? offered : missing) += (std::string(" ") += cap);
    if (!missing.empty() && cfg.mailbox.idle && !has_capability(caps, "IDLE"))
      c.warn(step,
             "no IDLE: new mail is seen at the next poll (every " +
                 std::to_string(cfg.mailbox.poll_interval_seconds) + " s); offered:" +
                 (offered.empty() ? std::string(" none of IDLE MOVE UIDPLUS NAMESPACE") : offered));
    else
      c.ok(step, "offered:" + (offered.empty() ? std::string(" none") : offered) +
                     (missing.empty() ? "" : "; not offered:" + missing));
    const std::string name = mailbox_from_url(cfg.mailbox.url);
    step = "[mailbox] " + name;
    // SELECT, not EXAMINE: a read-only mailbox reports no PERMANENTFLAGS. Nothing is stored.
    const MailboxInfo info = client.select(name);
    if (info.read_only)
      c.fail(step, "the server opens it read-only: the daemon could not mark or move mail");
    else
      c.ok(step, std::to_string(info.exists) + " message(s), UIDVALIDITY " +
                     std::to_string(info.uidvalidity) + " (nothing in it was changed)");
    step = "[mailbox] keyword";
    const bool keeps = keeps_keyword(info, cfg.mailbox.keyword);
    if (keeps)
      c.ok(step, "the server keeps " + cfg.mailbox.keyword + " (PERMANENTFLAGS)");
    else if (!cfg.mailbox.move_to.empty())
      c.warn(step,
             "the server keeps no keyword of ours (PERMANENTFLAGS without \\*); processed "
             "messages are recognised by [mailbox] move_to \"" +
                 cfg.mailbox.move_to + "\"");
    else
      c.warn(step,
             "the server keeps no keyword of ours (PERMANENTFLAGS without \\*, as "
             "Exchange Online): set [mailbox] move_to to a folder, so that processed "
             "messages leave the inbox");
    if (!cfg.mailbox.move_to.empty()) {
      step = "[mailbox] move_to";
      try {
        client.status(cfg.mailbox.move_to);
        c.ok(step, "\"" + cfg.mailbox.move_to + "\" exists");
      } catch (const ImapError& e) {
        if (e.kind() != ImapError::Kind::no && e.kind() != ImapError::Kind::bad) throw;
        c.warn(step, "\"" + cfg.mailbox.move_to + "\": " + e.server_text() +
                         " (the daemon creates it at its first move; create it now to be sure "
                         "the name is right)");
      }
    }
    client.logout();
  } catch (const ImapError& e) {
    c.fail(step, std::string(to_string(e.kind())) + ": " + e.what() + imap_hint(e));
  }

  SmtpOptions so = conn.smtp;
  so.connect_timeout = std::min(so.connect_timeout, std::chrono::milliseconds(30000));
  so.timeout = std::min(so.timeout, std::chrono::milliseconds(60000));
  const SmtpResult r = smtp_login_check(so);
  const std::string smtp_host = host_of(cfg.smtp.url);
  if (r.outcome == SendOutcome::accepted)
    c.ok("[smtp] login",
         smtp_host +
             (cfg.smtp.username.empty() ? " accepts the session (no AUTH: [smtp] username "
                                          "is empty)"
                                        : " accepts AUTH as " + cfg.smtp.username) +
             "; no mail sent");
  else
    c.fail("[smtp] login",
           smtp_host + ": " + r.detail +
               (r.detail.find("5.7.139") != std::string::npos ||
                        r.detail.find("SmtpClientAuthentication") != std::string::npos
                    ? " (SMTP AUTH is off for this mailbox or tenant: Set-CASMailbox "
                      "-SmtpClientAuthenticationDisabled $false, docs/MICROSOFT-365.md)"
                    : ""));
}

}  // namespace

std::vector<ConfigCheck> check_config(const std::string& config_path, bool connect) {
  Checks c;
  config::Config cfg;
  try {
    cfg = config::load(config_path);
  } catch (const config::ConfigError& e) {
    c.fail("config", e.what());
    return c.take();
  }
  std::string years;
  for (const auto& [year, y] : cfg.years)
    years += (years.empty() ? "" : ", ") + std::to_string(year);
  c.ok("config", config_path + " loads (years " + years + ")");
  try {
    config::validate_for_daemon(cfg);
    c.ok("daemon settings", "[mailbox], [smtp], [store] and [oauth2] are complete; URLs " +
                                std::string(cfg.mailbox.allow_insecure || cfg.smtp.allow_insecure
                                                ? "accepted (allow_insecure is set)"
                                                : "use TLS"));
  } catch (const config::ConfigError& e) {
    c.fail("daemon settings", e.what());
  }
  check_rosters(c, cfg);
  check_store(c, cfg);
  check_credentials(c, cfg);
  check_ca_files(c, cfg);
  check_templates(c, cfg);
  check_pdftotext(c);
  check_confinement(c, cfg);
  if (!cfg.sender.checks_authentication())
    c.warn("[sender] authserv_ids",
           "empty: sender authenticity is not checked (docs/DECISIONS.md \"Sender "
           "authenticity\")");
  if (connect) {
    const bool failed = std::any_of(c.items().begin(), c.items().end(),
                                    [](const ConfigCheck& k) { return k.level == Level::fail; });
    if (failed)
      c.fail("connect", "not tried: fix the problems above first");
    else
      check_connections(c, cfg);
  }
  return c.take();
}

int config_check_command(const std::string& config_path, bool connect, std::ostream& out) {
  const std::vector<ConfigCheck> checks = check_config(config_path, connect);
  int failed = 0, warned = 0;
  for (const ConfigCheck& k : checks) {
    const char* tag = k.level == Level::ok ? "ok  " : k.level == Level::warn ? "warn" : "FAIL";
    if (k.level == Level::fail) ++failed;
    if (k.level == Level::warn) ++warned;
    out << tag << "  " << k.subject << ": " << k.detail << '\n';
  }
  out << "config check: ";
  if (failed > 0)
    out << failed << " problem(s)";
  else
    out << "ok";
  if (warned > 0) out << ", " << warned << " warning(s)";
  out << " (as " << running_user() << ")\n";
  return failed > 0 ? 1 : 0;
}

}  // namespace tilskudd
