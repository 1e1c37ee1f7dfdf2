// tilskudd: the command line (CONTRACT §2).
#include <CLI/CLI.hpp>

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/admin.h"
#include "daemon/inspect.h"
#include "daemon/service.h"
#include "parsers/types.h"
#include "workflow/intake.h"
#include "workflow/resolve.h"
#include "workflow/store.h"

int main(int argc, char** argv) {
  CLI::App app{
      "tilskudd: decides facilitation grant applications (case 20/30298) from the "
      "municipality's mailbox"};
  app.require_subcommand(1);

  tilskudd::InspectArgs inspect;
  auto* cmd_inspect = app.add_subcommand(
      "inspect", "Parse and decide one message file; print the decision as JSON");
  cmd_inspect->add_option("--config", inspect.config_path, "Config file (TOML)")->required();
  cmd_inspect->add_option("--received", inspect.received,
                          "Date the message was received (YYYY-MM-DD); default: its Date header");
  cmd_inspect->add_flag("!--compact", inspect.pretty, "Print the JSON on one line");
  cmd_inspect->add_option("MESSAGE", inspect.message_path, "The message (.eml)")->required();

  tilskudd::RunArgs run;
  auto* cmd_run = app.add_subcommand(
      "run", "Run the daemon: poll the mailbox, decide applications, send the letters");
  cmd_run->add_option("--config", run.config_path, "Config file (TOML)")->required();
  cmd_run->add_flag("--once", run.once,
                    "One full poll-and-process cycle (fetch, decide, send), then exit");
  cmd_run->add_flag("--dry-run", run.dry_run,
                    "Shadow mode: only read the mailbox, send nothing, keep cases in a scratch "
                    "store");
  cmd_run->add_option("--scratch-store", run.scratch_store,
                      "The scratch store of --dry-run (default: <[store] path>.dry-run)");
  cmd_run->add_option("--log-level", run.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));

  // cases list|flagged|show: the administrators' view of the store (works while the daemon runs).
  std::string cases_config;
  std::string cases_state;
  std::string cases_ref;
  bool cases_json = false;
  auto* cmd_cases = app.add_subcommand("cases", "Administrators: list, show and resolve cases");
  cmd_cases->require_subcommand(1);
  auto* cmd_list = cmd_cases->add_subcommand("list", "List cases (newest last)");
  auto* cmd_flagged =
      cmd_cases->add_subcommand("flagged", "List the flagged cases and what a person must do");
  auto* cmd_show = cmd_cases->add_subcommand("show", "Show one case with its history");
  for (auto* c : {cmd_list, cmd_flagged, cmd_show}) {
    c->add_option("--config", cases_config, "Config file (TOML)")->required();
    c->add_flag("--json", cases_json, "Print JSON instead of text");
  }
  cmd_list->add_option("--state", cases_state,
                       "Only cases in this state (received, needs_documentation, flagged, "
                       "decided, decision_sent, scheduled, paid)");
  cmd_show->add_option("REF", cases_ref, "The case reference, e.g. TT-2026-0042")->required();

  // cases resolve|resend: a saksbehandler's decisions (workflow/resolve.h). The letters are
  // queued in the store; the running daemon sends them on its next cycle.
  std::string admin_name;
  bool do_approve = false, do_reject = false, do_ask = false;
  std::optional<std::int64_t> resolve_amount;
  std::optional<int> resolve_line;
  std::string resolve_note;
  std::vector<std::string> resolve_missing;
  auto* cmd_resolve = cmd_cases->add_subcommand(
      "resolve",
      "Decide a flagged case (or one waiting for documentation), or ask for documentation");
  cmd_resolve->add_option("REF", cases_ref, "The case reference, e.g. TT-2026-0042")->required();
  auto* opt_approve = cmd_resolve->add_flag(
      "--approve", do_approve, "Approve the line(s); amount: --amount, else what the rules give");
  auto* opt_reject =
      cmd_resolve->add_flag("--reject", do_reject, "Reject the line(s); needs --note");
  auto* opt_ask = cmd_resolve->add_flag("--ask-documentation", do_ask,
                                        "Ask the applicant for documentation (needs --missing)");
  opt_approve->excludes(opt_reject)->excludes(opt_ask);
  opt_reject->excludes(opt_ask);
  cmd_resolve
      ->add_option("--amount", resolve_amount,
                   "Whole kroner for each approved line (default: the rules' amount)")
      ->needs(opt_approve);
  cmd_resolve->add_option("--line", resolve_line,
                          "Only this line (1-based, as `cases show` numbers them); default: every "
                          "line that waits for a person");
  cmd_resolve->add_option("--note", resolve_note,
                          "Why (bokmål: it is the line's reason in the decision letter); required "
                          "for --reject and for an --amount other than the rules'");
  cmd_resolve
      ->add_option("--missing", resolve_missing,
                   "What the applicant must send (bokmål); repeat for each item")
      ->needs(opt_ask)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  auto* cmd_resend = cmd_cases->add_subcommand(
      "resend",
      "Queue a case's decision letter again (failed, uncertain, or lost by the applicant)");
  cmd_resend->add_option("REF", cases_ref, "The case reference, e.g. TT-2026-0042")->required();
  for (auto* c : {cmd_resolve, cmd_resend}) {
    c->add_option("--config", cases_config, "Config file (TOML)")->required();
    c->add_option("--by", admin_name, "Your user name, recorded as admin:<name>")->required();
  }

  // payout export|schedule|mark-paid: a payout round, named by its deadline.
  std::string payout_round;
  std::string payout_output;
  auto* cmd_payout = app.add_subcommand("payout", "Administrators: payout rounds");
  cmd_payout->require_subcommand(1);
  auto* cmd_export = cmd_payout->add_subcommand(
      "export", "The round's payouts as CSV for finance (one row per approved line)");
  auto* cmd_schedule = cmd_payout->add_subcommand(
      "schedule", "Put the round's sent decisions into the round (decision_sent -> scheduled)");
  auto* cmd_paid = cmd_payout->add_subcommand(
      "mark-paid", "Record that finance paid the round (scheduled -> paid)");
  const CLI::Validator round_date(
      [](std::string& s) -> std::string {
        auto d = tilskudd::Date::from_iso(s);
        if (s.size() != 10 || !d || !d->valid() || d->iso() != s)
          return "'" + s + "' is not a date YYYY-MM-DD (the round's deadline, e.g. 2026-12-01)";
        return "";
      },
      "YYYY-MM-DD", "round date");
  for (auto* c : {cmd_export, cmd_schedule, cmd_paid}) {
    c->add_option("--round", payout_round, "The round's deadline, YYYY-MM-DD")
        ->required()
        ->check(round_date);
    c->add_option("--config", cases_config, "Config file (TOML)")->required();
  }
  cmd_export->add_option("--output", payout_output, "Write the CSV to this file (default: stdout)");
  for (auto* c : {cmd_schedule, cmd_paid}) {
    c->add_option("--by", admin_name, "Your user name, recorded as admin:<name>")->required();
  }

  // store verify: the event log's hash chain.
  std::string store_config;
  auto* cmd_store = app.add_subcommand("store", "Operators: check the store");
  cmd_store->require_subcommand(1);
  auto* cmd_verify = cmd_store->add_subcommand(
      "verify", "Check the event log's hash chain (exit 1 when it was tampered with)");
  cmd_verify->add_option("--config", store_config, "Config file (TOML)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc = 0;
  if (*cmd_inspect) rc = tilskudd::run_inspect(inspect);
  if (*cmd_run) rc = tilskudd::run_daemon(run);
  if (*cmd_verify) {
    rc = [&]() -> int {
      try {
        tilskudd::config::Config cfg = tilskudd::config::load(store_config);
        tilskudd::Store store = tilskudd::Store::open(cfg.store.path);
        tilskudd::EventChainCheck c = store.verify_events();
        if (!c.ok) {
          std::cout << "event log TAMPERED WITH: " << c.problem << " (event #" << c.first_bad_id
                    << ")\n";
          return 1;
        }
        std::cout << "event log intact: " << c.checked << " event(s) verified";
        if (c.before_chain > 0) std::cout << ", " << c.before_chain << " from before the chain";
        std::cout << "; head #" << c.head_id << " " << c.head_hash << "\n";
        return 0;
      } catch (const tilskudd::config::ConfigError& e) {
        std::cerr << "tilskudd: config error: " << e.what() << "\n";
        return 2;
      } catch (const tilskudd::StoreError& e) {
        std::cerr << "tilskudd: store: " << e.what() << "\n";
        return 2;
      }
    }();
  }
  const bool admin_action = *cmd_resolve || *cmd_resend || *cmd_payout;
  if (*cmd_resolve && !do_approve && !do_reject && !do_ask) {
    std::cerr << "tilskudd cases resolve: give one of --approve, --reject, --ask-documentation\n";
    rc = 2;
  } else if (admin_action) {
    rc = [&]() -> int {
      tilskudd::config::Config cfg;
      std::optional<tilskudd::IntakeSettings> settings;
      try {
        cfg = tilskudd::config::load(cases_config);
        if (*cmd_resolve) settings = tilskudd::admin::letter_settings(cfg);
      } catch (const tilskudd::config::ConfigError& e) {
        std::cerr << "tilskudd: config error: " << e.what() << "\n";
        return 2;
      }
      const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
      std::optional<tilskudd::Store> store;
      try {
        store.emplace(tilskudd::Store::open(cfg.store.path));
      } catch (const tilskudd::StoreError& e) {
        std::cerr << "tilskudd: store " << cfg.store.path << ": " << e.what() << "\n";
        return 2;
      }
      if (*cmd_resolve) {
        tilskudd::ResolveRequest req;
        req.action = do_approve  ? tilskudd::ResolveRequest::Action::approve
                     : do_reject ? tilskudd::ResolveRequest::Action::reject
                                 : tilskudd::ResolveRequest::Action::ask_documentation;
        req.line = resolve_line;
        req.amount = resolve_amount;
        req.admin = admin_name;
        req.note = resolve_note;
        req.missing = resolve_missing;
        return tilskudd::admin::case_resolve(*store, cases_ref, req, *settings, now, std::cout,
                                             std::cerr);
      }
      if (*cmd_resend) {
        return tilskudd::admin::case_resend(*store, cases_ref, admin_name,
                                            cfg.mailbox.poll_interval_seconds, now, std::cout,
                                            std::cerr);
      }
      if (*cmd_export) {
        return tilskudd::admin::payout_export_command(*store, payout_round, payout_output,
                                                      std::cout, std::cerr);
      }
      if (*cmd_schedule) {
        return tilskudd::admin::payout_schedule_command(*store, payout_round, admin_name, now,
                                                        std::cout, std::cerr);
      }
      return tilskudd::admin::payout_mark_paid_command(*store, payout_round, admin_name, now,
                                                       std::cout, std::cerr);
    }();
  } else if (*cmd_cases) {
    rc = [&]() -> int {
      tilskudd::config::Config cfg;
      try {
        cfg = tilskudd::config::load(cases_config);
      } catch (const tilskudd::config::ConfigError& e) {
        std::cerr << "tilskudd: config error: " << e.what() << "\n";
        return 2;
      }
      std::optional<tilskudd::CaseState> state;
      if (!cases_state.empty()) {
        state = tilskudd::parse_enum<tilskudd::CaseState>(cases_state);
        if (!state) {
          std::cerr << "tilskudd: --state: unknown state '" << cases_state << "'\n";
          return 2;
        }
      }
      try {
        tilskudd::Store store = tilskudd::Store::open(cfg.store.path);
        if (*cmd_show) {
          return tilskudd::admin::case_show(store, cases_ref, cases_json, std::cout, std::cerr);
        }
        tilskudd::admin::ListOptions opt;
        opt.state = state;
        opt.flagged_only = static_cast<bool>(*cmd_flagged);
        opt.json = cases_json;
        return tilskudd::admin::cases_list(store, opt, std::cout, std::cerr);
      } catch (const tilskudd::StoreError& e) {
        std::cerr << "tilskudd: store " << cfg.store.path << ": " << e.what() << "\n";
        return 1;
      }
    }();
  }
  curl_global_cleanup();
  return rc;
}
