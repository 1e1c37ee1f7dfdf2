#include "daemon/inspect.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "config/config.h"
#include "daemon/pdf_sandbox.h"
#include "workflow/assess.h"

namespace tilskudd {

namespace {

Date today_local() {
  auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  localtime_r(&now, &tm);
  return Date{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

}  // namespace

int run_inspect(const InspectArgs& args) {
  config::Config cfg;
  try {
    cfg = config::load(args.config_path);
  } catch (const config::ConfigError& e) {
    std::cerr << "tilskudd: config error: " << e.what() << "\n";
    return 2;
  }

  AssessOptions opt;
  opt.today = today_local();
  if (args.received) {
    auto d = Date::from_iso(*args.received);
    if (!d) {
      std::cerr << "tilskudd: --received: '" << *args.received << "' is not a date (YYYY-MM-DD)\n";
      return 2;
    }
    opt.received = d;
  }
  PdfLimits limits = cfg.limits.pdf;
  const DocumentConfinement mode = cfg.limits.allow_unconfined_documents
                                       ? DocumentConfinement::best_effort
                                       : DocumentConfinement::required;
  opt.pdf = [limits, mode](std::string_view bytes) {
    return extract_pdf_text_sandboxed(bytes, limits, mode);
  };

  std::ifstream in(args.message_path, std::ios::binary);
  if (!in) {
    std::cerr << "tilskudd: cannot read message file '" << args.message_path << "'\n";
    return 1;
  }
  std::string raw;
  {
    // Read at most the configured message size plus one byte, so a huge file cannot exhaust
    // memory; the MIME layer reports the truncation. In chunks: memory follows the file's
    // size, not the limit (a zero-filled buffer of the limit made a 100-byte message cost 80 MB).
    const std::size_t cap = cfg.limits.mime.max_message_bytes + 1;
    std::error_code ec;
    if (const auto size = std::filesystem::file_size(args.message_path, ec); !ec)
      raw.reserve(static_cast<std::size_t>(std::min<std::uintmax_t>(size, cap)));
    std::array<char, 64 * 1024> chunk;
    while (raw.size() < cap && in) {
      in.read(chunk.data(), static_cast<std::streamsize>(std::min(chunk.size(), cap - raw.size())));
      raw.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad()) {
      std::cerr << "tilskudd: error reading message file '" << args.message_path << "'\n";
      return 1;
    }
  }

  Assessment a = assess(raw, cfg, opt);
  std::cout << to_json(a).dump(args.pretty ? 2 : -1) << "\n";
  return 0;
}

}  // namespace tilskudd
