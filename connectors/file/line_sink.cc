#include "connectors/file/line_sink.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace corridor::connectors::file {

LineSink::LineSink(const std::string& path, bool append)
    : path_(path == "-" ? std::string("stdout") : path) {
  if (path == "-" || path == "/dev/stdout") {
    file_ = stdout;
  } else if (path == "/dev/stderr") {
    file_ = stderr;
  } else {
    file_ = std::fopen(path.c_str(), append ? "ab" : "wb");
    if (file_ == nullptr) {
      throw pipeline::SinkError("cannot open " + path + " for writing: " + std::strerror(errno));
    }
    owned_ = true;
    std::setvbuf(file_, nullptr, _IOFBF, 1 << 16);
  }
}

LineSink::~LineSink() {
  if (owned_) {
    std::fclose(file_);
  } else {
    std::fflush(file_);
  }
}

void LineSink::write(std::string_view record, std::string_view /*key*/) {
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size() ||
      std::fputc('\n', file_) == EOF) {
    throw pipeline::SinkError("cannot write " + path_ + ": " + std::strerror(errno));
  }
  dirty_ = true;
}

void LineSink::flush() {
  if (!dirty_) return;
  if (std::fflush(file_) != 0) {
    throw pipeline::SinkError("cannot write " + path_ + ": " + std::strerror(errno));
  }
  if (owned_ && fsync(fileno(file_)) != 0 && errno != EINVAL) {
    throw pipeline::SinkError("cannot sync " + path_ + ": " + std::strerror(errno));
  }
  dirty_ = false;
}

}  // namespace corridor::connectors::file
