// uuencode (POSIX uuencode(1), historical "begin 644 name" blocks) as old mail clients send it:
// as a Content-Transfer-Encoding (x-uuencode, x-uue, uuencode) and as blocks inside a plain
// text body. Pure and linear in the input; the output is never larger than the input.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tilskudd::uu {

struct Decoded {
  bool begun = false;         // a "begin <mode> <name>" line was found
  bool ended = false;         // its "end" line was found
  std::string name;           // the name on the begin line
  std::string data;           // the decoded bytes
  std::size_t bad_lines = 0;  // lines inside the block that are not uuencoded (skipped)
};

// Decodes the first block in `body` (a part's whole body): lines before the begin line are
// skipped, lines that are not uuencoded are counted and skipped, decoding stops at "end".
Decoded decode(std::string_view body);

struct Block {
  std::size_t begin = 0;  // offset of the begin line in the text
  std::size_t end = 0;    // offset just past the end line (and its line break)
  std::string name;
  std::string data;
};

// The well-formed blocks in a plain text ("begin 644 brev.pdf", only uuencoded lines, "end"),
// in order, at most `max_blocks`. A "begin" line followed by anything else is prose and is not
// a block. `more` (optional) is set when blocks beyond `max_blocks` were left in the text.
std::vector<Block> find_blocks(std::string_view text, std::size_t max_blocks, bool* more = nullptr);

}  // namespace tilskudd::uu
