// The flags registry (workflow/flags): the table's own invariants, the lookups the rules, intake
// and the admin view use, docs/DECISIONS.md's flag table against it, and that no flag code is
// spelled as a string literal outside the registry.
#include "workflow/flags.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace tilskudd {
namespace {

bool snake_case(std::string_view s) {
  if (s.empty() || s.front() == '_' || s.back() == '_') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '_') {
      if (s[i - 1] == '_') return false;
    } else if (!(c >= 'a' && c <= 'z') && !(i > 0 && c >= '0' && c <= '9')) {
      return false;
    }
  }
  return true;
}

TEST(Flags, CodesAreUniqueSnakeCaseAndRoundTrip) {
  std::set<std::string_view> seen;
  for (const FlagInfo& f : flag_table()) {
    EXPECT_TRUE(snake_case(f.name)) << f.name;
    EXPECT_TRUE(seen.insert(f.name).second) << "twice: " << f.name;
    EXPECT_EQ(flag_code(f.code), f.name);
    EXPECT_EQ(parse_flag_code(flag_code(f.code)), f.code) << f.name;
    EXPECT_EQ(&flag_info(f.code), &f);
  }
  EXPECT_EQ(seen.size(), 35u);
  EXPECT_EQ(parse_flag_code("no_such_flag"), std::nullopt);
  EXPECT_EQ(parse_flag_code(""), std::nullopt);
  EXPECT_EQ(parse_flag_code("Amount_Mismatch"), std::nullopt);
}

TEST(Flags, EveryRowHasBothTexts) {
  for (const FlagInfo& f : flag_table()) {
    EXPECT_FALSE(f.letter_nb.empty()) << f.name;
    EXPECT_FALSE(f.admin_en.empty()) << f.name;
    // Sentences for letters; a phrase for the admin view (and a cell of the docs' table).
    EXPECT_EQ(f.letter_nb.back(), '.') << f.name;
    EXPECT_EQ(f.admin_en.find('|'), std::string_view::npos) << f.name;
    EXPECT_EQ(f.admin_en.find('\n'), std::string_view::npos) << f.name;
  }
}

TEST(Flags, SnakeCaseCheckRejects) {
  EXPECT_FALSE(snake_case("Amount"));
  EXPECT_FALSE(snake_case("amount-mismatch"));
  EXPECT_FALSE(snake_case("_amount"));
  EXPECT_FALSE(snake_case("amount__mismatch"));
  EXPECT_FALSE(snake_case(""));
  EXPECT_TRUE(snake_case("a1_b"));
}

TEST(Flags, OnlyMalformedMimeAndUnreadableLetterAreInformational) {
  std::set<std::string_view> informational;
  for (const FlagInfo& f : flag_table()) {
    EXPECT_EQ(flag_blocks(f.name), f.blocking);
    if (!f.blocking) informational.insert(f.name);
  }
  EXPECT_EQ(informational, (std::set<std::string_view>{"malformed_mime", "unreadable_letter"}));
  // A code the registry does not know (a newer daemon's, or a damaged row) holds the case.
  EXPECT_TRUE(flag_blocks("no_such_flag"));
  EXPECT_FALSE(any_blocking(
      {make_flag(FlagCode::malformed_mime, "x"), make_flag(FlagCode::unreadable_letter, "y")}));
  EXPECT_TRUE(any_blocking(
      {make_flag(FlagCode::malformed_mime, "x"), make_flag(FlagCode::missing_cost, "y")}));
  EXPECT_FALSE(any_blocking({}));
}

TEST(Flags, LevelsAndMakeFlag) {
  EXPECT_EQ(flag_info(FlagCode::not_on_roster).level, FlagLevel::line);
  EXPECT_EQ(flag_info(FlagCode::form_not_found).level, FlagLevel::case_level);
  EXPECT_EQ(flag_info(FlagCode::unreadable_letter).level, FlagLevel::letter);
  EXPECT_EQ(flag_level_name(FlagLevel::case_level), "case");
  EXPECT_EQ(flag_level_name(FlagLevel::line), "line");
  EXPECT_EQ(flag_level_name(FlagLevel::letter), "letter");
  const Flag f = make_flag(FlagCode::amount_mismatch, "the form says 40 000");
  EXPECT_EQ(f.code, "amount_mismatch");
  EXPECT_EQ(f.reason, "the form says 40 000");
  EXPECT_TRUE(is_flag(f, FlagCode::amount_mismatch));
  EXPECT_FALSE(is_flag(f, FlagCode::amount_unconfirmed));
}

TEST(Flags, LetterTextFillsTheYearAndAddsTheSaksbehandler) {
  EXPECT_EQ(flag_letter_text("no_roster", 2020),
            "Kommunen har ikke en liste over ansatte i pågående utdanning for 2020. En "
            "saksbehandler vurderer søknaden for denne ansatte.");
  EXPECT_EQ(flag_letter_text("missing_cost", 2020),
            "Søknaden oppgir ikke kostnaden for utdanningen. En saksbehandler vurderer søknaden "
            "for denne ansatte.");
  // A line flagged without a flag, or by a code the registry does not know.
  EXPECT_EQ(flag_letter_text("flagged", 2021),
            "Søknaden må vurderes manuelt. En saksbehandler vurderer søknaden for denne ansatte.");
  for (const FlagInfo& f : flag_table())
    EXPECT_EQ(flag_letter_text(f.name, 2021).find("{year}"), std::string::npos) << f.name;
}

TEST(Flags, AdminText) {
  EXPECT_EQ(flag_admin_text("form_not_found"),
            "no application form in the body or any attachment: read the mail");
  EXPECT_EQ(flag_admin_text("no_such_flag"), "see the case's message");
}

// ---- docs/DECISIONS.md "## Flags" is the registry --------------------------------------------

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The table as the registry gives it.
std::string expected_table() {
  std::string t = "| code | level | blocking | meaning |\n|---|---|---|---|\n";
  for (const FlagInfo& f : flag_table()) {
    t += "| `" + std::string(f.name) + "` | " + std::string(flag_level_name(f.level)) + " | " +
         (f.blocking ? "yes" : "no") + " | " + std::string(f.admin_en) + " |\n";
  }
  return t;
}

// The table's lines in the "## Flags" section of DECISIONS.md (every line starting with '|').
std::string docs_table(const std::string& md) {
  const auto start = md.find("\n## Flags");
  if (start == std::string::npos) return "";
  const auto end = md.find("\n## ", start + 1);
  std::istringstream section(md.substr(start, end == std::string::npos ? end : end - start));
  std::string line, out;
  while (std::getline(section, line)) {
    if (!line.empty() && line.front() == '|') out += line + "\n";
  }
  return out;
}

TEST(Flags, DecisionsTableIsTheRegistry) {
  const std::string md =
      read_file(std::filesystem::path(TILSKUDD_SOURCE_DIR) / "docs/DECISIONS.md");
  ASSERT_FALSE(md.empty());
  EXPECT_EQ(docs_table(md), expected_table())
      << "docs/DECISIONS.md \"## Flags\" must list workflow/flags.cpp's rows; paste:\n"
      << expected_table();
}

TEST(Flags, DocsTableParserSeesARowMissingOrAdded) {
  const std::string good =
      "# x\n\n## Flags\ntext\n\n" + expected_table() + "\nfoot\n## Next\n| a |\n";
  EXPECT_EQ(docs_table(good), expected_table());
  std::string missing = expected_table();
  missing.erase(missing.rfind("| `"));
  EXPECT_NE(docs_table("## Flags\n" + missing), expected_table());
  EXPECT_NE(docs_table("\n## Flags\n" + expected_table() + "| `extra` | case | yes | x |\n"),
            expected_table());
}

// ---- no flag code as a string literal outside the registry ---------------------------------

// Codes that are also other vocabulary: "duplicate" is a message status and an intake outcome.
const std::set<std::string_view> kAlsoOtherNames = {"duplicate"};

TEST(Flags, NoCodeIsSpelledOutsideTheRegistry) {
  const std::filesystem::path root(TILSKUDD_SOURCE_DIR);
  std::vector<std::string> found;
  int files = 0;
  for (const char* dir : {"parsers", "config", "workflow", "daemon"}) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(root / dir)) {
      const auto ext = e.path().extension();
      if (!e.is_regular_file() || (ext != ".cpp" && ext != ".h")) continue;
      const auto rel = std::filesystem::relative(e.path(), root).generic_string();
      if (rel == "workflow/flags.cpp") continue;
      ++files;
      std::istringstream in(read_file(e.path()));
      std::string line;
      for (int n = 1; std::getline(in, line); ++n) {
        const std::string code_part = line.substr(0, line.find("//"));
        for (const FlagInfo& f : flag_table()) {
          // For a code that is also another name, only a Flag built from the string.
          const std::string spelled = kAlsoOtherNames.count(f.name)
                                          ? "{\"" + std::string(f.name) + "\","
                                          : "\"" + std::string(f.name) + "\"";
          if (code_part.find(spelled) != std::string::npos)
            found.push_back(rel + ":" + std::to_string(n) + ": " + std::string(f.name));
        }
      }
    }
  }
  EXPECT_GT(files, 20);
  EXPECT_TRUE(found.empty()) << "use FlagCode (workflow/flags.h) instead of the string:\n"
                             << [&] {
                                  std::string s;
                                  for (const auto& f : found) s += f + "\n";
                                  return s;
                                }();
}

}  // namespace
}  // namespace tilskudd
