// tilskudd: the command line (CONTRACT §2).
#include <CLI/CLI.hpp>

#include <curl/curl.h>

#include "daemon/inspect.h"

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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc = 0;
  if (*cmd_inspect) rc = tilskudd::run_inspect(inspect);
  curl_global_cleanup();
  return rc;
}
