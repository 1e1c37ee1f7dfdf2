// Parser benchmark driver for tilskudd's MIME parser (parsers/mime.h): the "full" workload
// (every leaf transfer-decoded, text converted to UTF-8; our parse always does all of it).
//
//   parse_tilskudd [--repeat N] [--check] FILE...   parse each file N times (default 1)
//   parse_tilskudd --base64 MIB                     decode MIB MiB of CRLF-wrapped base64 (a
//                                                   4 MiB attachment again and again), beside
//                                                   memcpy of the same bytes
//
// Prints one JSON line: messages, bytes, seconds (parse only; the files are read before the
// clock starts), leaves, nontext_bytes, text_bytes (UTF-8 without CR) and max_rss_kb. With
// --check, one line per file first: "path leaves nontext_bytes text_bytes".
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "parsers/mime.h"

namespace {

// VmHWM of this process (getrusage's ru_maxrss would carry the parent's peak over exec).
long max_rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

std::string read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Totals {
  long leaves = 0;
  long nontext = 0;
  long text = 0;
};

Totals count(const tilskudd::mime::Message& m) {
  Totals t;
  for (const auto& p : m.parts) {
    ++t.leaves;
    if (p.is_text()) {
      for (char c : p.body) t.text += c != '\r';
    } else {
      t.nontext += static_cast<long>(p.body.size());
    }
  }
  return t;
}

// Decodes a 4 MiB attachment (5.4 MB of base64 with CRLF) until `mib` MiB of input are done,
// and copies the same buffer as often with memcpy: the ceiling. (One huge buffer would measure
// page faults of fresh memory instead.)
int bench_base64(int mib) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::mt19937 rng(1);
  const std::size_t raw = std::size_t{4} << 20;
  std::string enc;
  enc.reserve(raw / 3 * 4 + raw / 57 * 2 + 8);
  int col = 0;
  for (std::size_t i = 0; i < raw / 3 * 4; ++i) {
    enc += alphabet[rng() & 63];
    if (++col == 76) {
      enc += "\r\n";
      col = 0;
    }
  }
  std::string copy(enc.size(), '\0');
  const int reps =
      std::max(1, static_cast<int>((static_cast<std::size_t>(mib) << 20) / enc.size()));
  std::size_t out = tilskudd::mime::decode_base64(enc).size();  // warm-up
  auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) out = tilskudd::mime::decode_base64(enc).size();
  auto t1 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) {
    std::memcpy(copy.data(), enc.data(), enc.size());
    asm volatile("" : : "r"(copy.data()) : "memory");
  }
  auto t2 = std::chrono::steady_clock::now();
  const double dec = std::chrono::duration<double>(t1 - t0).count();
  const double cpy = std::chrono::duration<double>(t2 - t1).count();
  const double mibs = static_cast<double>(enc.size()) * reps / (1 << 20);
  std::printf(
      "{\"encoded_bytes\": %zu, \"decoded_bytes\": %zu, \"repeat\": %d, \"decode_mib_s\": %.1f, "
      "\"memcpy_mib_s\": %.1f}\n",
      enc.size(), out, reps, mibs / dec, mibs / cpy);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int repeat = 1;
  bool check = false;
  std::vector<const char*> files;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
      repeat = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--check") == 0) {
      check = true;
    } else if (std::strcmp(argv[i], "--base64") == 0 && i + 1 < argc) {
      return bench_base64(std::atoi(argv[++i]));
    } else {
      files.push_back(argv[i]);
    }
  }
  std::vector<std::string> data;
  long bytes = 0;
  for (const char* f : files) {
    data.push_back(read_file(f));
    bytes += static_cast<long>(data.back().size());
  }
  const long rss_loaded = max_rss_kb();
  Totals all;
  auto t0 = std::chrono::steady_clock::now();
  for (int r = 0; r < repeat; ++r) {
    for (std::size_t i = 0; i < data.size(); ++i) {
      tilskudd::mime::Message m = tilskudd::mime::parse(data[i]);
      Totals t = count(m);
      if (r == 0) {
        all.leaves += t.leaves;
        all.nontext += t.nontext;
        all.text += t.text;
        if (check) std::printf("%s %ld %ld %ld\n", files[i], t.leaves, t.nontext, t.text);
      }
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "{\"parser\": \"tilskudd\", \"messages\": %zu, \"bytes\": %ld, \"repeat\": %d, "
      "\"seconds\": %.6f, \"leaves\": %ld, \"nontext_bytes\": %ld, \"text_bytes\": %ld, "
      "\"max_rss_kb\": %ld, \"rss_after_load_kb\": %ld}\n",
      data.size(), bytes, repeat, s, all.leaves, all.nontext, all.text, max_rss_kb(), rss_loaded);
  return 0;
}
