// Every fuzz input kept in the repository, fuzz/regressions/<target>/ (crashes found and fixed)
// and fuzz/corpus/<target>/ (the seeds), run through the same entry points as the libFuzzer
// targets (fuzz/targets.h) in the ordinary build, so they also run in the normal and the ASan
// suites. Each input must return, or throw only the documented exception (config::ConfigError,
// caught inside run_config); a broken invariant or any other exception fails the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/targets.h"
#include "tests/support/support.h"

namespace tilskudd {
namespace {

namespace fs = std::filesystem;

using RunFn = void (*)(std::string_view);

struct Target {
  const char* name;
  RunFn run;
};

constexpr Target kTargets[] = {
    {"mime", fuzz::run_mime},     {"form", fuzz::run_form},       {"letter", fuzz::run_letter},
    {"amount", fuzz::run_amount}, {"date", fuzz::run_date},       {"config", fuzz::run_config},
    {"docx", fuzz::run_docx},     {"headers", fuzz::run_headers}, {"imap", fuzz::run_imap},
};

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().filename().string().rfind('.', 0) != 0) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs every file of fuzz/<kind>/<target>/; returns how many ran.
std::size_t run_folder(const Target& t, const char* kind) {
  fs::path dir = testing::source_dir() / "fuzz" / kind / t.name;
  std::size_t n = 0;
  for (const fs::path& file : files_in(dir)) {
    ++n;
    std::string data = read_all(file);
    try {
      t.run(data);
    } catch (const fuzz::InvariantError& e) {
      ADD_FAILURE() << file << ": " << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << file << ": undocumented exception: " << e.what();
    }
  }
  return n;
}

class FuzzInputs : public ::testing::TestWithParam<Target> {};

TEST_P(FuzzInputs, SeedCorpusRunsCleanly) {
  // Every target has seeds: an empty folder here means the path is wrong, not that all is well.
  EXPECT_GT(run_folder(GetParam(), "corpus"), 0u) << "no seeds in fuzz/corpus/" << GetParam().name;
}

TEST_P(FuzzInputs, RegressionInputsRunCleanly) {
  run_folder(GetParam(), "regressions");
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzInputs, ::testing::ValuesIn(kTargets),
                         [](const ::testing::TestParamInfo<Target>& info) {
                           return std::string(info.param.name);
                         });

// The invariant checks themselves can fail: a broken promise is reported, not swallowed.
TEST(FuzzTargets, InvariantCheckThrows) {
  EXPECT_THROW(fuzz::check_utf8("\xff\xfe", "test"), fuzz::InvariantError);
  EXPECT_NO_THROW(fuzz::check_utf8("S\xc3\xb8knad", "test"));
}

// Config errors are the documented outcome of bad config text, not a failure.
TEST(FuzzTargets, ConfigErrorIsTheDocumentedOutcome) {
  EXPECT_THROW(config::parse("[year.2020]\ndeadlines = [\"2020-13-01\"]\n", "/nonexistent"),
               config::ConfigError);
  EXPECT_NO_THROW(fuzz::run_config("[year.2020]\ndeadlines = [\"2020-13-01\"]\n"));
}

}  // namespace
}  // namespace tilskudd
