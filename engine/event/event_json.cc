#include "engine/event/event_json.h"

#include "engine/event/json_text.h"
#include "engine/event/timestamp.h"

namespace corridor::event {
namespace {

void append_party(std::string& out, const Event& e, const char* name, Field first) {
  bool open = false;
  for (size_t k = 0; k < kPartyFieldCount; ++k) {
    const auto f = static_cast<Field>(static_cast<size_t>(first) + k);
    if (!e.has(f)) continue;
    const std::string_view full = field_name(f);
    out += open ? "," : ",\"";
    if (!open) {
      out += name;
      out += "\":{";
    }
    open = true;
    append_json_string(out, full.substr(full.find('.') + 1));
    out.push_back(':');
    append_json_string(out, *string_slot(e, f));
  }
  if (open) out.push_back('}');
}

}  // namespace

void append_event_json(std::string& out, const Event& e) {
  out += "{\"id\":";
  append_json_string(out, e.id);
  out += ",\"ts\":\"";
  append_rfc3339(out, e.ts_ms);
  out += "\",\"kind\":\"";
  out += kind_name(e.kind);
  out += "\",\"amount\":\"";
  append_money(out, e.amount);
  out += "\",\"currency\":\"";
  out += e.currency.view();
  out += "\",\"amount_base\":\"";
  append_money(out, e.amount_base);
  out.push_back('"');
  for (Field f : {Field::channel, Field::agent, Field::purpose}) {
    if (!e.has(f)) continue;
    out += ",\"";
    out += field_name(f);
    out += "\":";
    append_json_string(out, *string_slot(e, f));
  }
  append_party(out, e, "sender", Field::sender_id);
  append_party(out, e, "receiver", Field::receiver_id);
  if (e.has(Field::labels)) {
    out += ",\"labels\":";
    out += e.labels;  // verbatim JSON object from the input
  }
  out.push_back('}');
}

}  // namespace corridor::event
