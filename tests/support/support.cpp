#include "tests/support/support.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace tilskudd::testing {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::filesystem::path source_dir() {
#ifdef TILSKUDD_SOURCE_DIR
  return TILSKUDD_SOURCE_DIR;
#else
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
#endif
}

}  // namespace tilskudd::testing
