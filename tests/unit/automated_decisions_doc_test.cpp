// docs/AUTOMATED-DECISIONS.md "Rules in code" documents the legal content of the automated
// decisions (forvaltningsloven 2025 §§ 11-13): for each rule its config keys, the code that
// applies it and the tests that prove it. This test reads that table, so it cannot drift: every
// named function must be in its file, every config key in config/tilskudd.example.toml (in its
// section), every named test in its test file; and every key of [controls] and [sender] in the
// example must be in the table.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "parsers/text.h"
#include "tests/support/support.h"

namespace tilskudd {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = fs::path(TILSKUDD_SOURCE_DIR);

struct Row {
  std::string rule;
  std::vector<std::string> keys, code, tests;
};

// The `quoted` items of a table cell.
std::vector<std::string> items(const std::string& cell) {
  std::vector<std::string> out;
  static const std::regex re("`([^`]+)`");
  for (std::sregex_iterator it(cell.begin(), cell.end(), re), end; it != end; ++it)
    out.push_back((*it)[1].str());
  return out;
}

std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::size_t pos = line.find('|') + 1;
  while (pos < line.size()) {
    std::size_t next = line.find('|', pos);
    if (next == std::string::npos) break;
    out.emplace_back(text::trim(line.substr(pos, next - pos)));
    pos = next + 1;
  }
  return out;
}

std::vector<Row> table() {
  const std::string doc = testing::read_file(kRoot / "docs" / "AUTOMATED-DECISIONS.md");
  std::vector<Row> rows;
  bool in_section = false;
  for (std::string_view line : text::split_lines(doc)) {
    if (line.rfind("## ", 0) == 0) in_section = line == "## Rules in code";
    if (!in_section || line.rfind("| ", 0) != 0) continue;
    auto c = cells(std::string(line));
    if (c.size() != 5 || c[0] == "rule") continue;
    rows.push_back({c[0], items(c[2]), items(c[3]), items(c[4])});
  }
  return rows;
}

// "[section] key" -> section (without "[...]") and key.
std::pair<std::string, std::string> split_key(const std::string& item) {
  auto close = item.find(']');
  if (item.empty() || item[0] != '[' || close == std::string::npos) return {"", ""};
  return {item.substr(1, close - 1), std::string(text::trim(item.substr(close + 1)))};
}

// The keys (also commented-out ones, "# key = ...") per section of the example config; every
// [year.NNNN] table counts as "year.N".
std::map<std::string, std::set<std::string>> example_keys() {
  const std::string toml = testing::read_file(kRoot / "config" / "tilskudd.example.toml");
  std::map<std::string, std::set<std::string>> out;
  static const std::regex section(R"(^#?\s*\[([A-Za-z0-9_.]+)\]\s*$)");
  static const std::regex key(R"(^#?\s*([a-z_]+)\s*=)");
  std::string current;
  for (std::string_view v : text::split_lines(toml)) {
    std::string line(v);
    std::smatch m;
    if (std::regex_match(line, m, section)) {
      current = m[1].str();
      if (current.rfind("year.", 0) == 0) current = "year.N";
    } else if (std::regex_search(line, m, key) && !current.empty()) {
      out[current].insert(m[1].str());
    }
  }
  return out;
}

TEST(AutomatedDecisionsDoc, TheTableNamesEveryRuleOfTheRoutine) {
  auto rows = table();
  ASSERT_GE(rows.size(), 10u) << "the table in docs/AUTOMATED-DECISIONS.md was not found";
  std::set<std::string> rules;
  for (const Row& r : rows) {
    rules.insert(r.rule);
    EXPECT_FALSE(r.code.empty()) << "rule " << r.rule << " names no code";
    EXPECT_FALSE(r.tests.empty()) << "rule " << r.rule << " names no test";
  }
  for (const char* r : {"1", "2", "3", "4", "5", "6", "limits", "sample", "sender", "letter"})
    EXPECT_TRUE(rules.count(r)) << "no row for rule " << r;
}

TEST(AutomatedDecisionsDoc, EveryNamedFunctionIsInItsFile) {
  for (const Row& r : table()) {
    for (const std::string& item : r.code) {
      auto colon = item.find(':');
      ASSERT_NE(colon, std::string::npos) << "rule " << r.rule << ": '" << item << "'";
      const fs::path file = kRoot / item.substr(0, colon);
      const std::string fn = item.substr(colon + 1);
      ASSERT_TRUE(fs::exists(file)) << "rule " << r.rule << ": no file " << file;
      const std::string src = testing::read_file(file);
      // A definition: the name, then its parameter list, at the start of a declarator.
      const std::regex def("[\\s:&*]" + fn + "\\(");
      EXPECT_TRUE(std::regex_search(src, def))
          << "rule " << r.rule << ": no function " << fn << " in " << file;
    }
  }
}

TEST(AutomatedDecisionsDoc, EveryConfigKeyIsInTheExampleConfig) {
  const auto keys = example_keys();
  for (const Row& r : table()) {
    for (const std::string& item : r.keys) {
      auto [section, key] = split_key(item);
      ASSERT_FALSE(key.empty()) << "rule " << r.rule << ": '" << item << "' is not [section] key";
      auto it = keys.find(section);
      EXPECT_TRUE(it != keys.end() && it->second.count(key))
          << "rule " << r.rule << ": " << item << " is not in config/tilskudd.example.toml";
    }
  }
}

TEST(AutomatedDecisionsDoc, EveryNamedTestIsInItsFile) {
  for (const Row& r : table()) {
    for (const std::string& item : r.tests) {
      auto colon = item.find(':');
      auto dot = item.find('.', colon == std::string::npos ? 0 : colon);
      ASSERT_TRUE(colon != std::string::npos && dot != std::string::npos)
          << "rule " << r.rule << ": '" << item << "' is not file:Suite.Name";
      const fs::path file = kRoot / item.substr(0, colon);
      ASSERT_TRUE(fs::exists(file)) << "rule " << r.rule << ": no file " << file;
      const std::string suite = item.substr(colon + 1, dot - colon - 1);
      const std::string name = item.substr(dot + 1);
      const std::regex test("TEST(_F)?\\(\\s*" + suite + ",\\s*" + name + "\\s*\\)");
      EXPECT_TRUE(std::regex_search(testing::read_file(file), test))
          << "rule " << r.rule << ": no test " << suite << "." << name << " in " << file;
    }
  }
}

TEST(AutomatedDecisionsDoc, EveryControlAndSenderKeyIsDocumented) {
  std::set<std::string> documented;
  for (const Row& r : table()) documented.insert(r.keys.begin(), r.keys.end());
  const auto keys = example_keys();
  for (const char* section : {"controls", "sender"}) {
    ASSERT_TRUE(keys.count(section)) << "no [" << section << "] in the example config";
    for (const std::string& k : keys.at(section)) {
      EXPECT_TRUE(documented.count("[" + std::string(section) + "] " + k))
          << "[" << section << "] " << k << " is not in docs/AUTOMATED-DECISIONS.md";
    }
  }
}

}  // namespace
}  // namespace tilskudd
