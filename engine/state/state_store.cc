#include "engine/state/state_store.h"

namespace corridor::state {

void WriteBatch::put(std::string_view key, std::string_view value) {
  ops_.push_back(Op{false, std::string(key), std::string(value)});
  bytes_ += key.size() + value.size();
}

void WriteBatch::erase(std::string_view key) {
  ops_.push_back(Op{true, std::string(key), std::string()});
  bytes_ += key.size();
}

void WriteBatch::clear() noexcept {
  ops_.clear();
  bytes_ = 0;
}

void MemoryStateStore::write(const WriteBatch& batch) {
  // Nothing here can fail halfway but allocation; a std::bad_alloc leaves the store with a
  // prefix of the batch applied, which only a process about to die can observe.
  for (const WriteBatch::Op& op : batch.ops()) {
    if (op.erase) {
      auto it = entries_.find(op.key);
      if (it != entries_.end()) entries_.erase(it);
    } else {
      entries_.insert_or_assign(op.key, op.value);
    }
  }
}

std::optional<std::string> MemoryStateStore::get(std::string_view key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void MemoryStateStore::scan(std::string_view prefix, const Visitor& visit) const {
  for (auto it = entries_.lower_bound(prefix); it != entries_.end(); ++it) {
    if (std::string_view(it->first).substr(0, prefix.size()) != prefix) break;
    visit(it->first, it->second);
  }
}

}  // namespace corridor::state
