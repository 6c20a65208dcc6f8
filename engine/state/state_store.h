// The durable store under the engine's state (DESIGN §7). Hot state lives in memory, in the
// components that own it (the rule engine's key spaces, typologies, pairs, sequences); at a
// checkpoint each adds what changed to one WriteBatch, the caller adds the input positions,
// and the store applies the batch atomically. On start, components read their state back by
// key prefix.
//
// Keys and values are opaque bytes. Each component keeps to its own prefix ("rules/", ...)
// and owns its value encoding, versioned so that a newer corridor reads an older store.
//
// MemoryStateStore keeps everything in memory (tests, and runs without a state directory);
// the RocksDB store implements the same interface.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace corridor::state {

// Puts and erases applied together and in order: the last operation on a key wins.
class WriteBatch {
 public:
  struct Op {
    bool erase = false;
    std::string key;
    std::string value;  // empty for an erase
  };

  void put(std::string_view key, std::string_view value);
  void erase(std::string_view key);

  const std::vector<Op>& ops() const noexcept { return ops_; }
  bool empty() const noexcept { return ops_.empty(); }
  size_t size() const noexcept { return ops_.size(); }
  size_t bytes() const noexcept { return bytes_; }  // keys and values
  void clear() noexcept;

 private:
  std::vector<Op> ops_;
  size_t bytes_ = 0;
};

// A store that cannot read or write (I/O error, corruption): fatal for the engine, which
// must not go on without the state it promised to keep.
class StateStoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class StateStore {
 public:
  using Visitor = std::function<void(std::string_view key, std::string_view value)>;

  virtual ~StateStore() = default;

  // Applies every operation of `batch` or none of them. Throws StateStoreError.
  virtual void write(const WriteBatch& batch) = 0;

  // The value of `key`, or nothing when absent. Throws StateStoreError.
  virtual std::optional<std::string> get(std::string_view key) const = 0;

  // Calls visit(key, value) for every key that starts with `prefix`, in ascending byte
  // order of the keys. Throws StateStoreError.
  virtual void scan(std::string_view prefix, const Visitor& visit) const = 0;
};

class MemoryStateStore final : public StateStore {
 public:
  void write(const WriteBatch& batch) override;
  std::optional<std::string> get(std::string_view key) const override;
  void scan(std::string_view prefix, const Visitor& visit) const override;

  size_t size() const noexcept { return entries_.size(); }
  // Everything held, in key order (for tests comparing two stores).
  const std::map<std::string, std::string, std::less<>>& entries() const noexcept {
    return entries_;
  }

 private:
  std::map<std::string, std::string, std::less<>> entries_;
};

}  // namespace corridor::state
