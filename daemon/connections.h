// The mail connections a config describes: the IMAP and SMTP options with their credentials
// read, and the OAuth2 token source they share. One place, used by the daemon (service.cpp's
// Setup) and by `config check --connect`, so that the check logs in exactly as the daemon will.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "daemon/imap_client.h"
#include "daemon/oauth2.h"
#include "daemon/smtp_sender.h"

namespace tilskudd {

struct Connections {
  std::shared_ptr<oauth2::TokenSource> tokens;  // set when [mailbox] or [smtp] oauth2 = true
  ImapOptions imap;
  SmtpOptions smtp;
};

// Reads the secrets the settings select (the first line of each file, without its line end).
// Throws config::ConfigError naming the key when a secret file cannot be read or is empty, or
// [oauth2] cannot be set up. Contacts no server: a token is fetched at the first connect.
Connections make_connections(const config::Config& config);

}  // namespace tilskudd
