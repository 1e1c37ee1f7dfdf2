#include "daemon/connections.h"

#include <algorithm>
#include <fstream>

namespace tilskudd {

namespace {

std::string read_secret(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config::ConfigError(what + ": cannot read '" + path + "'");
  std::string s;
  std::getline(in, s);
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n')) s.pop_back();
  if (s.empty()) throw config::ConfigError(what + ": '" + path + "' is empty");
  return s;
}

}  // namespace

Connections make_connections(const config::Config& c) {
  Connections s;
  if (c.mailbox.oauth2 || c.smtp.oauth2) {
    oauth2::OAuth2Settings o;
    o.token_url = c.oauth2.token_url;
    o.client_id = c.oauth2.client_id;
    o.client_secret_file = c.oauth2.client_secret_file;
    o.scope = c.oauth2.scope;
    o.refresh_token_file = c.oauth2.refresh_token_file;
    o.cache_file = c.oauth2.cache_file;
    o.ca_file = c.oauth2.ca_file;
    o.allow_insecure = c.oauth2.allow_insecure;
    try {
      s.tokens = std::make_shared<oauth2::TokenSource>(o);
    } catch (const std::exception& e) {
      throw config::ConfigError(std::string("[oauth2] ") + e.what());
    }
  }
  auto token_provider = [tokens = s.tokens] { return tokens->access_token(); };
  auto token_refused = [tokens = s.tokens](const std::string& t) { tokens->invalidate(t); };

  s.imap.url = c.mailbox.url;
  s.imap.username = c.mailbox.username;
  if (c.mailbox.oauth2) {
    s.imap.token_provider = token_provider;
    s.imap.token_refused = token_refused;
  } else if (!c.mailbox.oauth2_token_file.empty()) {
    s.imap.bearer_token = read_secret(c.mailbox.oauth2_token_file, "[mailbox] oauth2_token_file");
  } else {
    s.imap.password = read_secret(c.mailbox.password_file, "[mailbox] password_file");
  }
  s.imap.ca_file = c.mailbox.ca_file;
  s.imap.allow_insecure = c.mailbox.allow_insecure;
  // A message may be as large as the MIME limit; the IMAP parser must accept its literal.
  s.imap.limits.max_literal_bytes =
      std::max<std::size_t>(s.imap.limits.max_literal_bytes, c.limits.mime.max_message_bytes);

  s.smtp.url = c.smtp.url;
  s.smtp.username = c.smtp.username;
  if (c.smtp.oauth2) {
    s.smtp.token_provider = token_provider;
    s.smtp.token_refused = token_refused;
  } else if (!c.smtp.oauth2_token_file.empty()) {
    s.smtp.bearer_token = read_secret(c.smtp.oauth2_token_file, "[smtp] oauth2_token_file");
  } else if (!c.smtp.username.empty()) {
    s.smtp.password = read_secret(c.smtp.password_file, "[smtp] password_file");
  }
  s.smtp.ca_file = c.smtp.ca_file;
  s.smtp.allow_insecure = c.smtp.allow_insecure;
  return s;
}

}  // namespace tilskudd
