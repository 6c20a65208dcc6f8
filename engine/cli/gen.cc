#include <chrono>
#include <cstdio>
#include <memory>
#include <ostream>
#include <stdexcept>

#include "connectors/synthetic/world.h"
#include "engine/cli/commands.h"
#include "engine/event/timestamp.h"

namespace corridor::cli {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const noexcept {
    if (f != nullptr && f != stdout) std::fclose(f);
  }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File open_output(const std::string& path) {
  if (path == "-") return File(stdout);
  return File(std::fopen(path.c_str(), "wb"));
}

bool write_all(std::FILE* f, const std::string& bytes) {
  return std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
}

}  // namespace

int gen(const GenOptions& options, std::ostream& err) {
  synthetic::WorldParams params;
  params.seed = options.seed;
  params.entities = options.entities;
  params.days = options.days;
  params.scenarios = options.scenarios;
  params.no_scenarios = options.no_scenarios;
  if (!options.start.empty() && !event::parse_rfc3339(options.start, params.start_ms)) {
    err << "corridor gen: --start: '" << options.start
        << "' is not an RFC 3339 time such as 2026-01-01T00:00:00Z\n";
    return kUsageError;
  }
  if (options.out == "-" && options.truth == "-") {
    err << "corridor gen: --out and --truth cannot both be stdout\n";
    return kUsageError;
  }

  const auto started = std::chrono::steady_clock::now();
  std::unique_ptr<synthetic::World> world;
  try {
    world = std::make_unique<synthetic::World>(params);
  } catch (const std::invalid_argument& e) {
    err << "corridor gen: " << e.what() << "\n";
    return kUsageError;
  }

  const File out = open_output(options.out);
  if (!out) {
    err << "corridor gen: cannot create " << options.out << "\n";
    return kRuntimeError;
  }
  std::string buffer;
  buffer.reserve(1 << 21);
  while (world->append_events(buffer, 4096) > 0) {
    if (!write_all(out.get(), buffer)) {
      err << "corridor gen: writing " << options.out << " failed\n";
      return kRuntimeError;
    }
    buffer.clear();
  }
  if (std::fflush(out.get()) != 0) {
    err << "corridor gen: writing " << options.out << " failed\n";
    return kRuntimeError;
  }

  if (!options.truth.empty()) {
    const File truth = open_output(options.truth);
    if (!truth) {
      err << "corridor gen: cannot create " << options.truth << "\n";
      return kRuntimeError;
    }
    buffer.clear();
    for (const synthetic::TruthRecord& t : world->truth()) {
      synthetic::append_truth_json(buffer, t);
      buffer.push_back('\n');
    }
    if (!write_all(truth.get(), buffer) || std::fflush(truth.get()) != 0) {
      err << "corridor gen: writing " << options.truth << " failed\n";
      return kRuntimeError;
    }
  }

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const synthetic::WorldStats& s = world->stats();
  char line[320];
  std::snprintf(line, sizeof line,
                "corridor gen: seed %llu, %u entities, %u days: %llu events (%llu in %zu "
                "scenarios) in %.2f s\n",
                static_cast<unsigned long long>(params.seed), params.entities, params.days,
                static_cast<unsigned long long>(s.events),
                static_cast<unsigned long long>(s.scenario_events), world->truth().size(), seconds);
  err << line;
  return kOk;
}

}  // namespace corridor::cli
