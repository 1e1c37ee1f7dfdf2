// Logging for the daemon (spdlog): one line per event on stderr. In a terminal each line has a
// timestamp; under systemd (JOURNAL_STREAM set) lines carry a syslog priority prefix ("<4>")
// instead, which journald turns into the entry's priority and timestamps itself. Log text is
// English, names the case reference and the reason, and never carries secrets.
#pragma once

#include <string>

#include "workflow/intake.h"

namespace tilskudd::log {

// Sets up the default logger. `level`: "debug", "info", "warn", "error".
void setup(const std::string& level = "info");

// Logs a workflow note: "[TT-2026-0042] text", INFO or WARN.
void note(const IntakeNote& n);

}  // namespace tilskudd::log
