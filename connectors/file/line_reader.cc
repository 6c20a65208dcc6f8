#include "connectors/file/line_reader.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/pipeline/source.h"

namespace corridor::connectors::file {
namespace {
constexpr size_t kInitialBuffer = 1 << 20;
constexpr size_t kReadChunk = 1 << 18;
}  // namespace

LineReader::LineReader(const std::string& path, size_t hard_limit)
    : path_(path), hard_limit_(std::max<size_t>(hard_limit, 1)) {
  if (path == "-") {
    const int fd = dup(STDIN_FILENO);
    file_ = fd >= 0 ? gzdopen(fd, "rb") : nullptr;
  } else {
    file_ = gzopen(path.c_str(), "rb");
  }
  if (file_ == nullptr) {
    throw pipeline::SourceError("cannot open " + (path == "-" ? std::string("stdin") : path) +
                                ": " + std::strerror(errno));
  }
  gzbuffer(file_, 1 << 17);
  buffer_.resize(kInitialBuffer + pipeline::kRecordPadding);
}

LineReader::~LineReader() {
  if (file_ != nullptr) gzclose(file_);
}

bool LineReader::fill() {
  if (eof_) return false;
  // Keep the unconsumed tail, move it to the front, grow if a long line fills the buffer.
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    base_offset_ += begin_;
    end_ -= begin_;
    scan_ -= begin_;
    begin_ = 0;
  }
  const size_t capacity = buffer_.size() - pipeline::kRecordPadding;
  if (capacity - end_ < kReadChunk / 4) {
    buffer_.resize(capacity * 2 + pipeline::kRecordPadding);
  }
  const size_t room = buffer_.size() - pipeline::kRecordPadding - end_;
  const int n =
      gzread(file_, buffer_.data() + end_, static_cast<unsigned>(std::min<size_t>(room, 1U << 30)));
  if (n < 0) {
    int err = 0;
    const char* msg = gzerror(file_, &err);
    if (err == Z_ERRNO && errno == EINTR) {
      // A stop signal (SIGINT, SIGTERM) interrupted a read waiting on a pipe or terminal:
      // the input ends here, and the caller stops.
      eof_ = true;
      return false;
    }
    throw pipeline::SourceError("cannot read " + path_ + ": " +
                                (err == Z_ERRNO ? std::strerror(errno) : msg));
  }
  if (n == 0) {
    // zlib ends a gzip stream cut short like a complete one, flagging only Z_BUF_ERROR.
    int err = Z_OK;
    gzerror(file_, &err);
    if (err == Z_BUF_ERROR) {
      throw pipeline::SourceError("cannot read " + path_ +
                                  ": gzip stream ends early (truncated file)");
    }
    eof_ = true;
    return false;
  }
  end_ += static_cast<size_t>(n);
  if (!bom_checked_ && end_ >= 3) {
    // A UTF-8 byte-order mark (Excel and some Windows tools write one) is not content.
    bom_checked_ = true;
    if (std::memcmp(buffer_.data(), "\xEF\xBB\xBF", 3) == 0 && base_offset_ == 0 && begin_ == 0) {
      begin_ = scan_ = 3;
    }
  }
  return true;
}

void LineReader::emit(pipeline::RecordBatch& batch, size_t begin, size_t end, bool truncated) {
  ++line_;
  if (skipping_) return;  // the tail of a line already emitted truncated
  size_t stop = end;
  if (!truncated && stop > begin && buffer_[stop - 1] == '\r') --stop;
  pipeline::Record r;
  r.bytes = std::string_view(buffer_.data() + begin, stop - begin);
  r.offset = base_offset_ + begin;
  r.line = line_;
  r.truncated = truncated;
  batch.records.push_back(r);
}

bool LineReader::next_batch(pipeline::RecordBatch& batch, size_t max_records) {
  batch.records.clear();
  while (batch.records.size() < max_records) {
    const char* data = buffer_.data();
    const void* nl = scan_ < end_ ? std::memchr(data + scan_, '\n', end_ - scan_) : nullptr;
    if (nl != nullptr) {
      const auto pos = static_cast<size_t>(static_cast<const char*>(nl) - data);
      const bool was_skipping = skipping_;
      if (!was_skipping && pos - begin_ > hard_limit_) {
        emit(batch, begin_, begin_ + hard_limit_, true);
      } else {
        if (was_skipping) --line_;  // the truncated line was already counted
        emit(batch, begin_, pos, false);
      }
      skipping_ = false;
      begin_ = scan_ = pos + 1;
      continue;
    }
    scan_ = end_;
    if (!skipping_ && end_ - begin_ > hard_limit_) {
      // A line beyond the hard limit: hand on its prefix, skip the rest.
      emit(batch, begin_, begin_ + hard_limit_, true);
      skipping_ = true;
      begin_ = scan_ = end_;
      if (!batch.records.empty()) break;
    }
    if (skipping_) {
      begin_ = scan_ = end_;  // drop the skipped bytes as they arrive
    }
    // Growing or moving the buffer would invalidate records already in the batch.
    if (!batch.records.empty()) break;
    if (!fill()) {
      if (end_ > begin_ && !skipping_) {
        emit(batch, begin_, end_, false);  // last line without a newline
      }
      begin_ = scan_ = end_;
      break;
    }
  }
  batch.end_offset = base_offset_ + begin_;
  return !batch.records.empty();
}

}  // namespace corridor::connectors::file
