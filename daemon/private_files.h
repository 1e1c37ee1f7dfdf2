// Files tilskudd creates hold applicants' and employees' data (the store and its WAL, the payout
// exports with account numbers, the token cache, `.inflight`): they are for the service's user
// alone, whatever umask the daemon or a command was started with (DECISIONS.md "Private files").
#pragma once

#include <string>
#include <vector>

namespace tilskudd::private_files {

// umask(077) for the whole process: called first in main(), so every file anything creates
// (SQLite's WAL and SHM, lock files, exports) is 0600 and every folder 0700. The systemd unit
// sets UMask=0077 as well; this covers a container, a shell or cron.
void restrict_umask();

// Opens `path` for writing: created with mode 0600, or truncated (an existing file's group and
// other permission bits are removed first). Returns the descriptor (O_CLOEXEC); throws
// std::system_error naming the path.
int create_private(const std::string& path);

// Writes `data` to `path` through create_private; throws std::system_error on any failure.
void write_private(const std::string& path, const std::string& data);

// The store's folder and files as the daemon finds them at start.
struct StoreCheck {
  std::string refusal;                 // non-empty: do not start (why, with the fix)
  std::vector<std::string> tightened;  // files whose group/other bits were removed
  std::vector<std::string> warnings;
};

// Checks the folder of `store_path`: refused when it is writable by other users (anyone could
// replace the store or plant its -wal file), or a symlink's target is; warned when it is
// writable by its group. Existing store files (the store, -wal, -shm, .lock, .inflight) owned by
// this user lose their group and other bits (they hold personal data; SQLite gives the -wal and
// -shm the store's own mode). Creates nothing.
// With `tighten` false nothing is changed: `tightened` then lists what a start would change
// (config check).
StoreCheck secure_store(const std::string& store_path, bool tighten = true);

}  // namespace tilskudd::private_files
