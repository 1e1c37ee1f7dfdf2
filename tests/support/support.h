// Helpers shared by the unit and integration tests.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace tilskudd::testing {

// Reads a whole file (throws std::runtime_error when it cannot).
std::string read_file(const std::filesystem::path& path);

// The repository's root (from the build's TILSKUDD_SOURCE_DIR).
std::filesystem::path source_dir();

// Base64 as a mail attachment carries it: lines of 76 characters, each ending in CRLF.
std::string base64_lines(std::string_view bytes);

// The current year (UTC), for configs whose rounds must cover today.
int current_year();

}  // namespace tilskudd::testing
