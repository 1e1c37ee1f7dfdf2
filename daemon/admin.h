// The administrators' terminal view of cases (read-only): `tilskudd cases list [--state S]
// [--json]`, `tilskudd cases flagged [--json]` and `tilskudd cases show REF [--json]`.
//
// Text output is for a saksbehandler in a terminal: aligned columns, amounts as "55 000 kr".
// Everything that came from a mail (owner, names, reasons, file names) is made safe for a terminal
// first: invalid UTF-8 becomes U+FFFD, control characters (ESC, CR, ...) and bidi overrides
// become '?', so a hostile applicant cannot paint or rewrite the administrator's screen.
//
// JSON output (--json) is for scripts and is stable: fields are only ever added, never renamed or
// removed. Absent values are null, never "" (except the free-text fields marked "string").
//
// `cases list --json` and `cases flagged --json`: an array of case summaries, oldest first:
//   {
//     "ref":          "TT-2026-0001",
//     "state":        "flagged",        // case_state_name: received, needs_documentation, flagged,
//                                       // decided, decision_sent, scheduled, paid
//     "created_at":   "2026-03-01T12:00:00Z",   // ISO-8601 UTC
//     "updated_at":   "2026-03-01T12:00:00Z",
//     "owner":        string,           // barnehageeier, as the form gave it
//     "org_number":   string,           // as stored ("" when the form had none)
//     "round":        "2020-09-01" | null,  // the payout round's deadline
//     "round_year":   2020 | null,      // the rules' (budget) year of the round
//     "round_number": 1 | null,         // 1-based round within that year
//     "total":        55000,            // whole kroner, sum of the approved lines
//     "line_count":   2,
//     "flagged":      true,             // state == "flagged"
//     "attention":    [Attention]       // what a person must do; [] unless state is flagged
//   }
// Attention (one thing a person must resolve, flagged lines first, then case-level flags):
//   { "code": "not_on_roster", "employee": "Ola Hansen" | null (case-level), "reason": string }
//   For a flagged case with neither (e.g. flagged by an admin), one item with code "" and the
//   latest event's reason.
//
// `cases show REF --json`: one object, every field of the summary above, plus
//   "contact_email":       string,
//   "account_number":      string,
//   "applicant_reference": string,    // "Deres referanse"
//   "reminder_due":        ISO-8601 | null,
//   "flags":   [{"code": "invalid_org_number", "reason": "..."}],  // the latest assessment's flags
//   "missing": ["Tildelingsbrev eller avslagsbrev ... for Ola Hansen"],  // what the applicant owes
//   "lines":   [{ "idx": 0, "employee": string, "programme": "ABLU"|"BLU_DELTID"|"OTHER",
//                 "cost": 95000 | null, "state_status": "granted"|"rejected"|"unknown",
//                 "state_grant": 40000 | null, "outcome":
//                 "approved"|"rejected"|"flagged"|"pending", "amount": 55000, "reason_code":
//                 string, "reason": string (bokmål) }],
//   "payout_hold": string | null,     // why the payout waits for a person (DECISIONS.md
//                                     // "Payout holds"); null when nothing holds it
//   "letters": [{ "filename": string, "kind": "grant"|"rejection"|"unknown", "stored": bool }],
//   "outbox":  [{ "id": 1, "kind": "decision"|"documentation_request"|"reminder",
//                 "status": "pending"|"sending"|"sent"|"uncertain"|"failed",
//                 "recipient": string, "subject": string, "message_id": string, "attempts": 0,
//                 "next_attempt_at": ISO-8601 | null, "last_error": string,
//                 "created_at": ISO-8601 }],
//   "events":  [{ "id": 1, "at": ISO-8601, "actor": "daemon" | "admin:<user>" | ...,
//                 "from": state | null (the case's creation), "to": state, "reason": string,
//                 "detail": object (the event's JSON detail; {} when it is not valid JSON) }]
//
// Exit codes (the table of every subcommand is at the top of daemon/main.cpp, and in README
// "Exit codes"): 0 success (also for "no cases"); 1 unknown ref; 2 the store failed (message on
// err; main.cpp's with_store() also makes a store that cannot be opened 2).
//
// The actions (workflow/resolve.h), for a terminal:
//   tilskudd cases resolve REF --config F --by NAME
//       (--approve [--amount N] | --reject | --ask-documentation --missing TEXT [--missing
//       TEXT...])
//       [--line N] [--note TEXT]
//   tilskudd cases resend REF --config F --by NAME
//   tilskudd cases release REF --config F --by NAME --note TEXT
//   tilskudd payout export --round YYYY-MM-DD --config F [--output FILE]
//   tilskudd payout schedule --round YYYY-MM-DD --config F --by NAME
//   tilskudd payout mark-paid --round YYYY-MM-DD --config F --by NAME
// They print what changed on `out`; warnings and refusals go to `err`. A letter they queue is
// sent by the running daemon on its next cycle (it runs the outbox every poll), and the output
// says so. `payout export` writes only the CSV to `out` (its summary goes to `err`), or with
// --output the CSV to the file and the summary to `out`.
// Exit codes: 0 done (also "nothing to do": a second schedule or mark-paid); 1 refused (the
// reason on err: unknown case, wrong state, bad line, missing amount or note, unknown round,
// ...); 2 the store or a file failed.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "workflow/intake.h"
#include "workflow/resolve.h"
#include "workflow/store.h"

namespace tilskudd::admin {

struct ListOptions {
  std::optional<CaseState> state = std::nullopt;  // only cases in this state
  bool flagged_only = false;  // `cases flagged`: only state flagged, with what to do
  bool json = false;
};

// `cases list` / `cases flagged`. Returns the exit code.
int cases_list(Store& store, const ListOptions& options, std::ostream& out, std::ostream& err);

// `cases show REF`. REF is matched case-insensitively ("tt-2026-0001"). Returns the exit code.
int case_show(Store& store, const std::string& ref, bool json, std::ostream& out,
              std::ostream& err);

// The settings letters are made with, as the daemon makes them: the config and its templates
// ([letters] templates_dir, else the built-in folder). Throws config::ConfigError (the templates
// cannot be read, or [smtp] from is missing: a letter needs a sender).
IntakeSettings letter_settings(const config::Config& config);

// `cases resolve REF ...`. Returns the exit code.
int case_resolve(Store& store, const std::string& ref, const ResolveRequest& request,
                 const IntakeSettings& settings, Timestamp now, std::ostream& out,
                 std::ostream& err);

// `cases resend REF --by NAME`. `poll_interval_seconds` is only for the message.
int case_resend(Store& store, const std::string& ref, const std::string& admin,
                int poll_interval_seconds, Timestamp now, std::ostream& out, std::ostream& err);

// `cases release REF --by NAME --note TEXT`: lets a held payout go (workflow/resolve.h
// release_payout). Returns the exit code (1 when the payout is not held).
int case_release(Store& store, const std::string& ref, const std::string& admin,
                 const std::string& note, Timestamp now, std::ostream& out, std::ostream& err);

// `payout export --round R [--output FILE]`; `output_path` "" writes the CSV to `out`. The file
// is written only when the export succeeded (nothing is left half-written on a refusal).
int payout_export_command(Store& store, const std::string& round, const std::string& output_path,
                          std::ostream& out, std::ostream& err);

// `payout schedule --round R --by NAME` and `payout mark-paid --round R --by NAME`.
int payout_schedule_command(Store& store, const std::string& round, const std::string& admin,
                            Timestamp now, std::ostream& out, std::ostream& err);
int payout_mark_paid_command(Store& store, const std::string& round, const std::string& admin,
                             Timestamp now, std::ostream& out, std::ostream& err);

// `store pending [--json]`: the UIDs the server listed without handing over a body, each with
// its attempts and next try (docs/DECISIONS.md "Pending UIDs"). JSON: an array of
//   { "mailbox": string, "uidvalidity": int, "uid": int, "attempts": int,
//     "first_seen": ISO-8601, "last_attempt": ISO-8601, "next_try": ISO-8601, "reason": string }
// Exit 0 (also when there are none); 2 when the store failed.
int store_pending(Store& store, bool json, Timestamp now, std::ostream& out, std::ostream& err);

// Helpers, public for tests and other admin commands.

// Makes text from a mail safe to print in a terminal (see the top of this file); keeps ordinary
// UTF-8 (æøå) as it is.
std::string terminal_safe(std::string_view s);

// Number of code points, the width used for aligning columns.
std::size_t display_width(std::string_view utf8);

// Cuts to at most `width` code points, ending in "…" when cut; never splits a UTF-8 sequence.
std::string truncate(std::string_view utf8, std::size_t width);

// The JSON documented above.
nlohmann::json case_summary_json(Store& store, const CaseRecord& c);
nlohmann::json case_detail_json(Store& store, const CaseRecord& c);

}  // namespace tilskudd::admin
