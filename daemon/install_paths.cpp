#include "daemon/install_paths.h"

#include <filesystem>
#include <system_error>

#ifndef TILSKUDD_TEMPLATES_DIR
#define TILSKUDD_TEMPLATES_DIR "/usr/share/tilskudd/templates"
#endif

namespace tilskudd {

std::string letter_templates_dir(const config::Config& config) {
  if (!config.letters.templates_dir.empty()) return config.letters.templates_dir;
  std::string templates = TILSKUDD_TEMPLATES_DIR;
  std::error_code ec;
  if (!std::filesystem::is_directory(templates, ec)) {
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    auto installed = exe.parent_path().parent_path() / "share" / "tilskudd" / "templates";
    if (!ec && std::filesystem::is_directory(installed, ec)) templates = installed.string();
  }
  return templates;
}

}  // namespace tilskudd
