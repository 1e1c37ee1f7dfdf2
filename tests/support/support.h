// Helpers shared by the unit tests.
#pragma once

#include <filesystem>
#include <string>

namespace tilskudd::testing {

// Reads a whole file (throws std::runtime_error when it cannot).
std::string read_file(const std::filesystem::path& path);

// The repository's root (from the build's TILSKUDD_SOURCE_DIR).
std::filesystem::path source_dir();

}  // namespace tilskudd::testing
