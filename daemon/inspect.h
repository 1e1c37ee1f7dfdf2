// `tilskudd inspect`: parse and decide one message file, print the docs/CONTRACT.md §4 JSON.
#pragma once

#include <optional>
#include <string>

namespace tilskudd {

struct InspectArgs {
  std::string config_path;
  std::string message_path;
  std::optional<std::string> received;  // YYYY-MM-DD
  bool pretty = true;
};

// Returns the process exit code: 0 when the message could be read (whatever it is), 2 for a
// usage or config error, 1 when the message file cannot be read. Errors go to stderr.
int run_inspect(const InspectArgs& args);

}  // namespace tilskudd
