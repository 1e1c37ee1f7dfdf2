// libFuzzer driver for tilskudd::fuzz::run_config (fuzz/targets.h, fuzz/README.md).
//
// config::parse reads the roster CSV a [year.*] table names. A fuzzed path could name a FIFO or
// a device (/run/initctl, /dev/stdin) and block the fuzzer, so inputs whose roster path has a
// '/' are skipped here; a path without one resolves inside a folder that does not exist. The
// roster CSV parser itself is fuzzed directly by run_config.
#include <toml++/toml.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/targets.h"

namespace {

// True when some table holds a string "roster" that could lead outside kConfigBaseDir.
bool roster_path_escapes(const toml::node& node) {
  if (const auto* t = node.as_table()) {
    for (const auto& [key, value] : *t) {
      if (key.str() == "roster") {
        const auto* s = value.as_string();
        if (s && s->get().find('/') != std::string::npos) return true;
      }
      if (roster_path_escapes(value)) return true;
    }
  } else if (const auto* a = node.as_array()) {
    for (const auto& value : *a) {
      if (roster_path_escapes(value)) return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    toml::table root = toml::parse(text);
    if (roster_path_escapes(root)) return -1;  // -1: not added to the corpus
  } catch (const toml::parse_error&) {
    // config::parse reports it (ConfigError) without reading any roster.
  }
  tilskudd::fuzz::run_config(text);
  return 0;
}
