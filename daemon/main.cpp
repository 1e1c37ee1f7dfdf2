// tilskudd: the command line (CONTRACT §2).
#include <CLI/CLI.hpp>

#include <curl/curl.h>

#include <iostream>
#include <optional>

#include "config/config.h"
#include "daemon/admin.h"
#include "daemon/inspect.h"
#include "daemon/service.h"
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
  auto* cmd_cases = app.add_subcommand("cases", "Administrators: list and show cases");
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
  if (*cmd_cases) {
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
        state = tilskudd::parse_case_state(cases_state);
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
