#include "connectors/file/ndjson_source.h"

namespace corridor::connectors::file {

NdjsonSource::NdjsonSource(std::string name, const std::string& path, size_t hard_limit)
    : name_(std::move(name)), reader_(path, hard_limit) {}

}  // namespace corridor::connectors::file
