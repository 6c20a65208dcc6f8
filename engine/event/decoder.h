// Turns one raw record into a canonical event, or says why it cannot.
#pragma once

#include <memory>
#include <string_view>

#include "engine/event/dead_letter.h"
#include "engine/event/event.h"
#include "engine/event/schema.h"
#include "engine/pipeline/record.h"

namespace corridor::event {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Decodes `record` into the reused `event`, whose strings may view the record and the
  // decoder's own buffers: they stay valid until the next call. On failure returns false
  // and fills `error`; the decoder stays usable.
  virtual bool decode(const pipeline::Record& record, Event& event, DecodeError& error) = 0;
};

// JSON objects (NDJSON lines, Kafka messages) through simdjson's On-Demand API, walking
// the schema's JSON Pointers in one pass over the document.
// Everything passed in must outlive the decoder.
std::unique_ptr<Decoder> make_json_decoder(const Schema& schema, const CurrencyTable& currencies,
                                           const DecodeLimits& limits);

// The simdjson kernels the decoder was compiled for ("haswell", "westmere", "arm64", ...).
std::string_view json_decoder_isa() noexcept;
// False when this CPU lacks instructions the decoder was compiled for: check before decoding.
bool cpu_runs_json_decoder() noexcept;

}  // namespace corridor::event
