// The JSON decoder: the only translation unit that includes simdjson.
#include <simdjson.h>

#include <string>
#include <vector>

#include "engine/event/decoder.h"
#include "engine/event/event_builder.h"

namespace corridor::event {
namespace {

namespace od = simdjson::ondemand;
static_assert(pipeline::kRecordPadding >= simdjson::SIMDJSON_PADDING);

// The schema's JSON Pointers as a tree: one walk over the document visits each mapped
// location once, in document order (On-Demand reads forward only).
struct PointerNode {
  std::string token;
  std::string path;   // the JSON Pointer up to this node, for messages
  int field = -1;     // leaf: the canonical field stored here
  int64_t index = -1; // the token read as an array index, when it is one
  std::vector<uint32_t> children;
};

std::string_view type_name(od::json_type t) {
  switch (t) {
    case od::json_type::array: return "array";
    case od::json_type::object: return "object";
    case od::json_type::number: return "number";
    case od::json_type::string: return "string";
    case od::json_type::boolean: return "boolean";
    case od::json_type::null: return "null";
  }
  return "unknown";
}

std::string escape_token(std::string_view t) {
  std::string out;
  for (char c : t) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

class JsonDecoder final : public Decoder {
 public:
  JsonDecoder(const Schema& schema, const CurrencyTable& currencies, const DecodeLimits& limits)
      : builder_(schema, currencies, limits), limits_(limits) {
    nodes_.push_back(PointerNode{});
    for (size_t i = 0; i < kFieldCount; ++i) {
      const FieldRule& rule = schema.fields[i];
      if (!rule.mapped || rule.pointer.empty()) continue;
      uint32_t node = 0;
      for (const std::string& token : rule.pointer) {
        uint32_t next = find_child(node, token);
        if (next == kNone) {
          next = static_cast<uint32_t>(nodes_.size());
          PointerNode child;
          child.token = token;
          if (!token.empty() && token.size() < 10 &&
              token.find_first_not_of("0123456789") == std::string::npos &&
              (token == "0" || token[0] != '0')) {
            child.index = std::stoll(token);
          }
          child.path = nodes_[node].path + "/" + escape_token(token);
          nodes_.push_back(std::move(child));
          nodes_[node].children.push_back(next);
        }
        node = next;
      }
      nodes_[node].field = static_cast<int>(i);
    }
  }

  bool decode(const pipeline::Record& record, Event& event, DecodeError& error) override {
    builder_.begin(event, record.line);
    if (record.truncated || record.bytes.size() > limits_.max_event_bytes) {
      return fail(error, Reason::too_large,
                  "record of " + std::string(record.truncated ? "more than " : "") +
                      std::to_string(record.bytes.size()) + " bytes exceeds the limit of " +
                      std::to_string(limits_.max_event_bytes));
    }
    od::document doc;
    if (auto ec = parser_.iterate(record.bytes.data(), record.bytes.size(),
                                  record.bytes.size() + pipeline::kRecordPadding)
                      .get(doc)) {
      return malformed(error, ec);
    }
    od::json_type type;
    if (auto ec = doc.type().get(type)) return malformed(error, ec);
    if (type != od::json_type::object) {
      return fail(error, Reason::bad_type,
                  "expected a JSON object, got " + std::string(type_name(type)));
    }
    od::object root;
    if (auto ec = doc.get_object().get(root)) return malformed(error, ec);
    if (!walk_object(root, 0, error)) return false;
    // After the object only whitespace may follow: in bounds means trailing content.
    if (!doc.current_location().error()) {
      return fail(error, Reason::malformed_json, "content after the JSON object");
    }
    return builder_.finish(error);
  }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;

  uint32_t find_child(uint32_t node, std::string_view token) const {
    for (uint32_t c : nodes_[node].children) {
      if (nodes_[c].token == token) return c;
    }
    return kNone;
  }

  uint32_t find_index_child(uint32_t node, int64_t index) const {
    for (uint32_t c : nodes_[node].children) {
      if (nodes_[c].index == index) return c;
    }
    return kNone;
  }

  static bool fail(DecodeError& error, Reason reason, std::string detail) {
    error.reason = reason;
    error.detail = std::move(detail);
    return false;
  }

  static bool malformed(DecodeError& error, simdjson::error_code ec) {
    return fail(error, Reason::malformed_json, simdjson::error_message(ec));
  }

  bool walk_object(od::object object, uint32_t node, DecodeError& error) {
    for (auto result : object) {
      od::field field;
      if (auto ec = std::move(result).get(field)) return malformed(error, ec);
      std::string_view key;
      if (auto ec = field.unescaped_key().get(key)) return malformed(error, ec);
      const uint32_t child = find_child(node, key);
      if (child == kNone) continue;  // not mapped: On-Demand skips it unread
      od::value value = field.value();
      if (!visit(value, child, error)) return false;
    }
    return true;
  }

  bool walk_array(od::array array, uint32_t node, DecodeError& error) {
    int64_t index = 0;
    for (auto result : array) {
      od::value value;
      if (auto ec = std::move(result).get(value)) return malformed(error, ec);
      const uint32_t child = find_index_child(node, index);
      ++index;
      if (child == kNone) continue;
      if (!visit(value, child, error)) return false;
    }
    return true;
  }

  bool visit(od::value& value, uint32_t node_index, DecodeError& error) {
    const PointerNode& node = nodes_[node_index];
    od::json_type type;
    if (auto ec = value.type().get(type)) return malformed(error, ec);
    if (node.field < 0) {
      // An interior node: descend.
      switch (type) {
        case od::json_type::object: {
          od::object object;
          if (auto ec = value.get_object().get(object)) return malformed(error, ec);
          return walk_object(object, node_index, error);
        }
        case od::json_type::array: {
          od::array array;
          if (auto ec = value.get_array().get(array)) return malformed(error, ec);
          return walk_array(array, node_index, error);
        }
        case od::json_type::null:
          return true;  // an absent branch: its fields are absent
        default:
          return fail(error, Reason::bad_type,
                      node.path + ": expected object, got " + std::string(type_name(type)));
      }
    }
    const auto field = static_cast<Field>(node.field);
    std::string_view text;
    switch (type) {
      case od::json_type::string:
        if (auto ec = value.get_string().get(text)) return malformed(error, ec);
        return builder_.assign(field, ValueType::string, text, error);
      case od::json_type::number:
        text = value.raw_json_token();
        while (!text.empty() && (text.back() == ' ' || text.back() == '\t' ||
                                 text.back() == '\n' || text.back() == '\r')) {
          text.remove_suffix(1);
        }
        return builder_.assign(field, ValueType::number, text, error);
      case od::json_type::boolean: {
        bool b = false;
        if (auto ec = value.get_bool().get(b)) return malformed(error, ec);
        return builder_.assign(field, ValueType::boolean, b ? "true" : "false", error);
      }
      case od::json_type::null: {
        bool is_null = false;
        if (auto ec = value.is_null().get(is_null)) return malformed(error, ec);
        if (!is_null) return fail(error, Reason::malformed_json, node.path + ": invalid literal");
        return builder_.assign(field, ValueType::null, {}, error);
      }
      case od::json_type::object: {
        if (field != Field::labels) return builder_.assign(field, ValueType::object, {}, error);
        od::object object;
        if (auto ec = value.get_object().get(object)) return malformed(error, ec);
        if (auto ec = object.raw_json().get(text)) return malformed(error, ec);
        return builder_.assign(field, ValueType::object, text, error);
      }
      case od::json_type::array:
        return builder_.assign(field, ValueType::array, {}, error);
    }
    return fail(error, Reason::malformed_json, node.path + ": unknown value type");
  }

  EventBuilder builder_;
  const DecodeLimits& limits_;
  od::parser parser_;
  std::vector<PointerNode> nodes_;
};

}  // namespace

std::unique_ptr<Decoder> make_json_decoder(const Schema& schema, const CurrencyTable& currencies,
                                           const DecodeLimits& limits) {
  return std::make_unique<JsonDecoder>(schema, currencies, limits);
}

}  // namespace corridor::event
