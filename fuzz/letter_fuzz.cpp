// libFuzzer driver for tilskudd::fuzz::run_letter (fuzz/targets.h, fuzz/README.md).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tilskudd::fuzz::run_letter(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
