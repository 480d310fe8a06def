// Self-checking events for the fault tests and the soak tool.
//
// A payload names its producer and that producer's sequence number, followed by filler that is a
// function of both ("p3 s17 f45 " + 45 letters), so a reader can tell a whole, correct event from
// a torn, misplaced or duplicated one without having kept a copy. LogVerifier checks a topic read
// in offset order; AckLedger remembers which event each acknowledged offset must hold.
#pragma once

#include <charconv>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace goethe::testing {

struct PayloadId {
  std::uint32_t producer = 0;
  std::uint64_t sequence = 0;
  bool operator==(const PayloadId&) const = default;
};

inline std::string ToString(const PayloadId& id) {
  return "p" + std::to_string(id.producer) + "/s" + std::to_string(id.sequence);
}

// 8 to 135 bytes of filler by default, so events vary in size.
inline std::size_t DefaultFiller(const PayloadId& id) { return 8 + (id.sequence * 31 + id.producer * 17) % 128; }

inline std::string EncodePayload(const PayloadId& id, std::size_t filler) {
  std::string out = "p" + std::to_string(id.producer) + " s" + std::to_string(id.sequence) + " f" +
                    std::to_string(filler) + " ";
  std::uint64_t x = (std::uint64_t{id.producer} << 40) ^ id.sequence ^ 0x9e3779b97f4a7c15ULL;
  out.reserve(out.size() + filler);
  for (std::size_t i = 0; i < filler; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;  // an LCG: cheap, and not a run of one byte
    out.push_back(static_cast<char>('a' + (x >> 59) % 26));
  }
  return out;
}
inline std::string EncodePayload(const PayloadId& id) { return EncodePayload(id, DefaultFiller(id)); }

// The id a payload encodes, or nothing when the payload is not exactly what EncodePayload makes.
inline std::optional<PayloadId> DecodePayload(std::string_view payload) {
  const std::string_view whole = payload;
  auto number = [&payload](char tag, auto* out) {
    if (payload.empty() || payload[0] != tag) return false;
    const char* end = payload.data() + payload.size();
    auto [ptr, ec] = std::from_chars(payload.data() + 1, end, *out);
    if (ec != std::errc() || ptr == payload.data() + 1 || ptr == end || *ptr != ' ') return false;
    payload.remove_prefix(ptr - payload.data() + 1);
    return true;
  };
  PayloadId id;
  std::size_t filler = 0;
  if (!number('p', &id.producer) || !number('s', &id.sequence) || !number('f', &filler)) return std::nullopt;
  if (payload.size() != filler || EncodePayload(id, filler) != whole) return std::nullopt;
  return id;
}

// Checks events fed in offset order: offsets dense from the first one, every payload whole, and
// each producer's sequence numbers strictly rising (so nothing is duplicated or reordered).
class LogVerifier {
 public:
  // "" when the event is as expected; otherwise what is wrong with it.
  std::string Add(std::uint64_t offset, std::string_view payload) {
    if (next_offset_ && offset != *next_offset_) {
      return "offset " + std::to_string(offset) + " follows " + std::to_string(*next_offset_ - 1) + " (gap or repeat)";
    }
    next_offset_ = offset + 1;
    ++events_;
    const std::optional<PayloadId> id = DecodePayload(payload);
    if (!id) return "offset " + std::to_string(offset) + ": damaged payload '" + std::string(payload.substr(0, 40)) + "'";
    auto [last, first_time] = last_sequence_.try_emplace(id->producer, id->sequence);
    if (!first_time) {
      if (id->sequence <= last->second) {
        return "offset " + std::to_string(offset) + ": " + ToString(*id) + " after sequence " +
               std::to_string(last->second) + " of that producer (duplicate or out of order)";
      }
      last->second = id->sequence;
    }
    return "";
  }

  std::uint64_t events() const { return events_; }
  std::optional<std::uint64_t> next_offset() const { return next_offset_; }

 private:
  std::optional<std::uint64_t> next_offset_;
  std::uint64_t events_ = 0;
  std::unordered_map<std::uint32_t, std::uint64_t> last_sequence_;
};

// Which event each acknowledged offset holds, as the producers were told. Thread-safe. Dense by
// offset (8 bytes an offset), so that a long soak run stays small.
class AckLedger {
 public:
  void Record(std::uint64_t first_offset, const std::vector<PayloadId>& ids) {
    std::lock_guard lock(mutex_);
    if (slots_.size() < first_offset + ids.size()) slots_.resize(first_offset + ids.size(), 0);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      std::uint64_t& slot = slots_[first_offset + i];
      if (slot == 0) ++acknowledged_;
      slot = Pack(ids[i]);
    }
  }

  // The event acknowledged at `offset`, or nothing when no producer was told of one there.
  std::optional<PayloadId> At(std::uint64_t offset) const {
    std::lock_guard lock(mutex_);
    if (offset >= slots_.size() || slots_[offset] == 0) return std::nullopt;
    const std::uint64_t packed = slots_[offset] - 1;
    return PayloadId{static_cast<std::uint32_t>(packed >> 40), packed & kSequenceMask};
  }

  // One past the highest acknowledged offset.
  std::uint64_t end() const {
    std::lock_guard lock(mutex_);
    return slots_.size();
  }
  std::uint64_t acknowledged() const {
    std::lock_guard lock(mutex_);
    return acknowledged_;
  }

 private:
  static constexpr std::uint64_t kSequenceMask = (std::uint64_t{1} << 40) - 1;
  static std::uint64_t Pack(const PayloadId& id) { return ((std::uint64_t{id.producer} << 40) | id.sequence) + 1; }

  mutable std::mutex mutex_;
  std::vector<std::uint64_t> slots_;  // 0: nothing acknowledged there
  std::uint64_t acknowledged_ = 0;
};

// "" when `offset` holds `payload` as far as the ledger knows; otherwise the mismatch.
inline std::string CheckAgainstLedger(const AckLedger& ledger, std::uint64_t offset, std::string_view payload) {
  const std::optional<PayloadId> acked = ledger.At(offset);
  if (!acked) return "";
  const std::optional<PayloadId> got = DecodePayload(payload);
  if (got && *got == *acked) return "";
  return "offset " + std::to_string(offset) + " was acknowledged as " + ToString(*acked) + " but holds " +
         (got ? ToString(*got) : std::string("a damaged payload"));
}

}  // namespace goethe::testing
