#include "parsers/uuencode.h"

namespace tilskudd::uu {
namespace {

// The next line of `s` from `pos` without its line break; `pos` moves past the break.
std::string_view next_line(std::string_view s, std::size_t& pos) {
  std::size_t start = pos;
  std::size_t e = start;
  while (e < s.size() && s[e] != '\n' && s[e] != '\r') ++e;
  std::string_view line = s.substr(start, e - start);
  if (e < s.size() && s[e] == '\r') ++e;
  if (e < s.size() && s[e] == '\n') ++e;
  pos = e;
  return line;
}

std::string_view trim_right(std::string_view l) {
  while (!l.empty() && (l.back() == ' ' || l.back() == '\t')) l.remove_suffix(1);
  return l;
}

// "begin <octal mode> <name>" (the name may hold spaces).
bool begin_line(std::string_view line, std::string& name) {
  line = trim_right(line);
  if (line.size() < 8 || line.substr(0, 6) != "begin ") return false;
  std::size_t i = 6;
  std::size_t digits = 0;
  while (i < line.size() && line[i] >= '0' && line[i] <= '7') {
    ++i;
    ++digits;
  }
  if (digits < 3 || digits > 4 || i >= line.size() || line[i] != ' ') return false;
  while (i < line.size() && line[i] == ' ') ++i;
  if (i >= line.size()) return false;
  name = std::string(line.substr(i));
  return true;
}

bool end_line(std::string_view line) {
  return trim_right(line) == "end";
}

unsigned value(char c) {
  return (static_cast<unsigned>(c) - 32u) & 63u;
}

// One uuencoded line appended to `out`. Returns 0 for a data line, 1 for the zero-length line
// ("`" or " "), -1 for a line that is not uuencoded. Trailing spaces lost in transport are
// read as zeros; a line may carry up to 2 extra check characters.
int decode_line(std::string_view line, std::string& out) {
  if (line.empty()) return -1;
  for (char c : line)
    if (c < 32 || c > 96) return -1;
  const unsigned n = value(line[0]);
  if (n == 0) return trim_right(line).size() == 1 || trim_right(line).empty() ? 1 : -1;
  const std::size_t need = (n + 2) / 3 * 4;
  std::string_view data = line.substr(1);
  std::string_view content = trim_right(data);
  if (content.size() > need + 2 || content.size() + 4 <= need) return -1;
  auto at = [&](std::size_t i) { return i < data.size() ? value(data[i]) : 0u; };
  std::size_t written = 0;
  for (std::size_t i = 0; i < need && written < n; i += 4) {
    unsigned a = at(i), b = at(i + 1), c = at(i + 2), d = at(i + 3);
    const char bytes[3] = {static_cast<char>((a << 2) | (b >> 4)),
                           static_cast<char>(((b & 15) << 4) | (c >> 2)),
                           static_cast<char>(((c & 3) << 6) | d)};
    for (char x : bytes) {
      if (written == n) break;
      out += x;
      ++written;
    }
  }
  return 0;
}

}  // namespace

Decoded decode(std::string_view body) {
  Decoded d;
  std::size_t pos = 0;
  while (pos < body.size() && !d.begun) d.begun = begin_line(next_line(body, pos), d.name);
  if (!d.begun) return d;
  d.data.reserve(body.size() - pos < (1u << 20) ? (body.size() - pos) * 3 / 4 : 1u << 20);
  while (pos < body.size()) {
    std::string_view line = next_line(body, pos);
    if (end_line(line)) {
      d.ended = true;
      break;
    }
    if (line.empty()) continue;
    if (decode_line(line, d.data) < 0) ++d.bad_lines;
  }
  return d;
}

std::vector<Block> find_blocks(std::string_view text, std::size_t max_blocks, bool* more) {
  std::vector<Block> out;
  if (more) *more = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t line_start = pos;
    std::string_view line = next_line(text, pos);
    std::string name;
    if (line.size() < 8 || line[0] != 'b' || !begin_line(line, name)) continue;
    // Only uuencoded lines up to "end"; anything else and this "begin" was prose.
    std::size_t p = pos;
    std::string data;
    bool ok = false, any = false, zero = false;
    while (p < text.size()) {
      std::string_view l = next_line(text, p);
      if (end_line(l)) {
        ok = any;
        break;
      }
      if (zero) break;  // only "end" may follow the zero-length line
      int r = decode_line(l, data);
      if (r < 0) break;
      if (r == 1) zero = true;
      if (r == 0) any = true;
    }
    if (!ok) continue;
    if (out.size() >= max_blocks) {
      if (more) *more = true;
      break;
    }
    out.push_back({line_start, p, std::move(name), std::move(data)});
    pos = p;
  }
  return out;
}

}  // namespace tilskudd::uu
