// SHA-256 (FIPS 180-4) of a byte string, as lower-case hex: the content address of raw
// messages and attachments in the store. Self-contained because the build links no crypto
// library into tilskudd_workflow (libcrypto from libssl-dev would do; see the store's notes).
#pragma once

#include <string>
#include <string_view>

namespace tilskudd {

std::string sha256_hex(std::string_view bytes);

}  // namespace tilskudd
