// Files tilskudd creates are its user's alone (daemon/private_files.h, DECISIONS.md "Private
// files"): the store and its journal, exports, whatever the umask; the store's folder is checked.
#include "daemon/private_files.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/support.h"
#include "workflow/store.h"

namespace tilskudd {
namespace {

namespace fs = std::filesystem;

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// The umask as the operator's shell may leave it, for one test.
class UmaskZero {
 public:
  UmaskZero() : old_(::umask(0)) {}
  ~UmaskZero() { ::umask(old_); }

 private:
  mode_t old_;
};

class PrivateFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tilskudd-private-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::permissions(dir_, fs::perms::owner_all);
  }
  void TearDown() override {
    fs::permissions(dir_, fs::perms::owner_all);
    fs::remove_all(dir_);
  }
  fs::path dir_;
};

// Was a leak (fixed): under umask 0 a new store, its -wal and -shm were 0666 — every user of the
// machine could read the applicants' and employees' data, and write it.
TEST_F(PrivateFilesTest, ANewStoreAndItsJournalAreTheUsersAloneUnderAnyUmask) {
  UmaskZero loose;
  const fs::path store = dir_ / "tilskudd.db";
  {
    Store s = Store::open(store.string());
    s.transaction([&] { return s.cases().list_cases().size(); });
    EXPECT_EQ(mode_of(store), 0600u);
    for (const char* suffix : {"-wal", "-shm"}) {
      const fs::path f = store.string() + suffix;
      if (fs::exists(f)) {
        EXPECT_EQ(mode_of(f), 0600u) << f;
      }
    }
    EXPECT_TRUE(fs::exists(store.string() + "-wal"));
  }
}

TEST_F(PrivateFilesTest, WritePrivateCreates0600AndTightensAnExistingFile) {
  UmaskZero loose;
  const fs::path out = dir_ / "round.csv";
  private_files::write_private(out.string(), "ref,owner\r\n");
  EXPECT_EQ(mode_of(out), 0600u);
  EXPECT_EQ(testing::read_file(out), "ref,owner\r\n");

  std::ofstream(dir_ / "old.csv") << "a much longer old content";
  fs::permissions(dir_ / "old.csv", fs::perms(0666));
  private_files::write_private((dir_ / "old.csv").string(), "new");
  EXPECT_EQ(mode_of(dir_ / "old.csv"), 0600u);
  EXPECT_EQ(testing::read_file(dir_ / "old.csv"), "new");

  EXPECT_THROW(private_files::write_private(dir_.string(), "x"), std::system_error);
  EXPECT_THROW(private_files::write_private((dir_ / "no" / "such").string(), "x"),
               std::system_error);
}

TEST_F(PrivateFilesTest, AWorldWritableStoreFolderIsRefused) {
  fs::permissions(dir_, fs::perms(0777));
  const auto check = private_files::secure_store((dir_ / "tilskudd.db").string());
  EXPECT_NE(check.refusal.find("writable by every user"), std::string::npos) << check.refusal;
  EXPECT_NE(check.refusal.find("chmod 0700"), std::string::npos) << check.refusal;
}

TEST_F(PrivateFilesTest, AGroupWritableFolderWarnsAndLooseStoreFilesAreMadePrivate) {
  fs::permissions(dir_, fs::perms(0770));
  const fs::path store = dir_ / "tilskudd.db";
  for (const char* suffix : {"", "-wal", ".inflight"}) {
    std::ofstream(store.string() + suffix) << "x";
    fs::permissions(store.string() + suffix, fs::perms(0644));
  }
  const auto dry = private_files::secure_store(store.string(), false);
  EXPECT_TRUE(dry.refusal.empty());
  EXPECT_EQ(dry.tightened.size(), 3u);
  EXPECT_EQ(mode_of(store), 0644u);  // config check changes nothing

  const auto check = private_files::secure_store(store.string());
  EXPECT_TRUE(check.refusal.empty()) << check.refusal;
  ASSERT_EQ(check.warnings.size(), 1u);
  EXPECT_NE(check.warnings[0].find("writable by its group"), std::string::npos);
  EXPECT_EQ(check.tightened.size(), 3u);
  for (const char* suffix : {"", "-wal", ".inflight"})
    EXPECT_EQ(mode_of(store.string() + suffix), 0600u) << suffix;
  EXPECT_TRUE(private_files::secure_store(store.string()).tightened.empty());
}

TEST_F(PrivateFilesTest, AMissingFolderIsRefusedWithTheReason) {
  const auto check = private_files::secure_store((dir_ / "gone" / "tilskudd.db").string());
  EXPECT_NE(check.refusal.find("cannot read the store's folder"), std::string::npos)
      << check.refusal;
}

}  // namespace
}  // namespace tilskudd
