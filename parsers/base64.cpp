#include "parsers/base64.h"

#include <bit>
#include <cstdint>
#include <cstring>

namespace tilskudd::base64 {

namespace {

// Set in a table entry for a character outside the alphabet: above the 24 bits of output.
constexpr std::uint32_t kBad = 0x01000000;

struct Tables {
  // The six bits of a character at position 0..3 of a group, placed where they go in the group's
  // three output bytes, taken as a little-endian word: byte k of the group is bits 8k..8k+7.
  std::uint32_t at[4][256];
  // The six bits of a character; -1 outside the alphabet.
  signed char value[256];
};

constexpr Tables make_tables() {
  Tables t{};
  for (int c = 0; c < 256; ++c) t.value[c] = -1;
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; ++i)
    t.value[static_cast<unsigned char>(alphabet[i])] = static_cast<signed char>(i);
  // URL-safe alphabet, as some broken mailers write it.
  t.value[static_cast<unsigned char>('-')] = 62;
  t.value[static_cast<unsigned char>('_')] = 63;
  for (int c = 0; c < 256; ++c) {
    if (t.value[c] < 0) {
      for (auto& row : t.at) row[c] = kBad;
      continue;
    }
    const auto v = static_cast<std::uint32_t>(t.value[c]);
    // Output bytes: b0 = v0 << 2 | v1 >> 4; b1 = (v1 & 15) << 4 | v2 >> 2; b2 = (v2 & 3) << 6 | v3.
    t.at[0][c] = v << 2;
    t.at[1][c] = (v >> 4) | ((v & 0x0f) << 12);
    t.at[2][c] = ((v >> 2) << 8) | ((v & 0x03) << 22);
    t.at[3][c] = v << 16;
  }
  return t;
}

constexpr Tables kTables = make_tables();

// One group of four characters at `p`: its three bytes as a little-endian word, or a word with
// kBad set when a character is outside the alphabet.
inline std::uint32_t group(const unsigned char* p) {
  return kTables.at[0][p[0]] | kTables.at[1][p[1]] | kTables.at[2][p[2]] | kTables.at[3][p[3]];
}

// Writes the group's three bytes at `o`; may also write o[3] (the caller keeps room for it).
inline void put(char* o, std::uint32_t w) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(o, &w, 4);
  } else {
    o[0] = static_cast<char>(w);
    o[1] = static_cast<char>(w >> 8);
    o[2] = static_cast<char>(w >> 16);
  }
}

}  // namespace

std::string decode_mime(std::string_view in, std::size_t* skipped) {
  std::string out;
  // Three bytes per four characters, plus room for the partial group and for put()'s fourth byte.
  out.resize(in.size() / 4 * 3 + 8);
  char* o = out.data();
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const unsigned char* const end = p + in.size();

  // The careful path's state: the characters of the group so far (n of them, acc their bits).
  std::uint32_t acc = 0;
  int n = 0;
  std::size_t bad = 0;
  auto flush_partial = [&] {
    if (n == 2) {
      *o++ = static_cast<char>(acc >> 4);
    } else if (n == 3) {
      *o++ = static_cast<char>(acc >> 10);
      *o++ = static_cast<char>(acc >> 2);
    } else if (n == 1) {
      ++bad;
    }
    acc = 0;
    n = 0;
  };

  while (p < end) {
    if (n == 0) {
      // Fast path, only at a group boundary: whole groups, 16 characters at a time, then 4.
      while (end - p >= 16) {
        const std::uint32_t w0 = group(p), w1 = group(p + 4), w2 = group(p + 8), w3 = group(p + 12);
        if ((w0 | w1 | w2 | w3) & kBad) break;
        put(o, w0);
        put(o + 3, w1);
        put(o + 6, w2);
        put(o + 9, w3);
        p += 16;
        o += 12;
      }
      while (end - p >= 4) {
        const std::uint32_t w = group(p);
        if (w & kBad) break;
        put(o, w);
        p += 4;
        o += 3;
      }
      // The end of a line between groups.
      if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
        p += 2;
        continue;
      }
      if (p < end && p[0] == '\n') {
        ++p;
        continue;
      }
      if (p == end) break;
    }
    // Careful path: one character, as the scalar decoder always did.
    const unsigned char ch = *p++;
    const signed char v = kTables.value[ch];
    if (v < 0) {
      if (ch == '=') {
        flush_partial();  // padding ends a group; concatenated base64 may follow
      } else if (!(ch == '\r' || ch == '\n' || ch == ' ' || ch == '\t')) {
        ++bad;
      }
      continue;
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    if (++n == 4) {
      *o++ = static_cast<char>(acc >> 16);
      *o++ = static_cast<char>(acc >> 8);
      *o++ = static_cast<char>(acc);
      acc = 0;
      n = 0;
    }
  }
  flush_partial();
  out.resize(static_cast<std::size_t>(o - out.data()));
  if (skipped) *skipped = bad;
  return out;
}

}  // namespace tilskudd::base64
