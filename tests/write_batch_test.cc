// The plugin API's WriteBatch: its arena keeps every key and value intact and in order across
// block boundaries, for huge values, after a move and after Clear().
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <utility>

#include "goethe/kv/write_batch.h"

namespace goethe::kv {
namespace {

std::string KeyOf(int i) { return "key-" + std::to_string(i); }
std::string ValueOf(int i) { return std::string(static_cast<std::size_t>(i % 300), static_cast<char>('a' + i % 26)); }

// The first `count` ops are the puts of KeyOf(i) -> ValueOf(i).
void ExpectPuts(const WriteBatch& batch, int count) {
  ASSERT_GE(batch.size(), static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const WriteBatch::Op& op = batch.ops()[static_cast<std::size_t>(i)];
    EXPECT_EQ(op.type, WriteBatch::OpType::kPut);
    ASSERT_EQ(op.key, KeyOf(i));
    ASSERT_EQ(op.value, ValueOf(i));
  }
}

TEST(WriteBatchTest, ManyPutsAcrossBlocksKeepTheirBytes) {
  WriteBatch batch;
  std::size_t bytes = 0;
  for (int i = 0; i < 20000; ++i) {
    batch.Put(KeyOf(i), ValueOf(i));
    bytes += KeyOf(i).size() + ValueOf(i).size();
  }
  ExpectPuts(batch, 20000);
  EXPECT_EQ(batch.size(), 20000u);
  EXPECT_EQ(batch.ByteSize(), bytes);
}

TEST(WriteBatchTest, AValueLargerThanAnyBlockGetsItsOwn) {
  WriteBatch batch;
  batch.Put("before", "small");
  const std::string huge(9 << 20, 'h');
  batch.Put("huge", huge);
  batch.Put("after", "small too");
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch.ops()[0].value, "small");
  EXPECT_EQ(batch.ops()[1].value, huge);
  EXPECT_EQ(batch.ops()[2].key, "after");
  EXPECT_EQ(batch.ops()[2].value, "small too");
}

TEST(WriteBatchTest, PutUninitializedHandsOutTheValueToFill) {
  WriteBatch batch;
  char* value = batch.PutUninitialized("k", 5);
  std::memcpy(value, "hello", 5);
  batch.Put("k2", "v2");
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch.ops()[0].key, "k");
  EXPECT_EQ(batch.ops()[0].value, "hello");
  EXPECT_EQ(batch.ByteSize(), 1u + 5u + 2u + 2u);
}

TEST(WriteBatchTest, DeletesAndRangesKeepTheirKeys) {
  WriteBatch batch;
  batch.Delete("gone");
  batch.DeleteRange("a", "b");
  batch.Put("empty-value", "");
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch.ops()[0].type, WriteBatch::OpType::kDelete);
  EXPECT_EQ(batch.ops()[0].key, "gone");
  EXPECT_EQ(batch.ops()[1].type, WriteBatch::OpType::kDeleteRange);
  EXPECT_EQ(batch.ops()[1].key, "a");
  EXPECT_EQ(batch.ops()[1].value, "b");
  EXPECT_TRUE(batch.ops()[2].value.empty());
}

TEST(WriteBatchTest, AMovedBatchKeepsItsOps) {
  WriteBatch source;
  for (int i = 0; i < 5000; ++i) source.Put(KeyOf(i), ValueOf(i));
  WriteBatch moved(std::move(source));
  ExpectPuts(moved, 5000);
  WriteBatch assigned;
  assigned.Put("old", "old");
  assigned = std::move(moved);
  ExpectPuts(assigned, 5000);
}

TEST(WriteBatchTest, ClearEmptiesAndTheBatchIsReusable) {
  WriteBatch batch;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 3000; ++i) batch.Put(KeyOf(i), ValueOf(i));
    if (round == 1) batch.Put("huge", std::string(5 << 20, 'x'));
    ASSERT_NO_FATAL_FAILURE(ExpectPuts(batch, 3000)) << "round " << round;
    ASSERT_EQ(batch.size(), round == 1 ? 3001u : 3000u);
    batch.Clear();
    EXPECT_TRUE(batch.empty());
    EXPECT_EQ(batch.ByteSize(), 0u);
  }
}

TEST(WriteBatchTest, ValidateChecksEveryKeyAndRangeEnd) {
  WriteBatch good;
  good.Put("k", "v");
  good.DeleteRange("a", "b");
  EXPECT_TRUE(good.Validate().ok());
  WriteBatch empty_key;
  empty_key.Put("", "v");
  EXPECT_FALSE(empty_key.Validate().ok());
  WriteBatch bad_end;
  bad_end.DeleteRange("a", "");
  EXPECT_FALSE(bad_end.Validate().ok());
}

}  // namespace
}  // namespace goethe::kv
