// Where output records go. Implementations live in connectors/.
#pragma once

#include <stdexcept>
#include <string_view>

namespace corridor::pipeline {

class SinkError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Sink {
 public:
  virtual ~Sink() = default;
  // Queues one record (a JSON document without a trailing newline). `key` is the entity
  // key for keyed sinks (Kafka); line-oriented sinks ignore it.
  virtual void write(std::string_view record, std::string_view key = {}) = 0;
  // Returns once everything written so far is durable at the destination.
  // Throws SinkError when it cannot be made so.
  virtual void flush() = 0;
};

}  // namespace corridor::pipeline
