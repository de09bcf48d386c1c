// The at-rest key file: the secret halves of per-scope (per-room) at-rest keys, kept outside
// LMDB so that destroying a key really destroys it. Used only by the LMDB store (lmdb_store.cpp).
// Threads: read() from any thread; create() and destroy() from the store's writer thread only.
//
// Why a separate file (crypto-shredding, see DESIGN.md "Secrets at rest"): LMDB is copy-on-write.
// Deleting or overwriting a row writes a new page and only frees the old one, whose bytes stay
// in data.mdb until the page happens to be reused. A room key stored in LMDB (even wrapped with
// a master key that also stays) would therefore survive its deletion, and with it every sealed
// row of the room. So LMDB holds only scope -> slot number (kAtRestKeys, no secret), and the
// 32 key bytes live in slot `n` of this file, at offset n * 32. Destroying a key overwrites its
// slot in place with zeros (pwrite at the same offset) and fdatasyncs before the LMDB rows that
// forget the slot commit. On ext4/xfs (in-place data writes) the old key bytes are then gone from
// every file Haven keeps; on copy-on-write or snapshotting filesystems (btrfs, ZFS, LVM
// snapshots), with data=journal ext4, or below the filesystem (SSD wear levelling) old blocks may
// linger outside the file: Haven cannot erase those, the operator's storage choice decides.
// A key is written (and fdatasynced) before the LMDB rows that name its slot commit, so a crash
// never leaves a committed slot without its key. A job that writes a slot and is then rolled back
// leaves only an unreferenced slot, which the next allocation overwrites.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/status.h"
#include "storage/store.h"

namespace haven::storage {

class AtRestKeyFile {
 public:
  static constexpr size_t kSlotBytes = kAtRestKeyBytes;

  // Opens (creating with mode 0600 if needed) the key file at `path`. nullptr and `error` on
  // failure.
  static std::unique_ptr<AtRestKeyFile> open(const std::string& path, std::string* error);
  ~AtRestKeyFile();
  AtRestKeyFile(const AtRestKeyFile&) = delete;
  AtRestKeyFile& operator=(const AtRestKeyFile&) = delete;

  // The key in `slot`, or nullptr if the slot is beyond the file or destroyed (all zeros).
  AtRestKeyPtr read(uint64_t slot);
  // Writes a fresh random key into `slot`, durably; nullptr and `status` on an I/O error.
  AtRestKeyPtr create(uint64_t slot, Status* status);
  // Overwrites `slot` with zeros in place, durably, and forgets any cached copy.
  Status destroy(uint64_t slot);

 private:
  explicit AtRestKeyFile(int fd) : fd_(fd) {}
  Status write_slot(uint64_t slot, const unsigned char* bytes);

  int fd_;
  std::shared_mutex mu_;  // guards cache_
  std::unordered_map<uint64_t, AtRestKeyPtr> cache_;
};

}  // namespace haven::storage
