// The synthetic world as a pipeline source (`type: synthetic` in the engine config): the
// events `corridor gen` would write for the same parameters, handed on as records without
// a file in between, as fast as possible or paced to a rate.
//
// What a caller may rely on:
// - Record bytes are the lines of World::append_events for the same WorldParams, without
//   their '\n', whatever `max_records` each call asks for; offsets and line numbers are
//   those of the same lines in `corridor gen`'s output file, so outputs' triggers point
//   into that file.
// - With a rate, no more than rate * t + burst events leave in any t seconds (batches of
//   at most 10 ms worth); with rate 0 nothing waits.
// - The truth file, when asked for, is created (empty) when the source is made, and written
//   in full, the bytes of `corridor gen --truth`, when the world ends. When the source is
//   destroyed before the end it is removed rather than left incomplete.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "connectors/synthetic/pacer.h"
#include "connectors/synthetic/world.h"
#include "engine/pipeline/source.h"

namespace corridor::synthetic {

struct WorldSourceOptions {
  double rate = 0;         // events per wall-clock second; 0: as fast as possible
  std::string truth_path;  // ground-truth file; empty: none
  // Pacing's clock and sleeper; null: the steady clock and a real sleep. They must outlive
  // the source.
  const pipeline::Clock* clock = nullptr;
  Sleeper* sleeper = nullptr;
};

class WorldSource final : public pipeline::Source {
 public:
  // Throws std::invalid_argument for parameters out of range (as World does) and
  // pipeline::SourceError when the truth file cannot be created.
  WorldSource(std::string name, const WorldParams& params, WorldSourceOptions options = {});
  ~WorldSource() override;
  WorldSource(const WorldSource&) = delete;
  WorldSource& operator=(const WorldSource&) = delete;

  std::string_view name() const noexcept override { return name_; }
  // Throws pipeline::SourceError when the truth file cannot be written.
  bool next_batch(pipeline::RecordBatch& batch, size_t max_records) override;

  const World& world() const noexcept { return *world_; }
  // The world has ended (and its truth file, if any, is written).
  bool ended() const noexcept { return ended_; }

 private:
  void finish();  // writes the truth file

  std::string name_;
  std::unique_ptr<World> world_;
  std::string truth_path_;
  std::FILE* truth_ = nullptr;  // open from construction until the world ends
  SteadyClock steady_clock_;
  ThreadSleeper thread_sleeper_;
  std::unique_ptr<RatePacer> pacer_;  // null at rate 0
  std::string buffer_;                // this batch's lines, then kRecordPadding bytes
  uint64_t offset_ = 0;               // bytes handed on so far (with their '\n')
  uint64_t line_ = 0;                 // lines handed on so far
  bool ended_ = false;
};

}  // namespace corridor::synthetic
