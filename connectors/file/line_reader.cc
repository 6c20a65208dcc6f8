#include "connectors/file/line_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
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

// A live feed (stdin, a pipe, a terminal): read() hands on what has arrived, where zlib's
// gzread waits until the whole buffer it was given is full. gzip is inflated here.
struct LineReader::Stream {
  int fd = -1;
  std::string name;
  bool sniffed = false;           // the first bytes were looked at
  bool gzip = false;              // ... and began with gzip's magic bytes
  std::vector<unsigned char> in;  // bytes read: plain ones not yet handed on, or deflated
  size_t in_at = 0, in_end = 0;
  z_stream z{};
  bool member_ended = false;  // the last gzip member ended (another may follow)
  bool input_ended = false;

  Stream(int descriptor, std::string n) : fd(descriptor), name(std::move(n)), in(1 << 16) {}
  ~Stream() {
    if (gzip) inflateEnd(&z);
    if (fd >= 0) close(fd);
  }

  // Up to `room` bytes from the descriptor: > 0 read, 0 at its end, -1 when a signal
  // interrupted the wait (a stop: the input ends there).
  ssize_t read_some(unsigned char* out, size_t room) {
    const ssize_t n = ::read(fd, out, room);
    if (n < 0 && errno != EINTR) {
      throw pipeline::SourceError("cannot read " + name + ": " + std::strerror(errno));
    }
    return n;
  }

  // What has arrived, decoded, into `out` (at least a byte unless the input ended): > 0, 0 at
  // the end, -1 when interrupted.
  ssize_t read(char* out, size_t room) {
    if (!sniffed) {
      const ssize_t n = read_some(in.data(), in.size());
      if (n <= 0) return n;
      sniffed = true;
      in_end = static_cast<size_t>(n);
      gzip = n >= 2 && in[0] == 0x1f && in[1] == 0x8b;
      if (gzip && inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        gzip = false;
        throw pipeline::SourceError("cannot read " + name + ": cannot start inflating gzip");
      }
    }
    if (!gzip) {
      if (in_at < in_end) {  // the first bytes, read to look at them
        const size_t n = std::min(room, in_end - in_at);
        std::memcpy(out, in.data() + in_at, n);
        in_at += n;
        return static_cast<ssize_t>(n);
      }
      return read_some(reinterpret_cast<unsigned char*>(out), room);
    }
    while (true) {
      if (in_at == in_end) {
        if (input_ended) {
          if (!member_ended) {
            throw pipeline::SourceError("cannot read " + name +
                                        ": gzip stream ends early (truncated)");
          }
          return 0;
        }
        const ssize_t n = read_some(in.data(), in.size());
        if (n < 0) return n;
        if (n == 0) {
          input_ended = true;
          continue;
        }
        in_at = 0;
        in_end = static_cast<size_t>(n);
      }
      if (member_ended) {  // another member follows (gzip files may be concatenated)
        inflateReset(&z);
        member_ended = false;
      }
      z.next_in = in.data() + in_at;
      z.avail_in = static_cast<uInt>(in_end - in_at);
      z.next_out = reinterpret_cast<Bytef*>(out);
      z.avail_out = static_cast<uInt>(std::min<size_t>(room, 1U << 30));
      const uInt before = z.avail_out;
      const int r = inflate(&z, Z_NO_FLUSH);
      in_at = in_end - z.avail_in;
      if (r == Z_STREAM_END) {
        member_ended = true;
      } else if (r != Z_OK && r != Z_BUF_ERROR) {
        throw pipeline::SourceError("cannot read " + name + ": " +
                                    (z.msg != nullptr ? z.msg : "corrupt gzip stream"));
      }
      if (z.avail_out != before) return static_cast<ssize_t>(before - z.avail_out);
    }
  }
};

LineReader::LineReader(const std::string& path, size_t hard_limit)
    : path_(path), hard_limit_(std::max<size_t>(hard_limit, 1)) {
  const std::string shown = path == "-" ? std::string("stdin") : path;
  struct stat st {};
  const bool found = path != "-" && ::stat(path.c_str(), &st) == 0;
  if (path == "-") {
    const int fd = dup(STDIN_FILENO);
    if (fd < 0)
      throw pipeline::SourceError("cannot open stdin: " + std::string(std::strerror(errno)));
    stream_ = std::make_unique<Stream>(fd, shown);
  } else if (found && S_ISDIR(st.st_mode)) {
    throw pipeline::SourceError("cannot open " + shown + ": it is a directory");
  } else if (found && !S_ISREG(st.st_mode)) {  // a named pipe, a terminal: a live feed
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw pipeline::SourceError("cannot open " + shown + ": " + std::strerror(errno));
    stream_ = std::make_unique<Stream>(fd, shown);
  } else {
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) {
      throw pipeline::SourceError("cannot open " + shown + ": " + std::strerror(errno));
    }
    gzbuffer(file_, 1 << 17);
  }
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
  if (stream_ != nullptr) {
    const ssize_t got = stream_->read(buffer_.data() + end_, room);
    if (got <= 0) {  // the end, or a stop signal interrupted the wait (the caller stops)
      eof_ = true;
      return false;
    }
    end_ += static_cast<size_t>(got);
    check_bom();
    return true;
  }
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
  check_bom();
  return true;
}

void LineReader::check_bom() {
  if (!bom_checked_ && end_ >= 3) {
    // A UTF-8 byte-order mark (Excel and some Windows tools write one) is not content.
    bom_checked_ = true;
    if (std::memcmp(buffer_.data(), "\xEF\xBB\xBF", 3) == 0 && base_offset_ == 0 && begin_ == 0) {
      begin_ = scan_ = 3;
    }
  }
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
