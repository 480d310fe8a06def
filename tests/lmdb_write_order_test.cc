// The order in which the LMDB plugin's writes reach the disk. A synced write must follow LMDB's
// safe order: the new pages, a flush, then the meta page that names them, itself durable. A power
// loss then leaves the old or the new meta page, and either names pages that are on disk. (Pages
// and meta page written first and flushed together could leave a meta page naming pages that
// never got there: a store LMDB cannot open.)
//
// The disk cannot be cut here, so the test records the calls liblmdb makes: this executable
// defines pwrite, writev, fdatasync and fsync, exports them, and the dynamic linker binds the
// plugin's liblmdb to them first; each records the call and makes the real one.
// Plain builds only (tests/CMakeLists.txt): the sanitizer runtimes define the same functions.
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "goethe/engine/plugin_loader.h"
#include "support/plugins.h"
#include "support/temp_dir.h"

namespace goethe {
namespace {

struct IoCall {
  enum class Kind { kWrite, kFlush };
  Kind kind;
  int fd;
  off_t offset;  // where a write starts; 0 for a flush
  ino_t inode;   // of the file the call is about
};

std::mutex g_recording_mutex;
std::vector<IoCall>* g_recording = nullptr;  // set while a test records

void Record(IoCall::Kind kind, int fd, off_t offset) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return;
  std::lock_guard lock(g_recording_mutex);
  if (g_recording != nullptr) g_recording->push_back({kind, fd, offset, st.st_ino});
}

template <typename Function>
Function Real(const char* name) {
  return reinterpret_cast<Function>(dlsym(RTLD_NEXT, name));
}

}  // namespace
}  // namespace goethe

extern "C" {

__attribute__((visibility("default"))) ssize_t pwrite(int fd, const void* buf, size_t n, off_t offset) {
  static const auto real = goethe::Real<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  goethe::Record(goethe::IoCall::Kind::kWrite, fd, offset);
  return real(fd, buf, n, offset);
}

__attribute__((visibility("default"))) ssize_t writev(int fd, const struct iovec* iov, int count) {
  static const auto real = goethe::Real<ssize_t (*)(int, const struct iovec*, int)>("writev");
  goethe::Record(goethe::IoCall::Kind::kWrite, fd, lseek(fd, 0, SEEK_CUR));  // LMDB seeks first
  return real(fd, iov, count);
}

__attribute__((visibility("default"))) int fdatasync(int fd) {
  static const auto real = goethe::Real<int (*)(int)>("fdatasync");
  goethe::Record(goethe::IoCall::Kind::kFlush, fd, 0);
  return real(fd);
}

__attribute__((visibility("default"))) int fsync(int fd) {
  static const auto real = goethe::Real<int (*)(int)>("fsync");
  goethe::Record(goethe::IoCall::Kind::kFlush, fd, 0);
  return real(fd);
}

}  // extern "C"

namespace goethe {
namespace {

class LmdbWriteOrderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto plugin = BackendPlugin::LoadFile(testing::PluginFile("lmdb"), "test");
    ASSERT_TRUE(plugin.ok()) << plugin.status().ToString();
    plugin_.emplace(std::move(plugin).value());
    auto store = plugin_->Open(dir_.Sub("store"), {});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    ASSERT_TRUE(store_->Write({.sync = true}, Batch("warm-up")).ok());
    struct stat st {};
    ASSERT_EQ(stat((dir_.Sub("store") + "/data.mdb").c_str(), &st), 0);
    data_inode_ = st.st_ino;
  }

  static kv::WriteBatch Batch(const std::string& prefix) {
    kv::WriteBatch batch;
    for (int i = 0; i < 50; ++i) batch.Put(prefix + std::to_string(i), std::string(100, 'v'));
    return batch;
  }

  // The calls on data.mdb made by one Write.
  std::vector<IoCall> RecordWrite(bool sync) {
    std::vector<IoCall> calls;
    {
      std::lock_guard lock(g_recording_mutex);
      g_recording = &calls;
    }
    const kv::Status written = store_->Write({.sync = sync}, Batch(sync ? "synced" : "unsynced"));
    {
      std::lock_guard lock(g_recording_mutex);
      g_recording = nullptr;
    }
    EXPECT_TRUE(written.ok()) << written.ToString();
    std::erase_if(calls, [&](const IoCall& call) { return call.inode != data_inode_; });
    return calls;
  }

  // LMDB's two meta pages are the file's first two pages.
  static bool IsMetaWrite(const IoCall& call) {
    return call.kind == IoCall::Kind::kWrite && call.offset < 2 * sysconf(_SC_PAGESIZE);
  }

  testing::TempDir dir_;
  std::optional<BackendPlugin> plugin_;
  std::shared_ptr<kv::Store> store_;
  ino_t data_inode_ = 0;
};

TEST_F(LmdbWriteOrderTest, ASyncedWriteFlushesItsPagesBeforeItWritesTheMetaPageAndMakesThatDurable) {
  const std::vector<IoCall> calls = RecordWrite(/*sync=*/true);
  std::optional<std::size_t> last_page, meta;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    if (IsMetaWrite(calls[i])) {
      if (!meta) meta = i;
    } else if (calls[i].kind == IoCall::Kind::kWrite) {
      last_page = i;
    }
  }
  ASSERT_TRUE(last_page.has_value()) << "no page of the batch was written";
  ASSERT_TRUE(meta.has_value()) << "no meta page was written";
  ASSERT_LT(*last_page, *meta) << "a page was written after the meta page that names it";

  bool flushed_between = false;
  for (std::size_t i = *last_page + 1; i < *meta; ++i) flushed_between |= calls[i].kind == IoCall::Kind::kFlush;
  EXPECT_TRUE(flushed_between) << "the meta page was written before the pages it names were flushed";

  const int flags = fcntl(calls[*meta].fd, F_GETFL);
  bool meta_durable = flags != -1 && (flags & O_DSYNC) != 0;
  for (std::size_t i = *meta + 1; i < calls.size(); ++i) meta_durable |= calls[i].kind == IoCall::Kind::kFlush;
  EXPECT_TRUE(meta_durable) << "the meta page was neither written with O_DSYNC nor flushed";
}

TEST_F(LmdbWriteOrderTest, AnUnsyncedWriteNeverFlushes) {
  const std::vector<IoCall> calls = RecordWrite(/*sync=*/false);
  EXPECT_FALSE(calls.empty()) << "the recorder saw no call at all";
  for (const IoCall& call : calls) EXPECT_NE(call.kind, IoCall::Kind::kFlush);
  // And the next synced write is back in the safe order (the test above, once more).
  const std::vector<IoCall> synced = RecordWrite(/*sync=*/true);
  EXPECT_TRUE(std::any_of(synced.begin(), synced.end(), [](const IoCall& c) { return c.kind == IoCall::Kind::kFlush; }));
}

}  // namespace
}  // namespace goethe
