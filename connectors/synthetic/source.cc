#include "connectors/synthetic/source.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace corridor::synthetic {

WorldSource::WorldSource(std::string name, const WorldParams& params, WorldSourceOptions options)
    : name_(std::move(name)),
      world_(std::make_unique<World>(params)),
      truth_path_(std::move(options.truth_path)) {
  if (options.rate > 0) {
    const pipeline::Clock& clock = options.clock ? *options.clock : steady_clock_;
    Sleeper& sleeper = options.sleeper ? *options.sleeper : thread_sleeper_;
    pacer_ = std::make_unique<RatePacer>(options.rate, clock, sleeper);
  }
  if (!truth_path_.empty()) {
    // Created now, so a path that cannot be written fails the start, not the end of a run.
    truth_ = std::fopen(truth_path_.c_str(), "wb");
    if (truth_ == nullptr) {
      throw pipeline::SourceError("source " + name_ + ": cannot create the truth file " +
                                  truth_path_ + ": " + std::strerror(errno));
    }
  }
  buffer_.reserve(1 << 20);
}

WorldSource::~WorldSource() {
  if (truth_ != nullptr) {
    // The world did not end: a truth file would not match the events read.
    std::fclose(truth_);
    std::remove(truth_path_.c_str());
  }
}

bool WorldSource::next_batch(pipeline::RecordBatch& batch, size_t max_records) {
  batch.records.clear();
  batch.end_offset = offset_;
  if (ended_) return false;
  size_t wanted = std::max<size_t>(max_records, 1);
  if (pacer_) wanted = pacer_->acquire(wanted);
  buffer_.clear();
  const size_t n = world_->append_events(buffer_, wanted);
  if (n == 0) {
    finish();
    ended_ = true;
    return false;
  }
  const size_t size = buffer_.size();
  buffer_.append(pipeline::kRecordPadding, '\0');  // before any view into the buffer is taken
  batch.records.reserve(n);
  size_t begin = 0;
  while (begin < size) {
    const char* start = buffer_.data() + begin;
    const auto* newline = static_cast<const char*>(std::memchr(start, '\n', size - begin));
    const size_t end = newline ? static_cast<size_t>(newline - buffer_.data()) : size;
    pipeline::Record r;
    r.bytes = std::string_view(start, end - begin);
    r.offset = offset_ + begin;
    r.line = ++line_;
    batch.records.push_back(r);
    begin = end + 1;
  }
  offset_ += size;
  batch.end_offset = offset_;
  return true;
}

void WorldSource::finish() {
  if (truth_ == nullptr) return;
  std::string text;
  for (const TruthRecord& t : world_->truth()) {
    append_truth_json(text, t);
    text.push_back('\n');
  }
  const bool written = std::fwrite(text.data(), 1, text.size(), truth_) == text.size();
  const bool closed = std::fclose(truth_) == 0;
  truth_ = nullptr;
  if (!written || !closed) {
    std::remove(truth_path_.c_str());
    throw pipeline::SourceError("source " + name_ + ": writing the truth file " + truth_path_ +
                                " failed");
  }
}

}  // namespace corridor::synthetic
