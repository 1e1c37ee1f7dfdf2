// The forgiving MIME base64 decoder behind mime::decode_base64, in portable C++20 without
// platform intrinsics. Pure: bytes in, bytes out; never throws on bad input (only std::bad_alloc).
//
// It decodes four characters at a time through four 256-entry tables whose entries are the
// character's six bits already placed where they land in the three output bytes, so a group
// costs four lookups, three ORs and one test. Runs of clean groups go 16 characters at a time
// with one test; a line break (CRLF or LF) between groups is stepped over without looking at the
// characters around it. Anything else (white space inside a group, padding, characters outside
// the alphabet, lines whose length is not a multiple of four) takes the byte-at-a-time path,
// which is the previous scalar decoder: the output and the `skipped` count are exactly the same
// as before for every input (tests/unit/base64_test.cpp compares both).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tilskudd::base64 {

// Forgiving base64 (the standard alphabet, and '-' '_' of the URL-safe one): characters outside
// the alphabet are skipped, '=' ends a group (a concatenated encoding may follow). `skipped`
// (optional) receives the number of non-whitespace characters that were skipped plus one for
// each group that ended with a single character.
std::string decode_mime(std::string_view in, std::size_t* skipped = nullptr);

}  // namespace tilskudd::base64
