// Line-oriented sinks: one record per line to a file, standard output or standard error.
#pragma once

#include <cstdio>
#include <string>

#include "engine/pipeline/sink.h"

namespace corridor::connectors::file {

class LineSink final : public pipeline::Sink {
 public:
  // `path` "-" is standard output, "/dev/stderr" standard error; otherwise a file,
  // truncated unless `append`. Throws pipeline::SinkError when it cannot open.
  explicit LineSink(const std::string& path, bool append = false);
  ~LineSink() override;
  LineSink(const LineSink&) = delete;
  LineSink& operator=(const LineSink&) = delete;

  void write(std::string_view record, std::string_view key = {}) override;
  // Flushes to the operating system; for files, also fsync(2)s so a flush survives a crash.
  void flush() override;

 private:
  std::FILE* file_ = nullptr;
  std::string path_;
  bool owned_ = false;
  bool dirty_ = false;
};

}  // namespace corridor::connectors::file
