// The canonical event as one line of JSON: what the `events` sink writes.
#pragma once

#include <string>

#include "engine/event/event.h"

namespace corridor::event {

// Appends `e` in canonical form: fields in canonical order, absent optional fields
// omitted, `ts` as RFC 3339 UTC with milliseconds, amounts as exact decimal strings.
// Reads back through the canonical schema to an equal event.
void append_event_json(std::string& out, const Event& e);

}  // namespace corridor::event
