// The corpus: every tests/corpus/*.eml decided under tests/corpus/config.toml and compared with
// its expected tests/corpus/*.json (a subset: only the keys the expected file names; "flags" as
// the set of flag codes). See tests/corpus/README.md.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "daemon/pdf_sandbox.h"
#include "tests/support/support.h"
#include "workflow/assess.h"

namespace tilskudd {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path corpus_dir() {
  return testing::source_dir() / "tests" / "corpus";
}

std::vector<std::string> corpus_names() {
  std::vector<std::string> names;
  if (!fs::exists(corpus_dir())) return names;
  for (const auto& e : fs::directory_iterator(corpus_dir())) {
    if (e.path().extension() == ".eml") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Compares `expected` as a subset of `actual`; appends every difference to `diffs`.
void compare(const json& expected, const json& actual, const std::string& path,
             std::vector<std::string>& diffs) {
  if (path == "/flags") {
    std::set<std::string> want, got;
    for (const auto& f : expected) want.insert(f.get<std::string>());
    if (actual.is_array()) {
      for (const auto& f : actual) got.insert(f.value("code", ""));
    }
    if (want != got) {
      std::string w, g;
      for (const auto& s : want) w += s + " ";
      for (const auto& s : got) g += s + " ";
      diffs.push_back(path + ": expected codes {" + w + "} got {" + g + "}");
    }
    return;
  }
  if (expected.is_object()) {
    if (!actual.is_object()) {
      diffs.push_back(path + ": expected an object, got " + actual.dump());
      return;
    }
    for (const auto& [key, value] : expected.items()) {
      if (!key.empty() && key[0] == '_') continue;  // runner directives
      if (!actual.contains(key)) {
        diffs.push_back(path + "/" + key + ": missing");
        continue;
      }
      compare(value, actual.at(key), path + "/" + key, diffs);
    }
    return;
  }
  if (expected.is_array()) {
    if (!actual.is_array() || actual.size() != expected.size()) {
      diffs.push_back(path + ": expected " + expected.dump() + ", got " + actual.dump());
      return;
    }
    for (size_t i = 0; i < expected.size(); ++i) {
      compare(expected[i], actual[i], path + "/" + std::to_string(i), diffs);
    }
    return;
  }
  if (expected != actual) {
    diffs.push_back(path + ": expected " + expected.dump() + ", got " + actual.dump());
  }
}

class Corpus : public ::testing::TestWithParam<std::string> {};

TEST_P(Corpus, DecidesAsExpected) {
  const std::string name = GetParam();
  config::Config cfg = config::load(corpus_dir() / "config.toml");
  json expected = json::parse(testing::read_file(corpus_dir() / (name + ".json")));
  std::string raw = testing::read_file(corpus_dir() / (name + ".eml"));

  AssessOptions opt;
  opt.today = Date{2020, 10, 1};
  if (expected.contains("_received")) {
    opt.received = Date::from_iso(expected["_received"].get<std::string>());
    ASSERT_TRUE(opt.received) << "bad _received in " << name;
  }
  PdfLimits limits = cfg.limits.pdf;
  opt.pdf = [limits](std::string_view b) { return extract_pdf_text_sandboxed(b, limits); };

  json actual = to_json(assess(raw, cfg, opt));
  std::vector<std::string> diffs;
  compare(expected, actual, "", diffs);
  std::string report;
  for (const auto& d : diffs) report += "  " + d + "\n";
  EXPECT_TRUE(diffs.empty()) << name << ":\n" << report << "actual:\n" << actual.dump(2);
}

INSTANTIATE_TEST_SUITE_P(All, Corpus, ::testing::ValuesIn(corpus_names()), [](const auto& info) {
  std::string n = info.param;
  for (char& c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
});
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Corpus);

TEST(CorpusSize, HasAtLeastThirtyEmailsEachWithExpectedJson) {
  auto names = corpus_names();
  EXPECT_GE(names.size(), 30u);
  for (const auto& n : names) {
    EXPECT_TRUE(fs::exists(corpus_dir() / (n + ".json"))) << n << " has no expected JSON";
  }
}

}  // namespace
}  // namespace tilskudd
