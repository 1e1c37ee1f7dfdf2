// Mail that is not a person writing to us: auto-replies, bounces, and our own messages.
// Replying to any of these risks mail loops, so the daemon never answers them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "parsers/mime.h"

namespace tilskudd {

// Returns "auto_reply", "bounce" or "own_message" (docs/CONTRACT.md §4 ignored_reason codes), or
// nullopt for a message written by a person. `own_address` is our sending address
// ("post@asker.kommune.no"; "" when unknown). Checks, in order:
//  - own_message: an X-Tilskudd-Case header (every mail we send carries one), or From is ours;
//  - bounce: multipart/report, a null return path (<>), MAILER-DAEMON / postmaster senders;
//  - auto_reply: RFC 3834 Auto-Submitted other than "no", X-Autoreply, X-Autorespond,
//    Precedence bulk/junk/list/auto_reply, X-Auto-Response-Suppress together with an
//    out-of-office subject.
std::optional<std::string> machine_generated(const mime::Message& msg,
                                             std::string_view own_address);

}  // namespace tilskudd
