// `tilskudd config check --config FILE`: what the daemon would need, checked before it starts
// (as `nginx -t` or `postfix check`; the systemd unit runs it as ExecStartPre=). It loads the
// config and its rosters, applies the daemon's own rules to the settings
// (config::validate_for_daemon: URLs, TLS, the keys [mailbox], [smtp], [store] and [oauth2]
// need), and checks every file and folder the daemon would touch, as the user running it:
//   - the store's folder exists (or can be created) and is writable; an existing store file is
//     readable and writable;
//   - every secret the daemon would read (password, token, OAuth2 client secret and refresh
//     token files; only those the settings select) is a regular file, readable, not empty,
//     and neither readable nor writable by every user;
//   - the letter templates load (install_paths.h says where they are);
//   - each CA file is readable and holds a PEM certificate;
//   - pdftotext (poppler-utils) is installed;
//   - the kernel confines document programs (Landlock, seccomp), or [limits]
//     allow_unconfined_documents lets the daemon start without (a warning), docs/CONFINEMENT.md.
// Without `connect` it contacts no server. With it (`--connect`), and only when nothing above
// failed, it then logs in as the daemon will: an OAuth2 token when the settings use one; IMAP
// login, CAPABILITY, SELECT of the mailbox (nothing is fetched, marked, moved or seen), the
// keywords the server keeps and whether move_to exists, then LOGOUT; SMTP greeting, EHLO,
// STARTTLS and AUTH, and QUIT: no mail is sent. One line per check on `out`: "ok", "warn" (the
// daemon starts, but look: no roster for a year, sender authenticity not checked, a world-readable
// roster or store) or "FAIL" (the daemon would refuse to start, or fail at its first use of the
// thing), then a summary line.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace tilskudd {

struct ConfigCheck {
  enum class Level { ok, warn, fail };
  Level level = Level::ok;
  std::string subject;  // what was checked: "[store] path", "[mailbox] password_file", ...
  std::string detail;   // what was found
};

// Every check, in the order they are printed. Never throws for a problem in the config or on
// disk: that is a `fail` item.
std::vector<ConfigCheck> check_config(const std::string& config_path, bool connect = false);

// The command: prints the checks and the summary. Returns 0 when none failed, else 1.
int config_check_command(const std::string& config_path, bool connect, std::ostream& out);

}  // namespace tilskudd
