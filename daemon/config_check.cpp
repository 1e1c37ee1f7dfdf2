#include "daemon/config_check.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <system_error>

#include "config/config.h"
#include "daemon/install_paths.h"
#include "daemon/pdf_sandbox.h"
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
  if (st.st_mode & S_IROTH)
    return c.warn("[store] path", store.string() +
                                      " is readable by every user (it holds applicants' and "
                                      "employees' data): chmod o-r " +
                                      store.string());
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

}  // namespace

std::vector<ConfigCheck> check_config(const std::string& config_path) {
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
  if (!cfg.sender.checks_authentication())
    c.warn("[sender] authserv_ids",
           "empty: sender authenticity is not checked (docs/DECISIONS.md \"Sender "
           "authenticity\")");
  return c.take();
}

int config_check_command(const std::string& config_path, std::ostream& out) {
  const std::vector<ConfigCheck> checks = check_config(config_path);
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
