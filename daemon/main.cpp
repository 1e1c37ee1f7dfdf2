// tilskudd: the command line (docs/CONTRACT.md §2; the manual is docs/tilskudd.8).
//
// Every subcommand is one row of kCommands below (its group, name, summary, options and the
// function that runs it), as Ninja's kTools. A command that works on the store runs inside
// with_store(), which loads the config and opens the store, so that each failure ends in the
// same exit code with the same kind of message.
//
// Exit codes, the same for every subcommand (README "Exit codes", tilskudd(8), admin.h):
//   0  done; also "nothing to do" (no cases, a second schedule, a mail that is no application)
//   1  the command ran and the answer is no: a refused action (unknown case, wrong state, bad
//      line, missing note or amount, unknown round), a tampered event log (`store verify`), a
//      problem found by `config check`, a message file `inspect` cannot read; for `run`, the
//      mailbox unreachable in `--once` or the store failing at start (systemd restarts it)
//   2  it could not run: a wrong command line (unknown subcommand, missing option), a config
//      that does not load or lacks what the command needs, the store or a file failing
//   3  `run` only: another daemon holds the store
#include <CLI/CLI.hpp>

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "daemon/admin.h"
#include "daemon/config_check.h"
#include "daemon/inspect.h"
#include "daemon/private_files.h"
#include "daemon/service.h"
#include "parsers/enum_names.h"
#include "parsers/types.h"
#include "tilskudd_version.h"
#include "workflow/intake.h"
#include "workflow/resolve.h"
#include "workflow/store.h"

namespace {

using namespace tilskudd;

constexpr int kExitOk = 0;
constexpr int kExitError = 2;  // see the table at the top

// Every option of every subcommand; only the chosen subcommand's are filled in.
struct Args {
  InspectArgs inspect;
  RunArgs run;
  std::string config;
  std::string state;
  std::string ref;
  bool json = false;
  std::string by;
  bool approve = false, reject = false, ask = false;
  std::optional<std::int64_t> amount;
  std::optional<int> line;
  std::string note;
  std::vector<std::string> missing;
  std::string round;
  std::string output;
  bool connect = false;
};

// What a store command gets from with_store().
struct StoreContext {
  const config::Config& config;
  Store& store;
  const IntakeSettings* letters;  // only when asked for (the commands that make letters)
  Timestamp now;
};

// Loads the config (and, with `letters`, the letter settings), opens the store and runs `fn`.
// A config error, or the store failing to open or later (a StoreError `fn` lets through), is
// exit 2 with one line on stderr; otherwise `fn`'s exit code.
int with_store(const Args& a, bool letters, const std::function<int(StoreContext&)>& fn) {
  config::Config cfg;
  std::optional<IntakeSettings> settings;
  try {
    cfg = config::load(a.config);
    if (letters) settings = admin::letter_settings(cfg);
  } catch (const config::ConfigError& e) {
    std::cerr << "tilskudd: config error: " << e.what() << "\n";
    return kExitError;
  }
  try {
    Store store = Store::open(cfg.store.path);
    StoreContext ctx{cfg, store, settings ? &*settings : nullptr,
                     std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now())};
    return fn(ctx);
  } catch (const StoreError& e) {
    std::cerr << "tilskudd: store " << cfg.store.path << ": " << e.what() << "\n";
    return kExitError;
  }
}

// ---- options shared by several subcommands -------------------------------------------------

void config_option(CLI::App& c, Args& a) {
  c.add_option("--config", a.config, "Config file (TOML)")->required();
}
void config_check_options(CLI::App& c, Args& a) {
  config_option(c, a);
  c.add_flag("--connect", a.connect,
             "Also log in to the mailbox (changing nothing) and to SMTP (no mail is sent), as the "
             "daemon will");
}
void ref_argument(CLI::App& c, Args& a) {
  c.add_option("REF", a.ref, "The case reference, e.g. TT-2026-0042")->required();
}
void by_option(CLI::App& c, Args& a) {
  c.add_option("--by", a.by, "Your user name, recorded as admin:<name>")->required();
}
void json_flag(CLI::App& c, Args& a) {
  c.add_flag("--json", a.json, "Print JSON instead of text");
}
void round_option(CLI::App& c, Args& a) {
  static const CLI::Validator round_date(
      [](std::string& s) -> std::string {
        auto d = Date::from_iso(s);
        if (s.size() != 10 || !d || !d->valid() || d->iso() != s)
          return "'" + s + "' is not a date YYYY-MM-DD (the round's deadline, e.g. 2026-12-01)";
        return "";
      },
      "YYYY-MM-DD", "round date");
  c.add_option("--round", a.round, "The round's deadline, YYYY-MM-DD")
      ->required()
      ->check(round_date);
}

// ---- the subcommands, each its options and its function ------------------------------------

void inspect_options(CLI::App& c, Args& a) {
  c.add_option("--config", a.inspect.config_path, "Config file (TOML)")->required();
  c.add_option("--received", a.inspect.received,
               "Date the message was received (YYYY-MM-DD); default: its Date header");
  c.add_flag("!--compact", a.inspect.pretty, "Print the JSON on one line");
  c.add_option("MESSAGE", a.inspect.message_path, "The message (.eml)")->required();
}
int inspect_command(Args& a) {
  return run_inspect(a.inspect);
}

void run_options(CLI::App& c, Args& a) {
  c.add_option("--config", a.run.config_path, "Config file (TOML)")->required();
  c.add_flag("--once", a.run.once,
             "One full poll-and-process cycle (fetch, decide, send), then exit");
  c.add_flag("--dry-run", a.run.dry_run,
             "Shadow mode: only read the mailbox, send nothing, keep cases in a scratch store");
  c.add_option("--scratch-store", a.run.scratch_store,
               "The scratch store of --dry-run (default: <[store] path>.dry-run)");
  c.add_option("--log-level", a.run.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
}
int run_command(Args& a) {
  return run_daemon(a.run);
}

void list_options(CLI::App& c, Args& a) {
  config_option(c, a);
  json_flag(c, a);
  c.add_option("--state", a.state,
               "Only cases in this state (received, needs_documentation, flagged, decided, "
               "decision_sent, scheduled, paid)");
}
void flagged_options(CLI::App& c, Args& a) {
  config_option(c, a);
  json_flag(c, a);
}
int list_cases(Args& a, bool flagged_only) {
  admin::ListOptions opt;
  opt.flagged_only = flagged_only;
  opt.json = a.json;
  if (!a.state.empty()) {
    opt.state = parse_enum<CaseState>(a.state);
    if (!opt.state) {
      std::cerr << "tilskudd: --state: unknown state '" << a.state << "'\n";
      return kExitError;
    }
  }
  return with_store(a, false, [&](StoreContext& s) {
    return admin::cases_list(s.store, opt, std::cout, std::cerr);
  });
}
int list_command(Args& a) {
  return list_cases(a, false);
}
int flagged_command(Args& a) {
  return list_cases(a, true);
}

void show_options(CLI::App& c, Args& a) {
  config_option(c, a);
  json_flag(c, a);
  ref_argument(c, a);
}
int show_command(Args& a) {
  return with_store(a, false, [&](StoreContext& s) {
    return admin::case_show(s.store, a.ref, a.json, std::cout, std::cerr);
  });
}

void resolve_options(CLI::App& c, Args& a) {
  ref_argument(c, a);
  auto* approve = c.add_flag("--approve", a.approve,
                             "Approve the line(s); amount: --amount, else what the rules give");
  auto* reject = c.add_flag("--reject", a.reject, "Reject the line(s); needs --note");
  auto* ask = c.add_flag("--ask-documentation", a.ask,
                         "Ask the applicant for documentation (needs --missing)");
  approve->excludes(reject)->excludes(ask);
  reject->excludes(ask);
  c.add_option("--amount", a.amount,
               "Whole kroner for each approved line (default: the rules' amount)")
      ->needs(approve);
  c.add_option("--line", a.line,
               "Only this line (1-based, as `cases show` numbers them); default: every line that "
               "waits for a person");
  c.add_option("--note", a.note,
               "Why (bokmål: it is the line's reason in the decision letter); required for "
               "--reject and for an --amount other than the rules'");
  c.add_option("--missing", a.missing,
               "What the applicant must send (bokmål); repeat for each item")
      ->needs(ask)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  config_option(c, a);
  by_option(c, a);
}
int resolve_command(Args& a) {
  if (!a.approve && !a.reject && !a.ask) {
    std::cerr << "tilskudd cases resolve: give one of --approve, --reject, --ask-documentation\n";
    return kExitError;
  }
  ResolveRequest req;
  req.action = a.approve  ? ResolveRequest::Action::approve
               : a.reject ? ResolveRequest::Action::reject
                          : ResolveRequest::Action::ask_documentation;
  req.line = a.line;
  req.amount = a.amount;
  req.admin = a.by;
  req.note = a.note;
  req.missing = a.missing;
  return with_store(a, true, [&](StoreContext& s) {
    return admin::case_resolve(s.store, a.ref, req, *s.letters, s.now, std::cout, std::cerr);
  });
}

void resend_options(CLI::App& c, Args& a) {
  ref_argument(c, a);
  config_option(c, a);
  by_option(c, a);
}
int resend_command(Args& a) {
  return with_store(a, false, [&](StoreContext& s) {
    return admin::case_resend(s.store, a.ref, a.by, s.config.mailbox.poll_interval_seconds, s.now,
                              std::cout, std::cerr);
  });
}

void release_options(CLI::App& c, Args& a) {
  ref_argument(c, a);
  config_option(c, a);
  by_option(c, a);
  c.add_option("--note", a.note, "What you read and checked before letting the payout go")
      ->required();
}
int release_command(Args& a) {
  return with_store(a, false, [&](StoreContext& s) {
    return admin::case_release(s.store, a.ref, a.by, a.note, s.now, std::cout, std::cerr);
  });
}

void export_options(CLI::App& c, Args& a) {
  round_option(c, a);
  config_option(c, a);
  c.add_option("--output", a.output, "Write the CSV to this file (default: stdout)");
}
int export_command(Args& a) {
  return with_store(a, false, [&](StoreContext& s) {
    return admin::payout_export_command(s.store, a.round, a.output, std::cout, std::cerr);
  });
}

void round_action_options(CLI::App& c, Args& a) {
  round_option(c, a);
  config_option(c, a);
  by_option(c, a);
}
int schedule_command(Args& a) {
  return with_store(a, false, [&](StoreContext& s) {
    return admin::payout_schedule_command(s.store, a.round, a.by, s.now, std::cout, std::cerr);
  });
}
int mark_paid_command(Args& a) {
  return with_store(a, false, [&](StoreContext& s) {
    return admin::payout_mark_paid_command(s.store, a.round, a.by, s.now, std::cout, std::cerr);
  });
}

void pending_options(CLI::App& c, Args& a) {
  config_option(c, a);
  json_flag(c, a);
}
int pending_command(Args& a) {
  return with_store(a, false, [&](StoreContext& s) {
    return admin::store_pending(s.store, a.json, s.now, std::cout, std::cerr);
  });
}

int verify_command(Args& a) {
  return with_store(a, false, [](StoreContext& s) {
    EventChainCheck c = s.store.events().verify_events();
    if (!c.ok) {
      std::cout << "event log TAMPERED WITH: " << c.problem << " (event #" << c.first_bad_id
                << ")\n";
      return 1;
    }
    std::cout << "event log intact: " << c.checked << " event(s) verified";
    if (c.before_chain > 0) std::cout << ", " << c.before_chain << " from before the chain";
    std::cout << "; head #" << c.head_id << " " << c.head_hash << "\n";
    return kExitOk;
  });
}

int config_check(Args& a) {
  return config_check_command(a.config, a.connect, std::cout);
}

// ---- the table ---------------------------------------------------------------------------

struct Group {
  std::string_view name;
  std::string_view summary;
};

// Groups of subcommands (`tilskudd cases list`).
constexpr Group kGroups[] = {
    {"cases", "Administrators: list, show and resolve cases"},
    {"payout", "Administrators: payout rounds"},
    {"store", "Operators: check the store"},
    {"config", "Operators: check the config"},
};

struct Command {
  std::string_view group;  // "" for a top-level command, else one of kGroups
  std::string_view name;
  std::string_view summary;
  void (*options)(CLI::App&, Args&);
  int (*run)(Args&);
};

constexpr Command kCommands[] = {
    {"", "inspect", "Parse and decide one message file; print the decision as JSON",
     inspect_options, inspect_command},
    {"", "run", "Run the daemon: poll the mailbox, decide applications, send the letters",
     run_options, run_command},
    {"cases", "list", "List cases (newest last)", list_options, list_command},
    {"cases", "flagged", "List the flagged cases and what a person must do", flagged_options,
     flagged_command},
    {"cases", "show", "Show one case with its history", show_options, show_command},
    {"cases", "resolve",
     "Decide a flagged case (or one waiting for documentation), or ask for documentation",
     resolve_options, resolve_command},
    {"cases", "resend",
     "Queue a case's decision letter again (failed, uncertain, or lost by the applicant)",
     resend_options, resend_command},
    {"cases", "release",
     "Let a held payout go after reading what arrived after the decision (a message, a "
     "competing application)",
     release_options, release_command},
    {"payout", "export", "The round's payouts as CSV for finance (one row per approved line)",
     export_options, export_command},
    {"payout", "schedule",
     "Put the round's sent decisions into the round (decision_sent -> scheduled)",
     round_action_options, schedule_command},
    {"payout", "mark-paid", "Record that finance paid the round (scheduled -> paid)",
     round_action_options, mark_paid_command},
    {"store", "verify", "Check the event log's hash chain (exit 1 when it was tampered with)",
     config_option, verify_command},
    {"store", "pending",
     "List the UIDs the mailbox listed without handing over their body, with their next try",
     pending_options, pending_command},
    {"config", "check",
     "Check the config, rosters, store folder, credential files and templates the daemon needs "
     "(exit 1 on any problem); with --connect also logs in to the mailbox and SMTP, changing "
     "nothing",
     config_check_options, config_check},
};

std::string version_text() {
  std::string v = std::string("tilskudd ") + TILSKUDD_VERSION;
  if (std::string_view(TILSKUDD_GIT_DESCRIBE) != "")
    v += std::string(" (git ") + TILSKUDD_GIT_DESCRIBE + ")";
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything can create a file: the store, its journal, exports are the user's alone.
  private_files::restrict_umask();
  CLI::App app{
      "tilskudd: decides facilitation grant applications (case 20/30298) from the "
      "municipality's mailbox"};
  app.require_subcommand(1);
  app.set_version_flag("--version", version_text(), "Print the version and exit");

  Args args;
  // A group's subcommand is added where its first command is, so `--help` lists them in the
  // table's order.
  std::map<std::string_view, CLI::App*> groups;
  auto group = [&](std::string_view name) {
    if (auto it = groups.find(name); it != groups.end()) return it->second;
    for (const Group& g : kGroups) {
      if (g.name != name) continue;
      CLI::App* sub = app.add_subcommand(std::string(g.name), std::string(g.summary));
      sub->require_subcommand(1);
      return groups[name] = sub;
    }
    throw std::logic_error("kCommands names an unknown group");
  };
  std::vector<std::pair<CLI::App*, const Command*>> parsed;
  for (const Command& c : kCommands) {
    CLI::App* parent = c.group.empty() ? &app : group(c.group);
    CLI::App* sub = parent->add_subcommand(std::string(c.name), std::string(c.summary));
    c.options(*sub, args);
    parsed.emplace_back(sub, &c);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitError;
  }

  for (const auto& [sub, command] : parsed) {
    if (!*sub) continue;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const int rc = command->run(args);
    curl_global_cleanup();
    return rc;
  }
  return kExitError;  // unreachable: require_subcommand(1) at every level
}
