// The JSON decoder: the only translation unit that includes simdjson.
// simdjson's On-Demand kernels are chosen when this file is compiled, so CMake compiles it
// for CORRIDOR_JSON_ISA (default haswell: AVX2) and main() checks the CPU before any event.
#include <simdjson.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/event/decoder.h"
#include "engine/event/event_builder.h"

static_assert(corridor::pipeline::kRecordPadding >= simdjson::SIMDJSON_PADDING);

namespace corridor::event {
namespace {

namespace od = simdjson::ondemand;

// A child's token as raw key bytes: its first 16 bytes, and a mask of those that count.
// Reading 16 bytes at a key is safe: a key is followed by at least `":0}` and the record by
// kRecordPadding bytes. 64 bytes, so that positions index without a multiplication.
struct RawKey {
  std::array<unsigned char, 16> word{}, mask{};
  uint32_t size = 0;         // the token's length; past 16 the rest is compared byte by byte
  uint32_t child = 0;        // the node it leads to
  int field = -1;            // that node's field, when it is a leaf
  bool plain_field = false;  // the field's strings may take EventBuilder::assign_plain_string
  RawKey* next = nullptr;    // the next raw key of the same node, wrapping around
  // The key that came after this one in the last record: feeds keep one order, so the search
  // for the next key starts there.
  RawKey* follower = nullptr;

  // Whether the first min(size, 16) bytes at `raw` are the token's.
  bool head_matches(const char* raw) const noexcept {
#if defined(__SSE2__)
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(raw));
    const __m128i masked =
        _mm_and_si128(bytes, _mm_loadu_si128(reinterpret_cast<const __m128i*>(mask.data())));
    const __m128i same =
        _mm_cmpeq_epi8(masked, _mm_loadu_si128(reinterpret_cast<const __m128i*>(word.data())));
    return _mm_movemask_epi8(same) == 0xFFFF;
#else
    uint64_t a = 0, b = 0, wa = 0, wb = 0, ma = 0, mb = 0;
    std::memcpy(&a, raw, 8);
    std::memcpy(&b, raw + 8, 8);
    std::memcpy(&wa, word.data(), 8);
    std::memcpy(&wb, word.data() + 8, 8);
    std::memcpy(&ma, mask.data(), 8);
    std::memcpy(&mb, mask.data() + 8, 8);
    return ((a & ma) == wa) & ((b & mb) == wb);
#endif
  }
};
static_assert(sizeof(RawKey) == 64);

// The schema's JSON Pointers as a tree: one walk over the document visits each mapped
// location once, in document order (On-Demand reads forward only).
struct PointerNode {
  std::string token;
  std::string path;              // the JSON Pointer up to this node, for messages
  int field = -1;                // leaf: the canonical field stored here
  int64_t index = -1;            // the token read as an array index, when it is one
  bool has_index_child = false;  // some child token is an array index ("0")
  bool plain = true;  // the token holds no quote or backslash: comparable to raw key bytes
  std::vector<uint32_t> children;
  // The plain children's tokens, contiguous, in the order of `children`.
  std::vector<RawKey> raw_keys;
  RawKey first;  // only first.follower: the raw key that came first in the last record

  RawKey raw_key(uint32_t self) const {
    RawKey k;
    const size_t n = std::min<size_t>(token.size(), 16);
    std::memcpy(k.word.data(), token.data(), n);
    std::memset(k.mask.data(), 0xFF, n);
    k.size = static_cast<uint32_t>(token.size());
    k.child = self;
    return k;
  }

  // Bytes 16 on of a token longer than 16, then the key's closing quote. The token holds no
  // quote, so the loop stops at the key's closing quote at the latest and never reads past
  // the key.
  bool matches_tail(const char* raw) const noexcept {
    for (size_t i = 16; i < token.size(); ++i) {
      if (raw[i] != token[i]) return false;
    }
    return raw[token.size()] == '"';
  }
};

std::string_view type_name(od::json_type t) {
  switch (t) {
    case od::json_type::array:
      return "array";
    case od::json_type::object:
      return "object";
    case od::json_type::number:
      return "number";
    case od::json_type::string:
      return "string";
    case od::json_type::boolean:
      return "boolean";
    case od::json_type::null:
      return "null";
  }
  return "unknown";
}

// The token without the whitespace On-Demand leaves after it.
std::string_view trim_token(std::string_view t) noexcept {
  while (!t.empty() &&
         (t.back() == ' ' || t.back() == '\t' || t.back() == '\n' || t.back() == '\r')) {
    t.remove_suffix(1);
  }
  return t;
}

// RFC 8259 number syntax, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?. On-Demand types a
// value from its first byte only, so "-Infinity", "0125" and "1." reach the decoder as numbers.
bool is_json_number(std::string_view s) noexcept {
  size_t i = 0;
  const auto digits = [&] {
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// The deepest nesting accepted; deeper is malformed_json. The record's value is level 1.
// simdjson's parser holds levels below its max_depth (1024 by default; debug builds assert it).
constexpr size_t kMaxNesting = simdjson::DEFAULT_MAX_DEPTH - 1;

// Whether the record's first object or array closes before the record ends: brackets
// counted outside strings. For a message on the error path only.
bool closes_early(std::string_view s) noexcept {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if ((c == '}' || c == ']') && --depth == 0) {
      return i + 1 < s.size();
    }
  }
  return false;
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
          child.plain = !token.empty() && token.find_first_of("\"\\") == std::string::npos;
          if (!token.empty() && token.size() < 10 &&
              token.find_first_not_of("0123456789") == std::string::npos &&
              (token == "0" || token[0] != '0')) {
            child.index = std::stoll(token);
          }
          child.path = nodes_[node].path + format_json_pointer({token});
          nodes_.push_back(std::move(child));
          nodes_[node].children.push_back(next);
          if (nodes_[next].index >= 0) nodes_[node].has_index_child = true;
        }
        node = next;
      }
      nodes_[node].field = static_cast<int>(i);
    }
    for (PointerNode& node : nodes_) {
      for (const uint32_t c : node.children) {
        if (nodes_[c].plain) node.raw_keys.push_back(nodes_[c].raw_key(c));
      }
      // Pointers into raw_keys: neither it nor nodes_ changes after this.
      const size_t n = node.raw_keys.size();
      for (size_t k = 0; k < n; ++k) {
        RawKey& key = node.raw_keys[k];
        key.field = nodes_[key.child].field;
        key.plain_field = key.field >= 0 && builder_.is_plain(static_cast<Field>(key.field));
        key.next = &node.raw_keys[k + 1 == n ? 0 : k + 1];
        key.follower = key.next;
      }
      node.first.follower = n == 0 ? nullptr : node.raw_keys.data();
    }
  }

  // The raw keys point into nodes_.
  JsonDecoder(const JsonDecoder&) = delete;
  JsonDecoder& operator=(const JsonDecoder&) = delete;

  bool decode(const pipeline::Record& record, Event& event, DecodeError& error) override {
    builder_.begin(event, record.line);
    if (record.truncated || record.bytes.size() > limits_.max_event_bytes) {
      return fail(error, Reason::too_large,
                  "record of " + std::string(record.truncated ? "more than " : "") +
                      std::to_string(record.bytes.size()) + " bytes exceeds the limit of " +
                      std::to_string(limits_.max_event_bytes));
    }
    // Unescaped strings are never longer than their JSON text, so this reservation holds every
    // string of the record: views into the arena stay valid until the next record.
    unescaped_.clear();
    if (unescaped_.capacity() < record.bytes.size()) unescaped_.reserve(record.bytes.size());
    if (fast_walk(record.bytes)) return builder_.finish(error);
    // Declined: the record is decoded again from the start by the general walk, which alone
    // decides what is wrong with a record and says so.
    builder_.begin(event, record.line);
    unescaped_.clear();
    od::document doc;
    if (auto ec = parser_
                      .iterate(record.bytes.data(), record.bytes.size(),
                               record.bytes.size() + pipeline::kRecordPadding)
                      .get(doc)) {
      return malformed(error, ec);
    }
    od::json_type type;
    if (auto ec = doc.type().get(type)) return malformed(error, ec);
    if (type != od::json_type::object) {
      // The wrong type, once the record is known to be one well-formed JSON value.
      if (!validate_root(doc, type, error)) return false;
      return fail(error, Reason::bad_type,
                  "expected a JSON object, got " + std::string(type_name(type)));
    }
    od::object root;
    if (auto ec = doc.get_object().get(root)) {
      // simdjson reports any record not ending in '}' as an unclosed object.
      if (ec == simdjson::INCOMPLETE_ARRAY_OR_OBJECT && closes_early(record.bytes)) {
        return fail(error, Reason::malformed_json, "content after the JSON object");
      }
      return malformed(error, ec);
    }
    if (!walk_object<0>(root, 0, error)) return false;
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

  // Compares the key's bytes in the input with each child's token, without unescaping.
  // The search starts where the key after `previous` (the object's previous key, or the
  // node's `first` for its first key) was found in the last record, so a feed that keeps one
  // order costs one comparison per key. Tokens are unique among siblings: the order of the
  // search never changes its result. Updates `previous` on a match.
  const RawKey* find_raw_child(const char* raw, RawKey*& previous) {
    RawKey* const start = previous->follower;
    if (start == nullptr) return nullptr;  // no plain tokens among the children
    RawKey* c = start;
    do {
      if (c->head_matches(raw) &&
          (c->size <= 16 ? raw[c->size] == '"' : nodes_[c->child].matches_tail(raw))) {
        previous->follower = c;
        previous = c;
        return c;
      }
      c = c->next;
    } while (c != start);
    return nullptr;
  }

  // `raw` follows a key's opening quote.
  static bool has_escape(const char* raw) {
    // Stage 1 has checked that the key is closed, so an unescaped quote ends it.
    for (const char* p = raw; *p != '"'; ++p) {
      if (*p == '\\') return true;
    }
    return false;
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

  // The fast path: the common record walked over stage 1's structural indexes directly,
  // without On-Demand's iterators. It takes only what it can check here exactly as the
  // general walk does -- objects along the schema's pointers, string leaves (unescaped by the
  // same code), numbers, true, false and null, and unmapped values without escapes -- and
  // assigns the same values in the same order. Anything else, and every error, it declines
  // (returns false), and decode starts over with the general walk. So the fast path never
  // decides an outcome the general walk would not reach; it only gets there sooner.
  bool fast_walk(std::string_view bytes) {
    const size_t len = bytes.size();
    if (stage1_ == nullptr || stage1_->capacity() < len) {
      if (!grow_stage1(len)) return false;
    }
    // The same stage 1 as parser_.iterate; on its errors the general walk reports them.
    if (stage1_->stage1(reinterpret_cast<const uint8_t*>(bytes.data()), len,
                        simdjson::stage1_mode::regular) != simdjson::SUCCESS) {
      return false;
    }
    const uint32_t n = stage1_->n_structural_indexes;
    uint32_t* const indexes = stage1_->structural_indexes.get();
    const char* const buf = bytes.data();
    if (n < 2 || buf[indexes[0]] != '{' || buf[indexes[n - 1]] != '}') return false;
    // Stage 1 leaves indexes[n] at the record's end, where the padding may hold anything. A
    // value is expected only after ':', ',' or '[', so never at indexes[n] when the last
    // structural is '}'; every other expectation refuses the '{' this sentinel points to, so
    // the walk stops at the end without a bounds check per token.
    indexes[n] = indexes[0];
    return fast_object<0>(buf, indexes, 0) == indexes + n;  // the object is the whole record
  }

  [[gnu::noinline]] bool grow_stage1(size_t len) {
    const size_t capacity = std::max<size_t>(len, 4096);
    if (stage1_ == nullptr) {
      return simdjson::get_active_implementation()->create_dom_parser_implementation(
                 capacity, simdjson::DEFAULT_MAX_DEPTH, stage1_) == simdjson::SUCCESS;
    }
    return stage1_->set_capacity(capacity) == simdjson::SUCCESS;
  }

  // The object whose '{' is at `pos`, for pointer node `node`. Returns the position after
  // its '}', or nullptr to decline. Positions go by value so that they stay in a register.
  template <int Depth>
  const uint32_t* fast_object(const char* buf, const uint32_t* pos, uint32_t node) {
    if constexpr (Depth > kMaxPointerDepth) {
      return nullptr;
    } else {
      ++pos;
      if (buf[*pos] == '}') return pos + 1;
      RawKey* previous = &nodes_[node].first;
      while (true) {
        const char* key = buf + *pos;
        if (*key != '"' || buf[pos[1]] != ':') return nullptr;
        const RawKey* raw_key = find_raw_child(key + 1, previous);
        if (raw_key == nullptr && has_escape(key + 1)) return nullptr;
        pos += 2;
        const char* value = buf + *pos;
        if (raw_key == nullptr) {
          pos = fast_skip(buf, pos, Depth + 2);
          if (pos == nullptr) return nullptr;
        } else if (raw_key->field >= 0) {
          const auto f = static_cast<Field>(raw_key->field);
          if (*value == '"') {
            const char* const begin = value + 1;
            const char* const end = quote_or_backslash(begin);
            std::string_view text(begin, static_cast<size_t>(end - begin));
            if (*end != '"') {
              std::string_view unescaped;
              if (!unescape_at(begin, unescaped)) return nullptr;
              text = unescaped;
            }
            if (!(raw_key->plain_field ? builder_.assign_plain_string(f, text, fast_error_)
                                       : builder_.assign_checked_string(f, text, fast_error_))) {
              return nullptr;
            }
          } else if (!fast_scalar_leaf(buf, pos, f)) {
            return nullptr;
          }
          ++pos;
        } else if (*value == '{') {
          pos = fast_object<Depth + 1>(buf, pos, raw_key->child);
          if (pos == nullptr) return nullptr;
        } else if (*value == 'n' && scalar_token(buf, pos) == "null") {
          ++pos;  // an absent branch
        } else {
          return nullptr;
        }
        const char next = buf[*pos];
        ++pos;
        if (next == ',') continue;
        return next == '}' ? pos : nullptr;
      }
    }
  }

  static bool starts_scalar(char c) noexcept {
    return c == 't' || c == 'f' || c == 'n' || c == '-' || (c >= '0' && c <= '9');
  }

  // The scalar at `pos`: its bytes up to the next structural, without trailing whitespace.
  // Only where starts_scalar holds: then `pos` is not the last structural (a '}'), and the
  // next one is stage 1's, not the sentinel.
  static std::string_view scalar_token(const char* buf, const uint32_t* pos) noexcept {
    return trim_token(std::string_view(buf + pos[0], pos[1] - pos[0]));
  }

  // A leaf's number, true, false or null at `pos`, as visit assigns it.
  [[gnu::noinline]] bool fast_scalar_leaf(const char* buf, const uint32_t* pos, Field field) {
    if (!starts_scalar(buf[*pos])) return false;
    const std::string_view token = scalar_token(buf, pos);
    switch (token[0]) {
      case 't':
        return token == "true" && builder_.assign(field, ValueType::boolean, "true", fast_error_);
      case 'f':
        return token == "false" && builder_.assign(field, ValueType::boolean, "false", fast_error_);
      case 'n':
        return token == "null" && builder_.assign(field, ValueType::null, {}, fast_error_);
      default:
        return is_json_number(token) &&
               builder_.assign(field, ValueType::number, token, fast_error_);
    }
  }

  // An unmapped value at `pos`, checked as validate checks it (strings and keys only when
  // they have no escapes). Returns the position after it, or nullptr to decline. `depth` as
  // in validate.
  [[gnu::noinline]] const uint32_t* fast_skip(const char* buf, const uint32_t* pos, size_t depth) {
    const char c = buf[*pos];
    if (c == '"') return has_escape(buf + *pos + 1) ? nullptr : pos + 1;
    if (c == '{' || c == '[') {
      if (depth > kFastMaxNesting) return nullptr;
      const char close = c == '{' ? '}' : ']';
      ++pos;
      if (buf[*pos] == close) return pos + 1;
      while (true) {
        if (c == '{') {
          const char* key = buf + *pos;
          if (*key != '"' || buf[pos[1]] != ':' || has_escape(key + 1)) return nullptr;
          pos += 2;
        }
        pos = fast_skip(buf, pos, depth + 1);
        if (pos == nullptr) return nullptr;
        const char next = buf[*pos];
        ++pos;
        if (next == ',') continue;
        return next == close ? pos : nullptr;
      }
    }
    if (!starts_scalar(c)) return nullptr;
    const std::string_view token = scalar_token(buf, pos);
    bool ok = false;
    if (c == 't') {
      ok = token == "true";
    } else if (c == 'f') {
      ok = token == "false";
    } else if (c == 'n') {
      ok = token == "null";
    } else {
      ok = is_json_number(token);
    }
    return ok ? pos + 1 : nullptr;
  }

  // Reads a value all the way down without storing it, so that a record is accepted only
  // when it is well-formed JSON throughout: On-Demand checks only what is read, and would
  // let `[1}`, `tru`, a bad escape or nesting a million deep through wherever the schema
  // does not look. `depth` is the value's nesting level (the record is 1). Recursion is
  // bounded by kMaxNesting.
  bool validate(od::value value, size_t depth, DecodeError& error) {
    if (depth > kMaxNesting) {
      return fail(error, Reason::malformed_json,
                  "nested more than " + std::to_string(kMaxNesting) + " levels deep");
    }
    od::json_type type;
    if (auto ec = value.type().get(type)) return malformed(error, ec);
    switch (type) {
      case od::json_type::object: {
        od::object object;
        if (auto ec = value.get_object().get(object)) return malformed(error, ec);
        for (auto result : object) {
          od::field field;
          if (auto ec = std::move(result).get(field)) return malformed(error, ec);
          std::string_view key;
          if (auto ec = field.unescaped_key().get(key)) return malformed(error, ec);
          if (!validate(field.value(), depth + 1, error)) return false;
        }
        return true;
      }
      case od::json_type::array: {
        od::array array;
        if (auto ec = value.get_array().get(array)) return malformed(error, ec);
        return validate_elements(array, depth, error);
      }
      case od::json_type::string: {
        std::string_view text;
        if (auto ec = value.get_string().get(text)) return malformed(error, ec);
        return true;
      }
      case od::json_type::number:
        return check_number(trim_token(value.raw_json_token()), "", error);
      case od::json_type::boolean: {
        bool b = false;
        if (value.get_bool().get(b)) return invalid_literal(error);
        return true;
      }
      case od::json_type::null: {
        bool is_null = false;
        if (value.is_null().get(is_null) || !is_null) return invalid_literal(error);
        return true;
      }
    }
    return fail(error, Reason::malformed_json, "unknown value type");
  }

  bool validate_elements(od::array& array, size_t depth, DecodeError& error) {
    for (auto result : array) {
      od::value element;
      if (auto ec = std::move(result).get(element)) return malformed(error, ec);
      if (!validate(element, depth + 1, error)) return false;
    }
    return true;
  }

  // A record that is not an object: is it still one JSON value ("nul" is not)?
  bool validate_root(od::document& doc, od::json_type type, DecodeError& error) {
    switch (type) {
      case od::json_type::array: {
        od::array array;
        if (auto ec = doc.get_array().get(array)) return malformed(error, ec);
        return validate_elements(array, 1, error);
      }
      case od::json_type::string: {
        std::string_view text;
        if (auto ec = doc.get_string().get(text)) return malformed(error, ec);
        return true;
      }
      case od::json_type::number: {
        std::string_view token;
        if (auto ec = doc.raw_json_token().get(token)) return malformed(error, ec);
        return check_number(trim_token(token), "", error);
      }
      case od::json_type::boolean: {
        bool b = false;
        if (doc.get_bool().get(b)) return invalid_literal(error);
        return true;
      }
      case od::json_type::null: {
        bool is_null = false;
        if (doc.is_null().get(is_null) || !is_null) return invalid_literal(error);
        return true;
      }
      default:
        return true;
    }
  }

  static bool check_number(std::string_view token, std::string_view path, DecodeError& error) {
    if (is_json_number(token)) return true;
    constexpr size_t kShown = 64;
    return fail(error, Reason::malformed_json,
                std::string(path) + (path.empty() ? "" : ": ") + "\"" +
                    std::string(token.substr(0, kShown)) + (token.size() > kShown ? "..." : "") +
                    "\" is not a JSON number");
  }

  static bool invalid_literal(DecodeError& error) {
    return fail(error, Reason::malformed_json, "invalid literal: expected true, false or null");
  }

  // walk_object, walk_array and visit are templates on the depth so the compiler can inline
  // one level into the next (a recursive function would keep simdjson's iterator state in
  // memory). Pointers are at most kMaxPointerDepth tokens long (checked when loading).
  template <int Depth>
  bool walk_object(od::object& object, uint32_t node, DecodeError& error) {
    RawKey* previous = &nodes_[node].first;
    for (auto result : object) {
      if (auto ec = result.error()) return malformed(error, ec);
      od::field& field = result.value_unsafe();  // no copy of the field on the hot path
      uint32_t child = kNone;
      int leaf_field = -1;
      bool plain_field = false;
      if (const RawKey* raw_key = find_raw_child(field.key().raw(), previous)) {
        child = raw_key->child;
        leaf_field = raw_key->field;
        plain_field = raw_key->plain_field;
      } else if (has_escape(field.key().raw())) {
        // Rare: a key written with escapes ("\u0069d") still names its field.
        std::string_view key;
        if (auto ec = field.unescaped_key().get(key)) return malformed(error, ec);
        child = find_child(node, key);
        if (child != kNone) leaf_field = nodes_[child].field;
      }
      if (child == kNone) {
        // Not mapped: read anyway, so the record is valid JSON where the schema does not look.
        if (!validate(field.value(), Depth + 2, error)) return false;
        continue;
      }
      if (leaf_field >= 0) {
        // The common case inline: a string leaf, without a call into visit per field.
        std::string_view text;
        const simdjson::error_code ec = read_string(field.value(), text);
        if (!ec) {
          const auto f = static_cast<Field>(leaf_field);
          if (!(plain_field ? builder_.assign_plain_string(f, text, error)
                            : builder_.assign_checked_string(f, text, error))) {
            return false;
          }
          continue;
        }
        if (ec != simdjson::INCORRECT_TYPE) return malformed(error, ec);
      }
      if (!visit<Depth + 1>(field.value(), child, error)) return false;
    }
    return true;
  }

  template <int Depth>
  bool walk_array(od::array& array, uint32_t node, DecodeError& error) {
    int64_t index = 0;
    for (auto result : array) {
      od::value value;
      if (auto ec = std::move(result).get(value)) return malformed(error, ec);
      const uint32_t child = find_index_child(node, index);
      ++index;
      if (child == kNone) {
        if (!validate(value, Depth + 2, error)) return false;  // not mapped: read anyway
        continue;
      }
      if (!visit<Depth + 1>(value, child, error)) return false;
    }
    return true;
  }

  template <int Depth>
  bool visit(od::value& value, uint32_t node_index, DecodeError& error) {
    if constexpr (Depth > kMaxPointerDepth) {
      return fail(error, Reason::malformed_json, "schema pointer deeper than supported");
    } else {
      const PointerNode& node = nodes_[node_index];
      if (node.field >= 0) {
        // Most leaves are strings: try that first and ask for the type only when it is not.
        // A non-string is refused before the iterator moves (INCORRECT_TYPE); any other
        // error (a bad escape) has consumed the value and is final.
        std::string_view text;
        const simdjson::error_code ec = read_string(value, text);
        if (!ec) {
          return builder_.assign(static_cast<Field>(node.field), ValueType::string, text, error);
        }
        if (ec != simdjson::INCORRECT_TYPE) return malformed(error, ec);
      }
      od::json_type type;
      if (auto ec = value.type().get(type)) return malformed(error, ec);
      if (node.field < 0) {
        // An interior node: descend.
        switch (type) {
          case od::json_type::object: {
            od::object object;
            if (auto ec = value.get_object().get(object)) return malformed(error, ec);
            return walk_object<Depth>(object, node_index, error);
          }
          case od::json_type::array: {
            if (!node.has_index_child) break;  // the pointers below name keys, not indices
            od::array array;
            if (auto ec = value.get_array().get(array)) return malformed(error, ec);
            return walk_array<Depth>(array, node_index, error);
          }
          case od::json_type::null: {
            // An absent branch: its fields are absent. The literal is checked: the type
            // comes from its first byte only.
            bool is_null = false;
            if (auto ec = value.is_null().get(is_null)) return malformed(error, ec);
            if (!is_null)
              return fail(error, Reason::malformed_json, node.path + ": invalid literal");
            return true;
          }
          default:
            break;
        }
        return fail(error, Reason::bad_type,
                    node.path + ": expected " +
                        (node.has_index_child ? "array or object" : "object") + ", got " +
                        std::string(type_name(type)));
      }
      const auto field = static_cast<Field>(node.field);
      std::string_view text;
      switch (type) {
        case od::json_type::string:
          if (auto ec = read_string(value, text)) return malformed(error, ec);
          return builder_.assign(field, ValueType::string, text, error);
        case od::json_type::number:
          text = trim_token(value.raw_json_token());
          if (!check_number(text, node.path, error)) return false;
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
          // Labels are kept as raw JSON text and echoed verbatim: read them whole first.
          const char* start = value.raw_json_token().data();
          if (!validate(value, Depth + 1, error)) return false;
          const char* end = nullptr;
          if (auto ec = value.current_location().get(end)) return malformed(error, ec);
          text = trim_token(std::string_view(start, static_cast<size_t>(end - start)));
          return builder_.assign(field, ValueType::object, text, error);
        }
        case od::json_type::array:
          return builder_.assign(field, ValueType::array, {}, error);
      }
      return fail(error, Reason::malformed_json, node.path + ": unknown value type");
    }
  }

  EventBuilder builder_;
  const DecodeLimits& limits_;
  // A string value as a view of the record itself when it has no escapes (the usual case),
  // else unescaped into `unescaped_`. INCORRECT_TYPE, before consuming, when not a string;
  // STRING_ERROR for an invalid escape or a lone surrogate.
  simdjson::error_code read_string(od::value& value, std::string_view& out) {
    od::raw_json_string raw;
    if (auto ec = value.get_raw_json_string().get(raw)) return ec;
    return read_string_at(raw.raw(), out);
  }

  // The string whose opening quote precedes `begin`: SUCCESS or STRING_ERROR, as read_string.
  simdjson::error_code read_string_at(const char* begin, std::string_view& out) {
    const char* p = quote_or_backslash(begin);
    if (*p == '"') {
      out = std::string_view(begin, static_cast<size_t>(p - begin));
      return simdjson::SUCCESS;
    }
    return unescape(begin, out);
  }

  // The first quote or backslash from `begin` on, in a string whose opening quote precedes it.
  static const char* quote_or_backslash(const char* begin) noexcept {
    const char* p = begin;
    // Stage 1 has checked that every string is closed, so the scan ends at its quote; reading
    // 16 bytes at a time past it stays inside the record's padding.
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    while (true) {
      const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const int hits = _mm_movemask_epi8(
          _mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)));
      if (hits != 0) return p + __builtin_ctz(static_cast<unsigned>(hits));
      p += 16;
    }
#else
    while (*p != '"' && *p != '\\') ++p;
    return p;
#endif
  }

  // read_string_at's escaped case out of line, so that the caller's view stays in registers.
  [[gnu::noinline]] bool unescape_at(const char* begin, std::string_view& out) {
    return unescape(begin, out) == simdjson::SUCCESS;
  }

  static int hex4(const char* p) noexcept {
    int v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = p[i];
      int d = 0;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        return -1;
      }
      v = v * 16 + d;
    }
    return v;
  }

  simdjson::error_code unescape(const char* p, std::string_view& out) {
    const size_t start = unescaped_.size();
    while (*p != '"') {
      if (*p != '\\') {
        unescaped_.push_back(*p++);
        continue;
      }
      const char e = p[1];
      p += 2;
      switch (e) {
        case '"':
          unescaped_.push_back('"');
          break;
        case '\\':
          unescaped_.push_back('\\');
          break;
        case '/':
          unescaped_.push_back('/');
          break;
        case 'b':
          unescaped_.push_back('\b');
          break;
        case 'f':
          unescaped_.push_back('\f');
          break;
        case 'n':
          unescaped_.push_back('\n');
          break;
        case 'r':
          unescaped_.push_back('\r');
          break;
        case 't':
          unescaped_.push_back('\t');
          break;
        case 'u': {
          int cp = hex4(p);
          if (cp < 0) return simdjson::STRING_ERROR;
          p += 4;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            // A high surrogate must be followed by an escaped low surrogate.
            if (p[0] != '\\' || p[1] != 'u') return simdjson::STRING_ERROR;
            const int low = hex4(p + 2);
            if (low < 0xDC00 || low > 0xDFFF) return simdjson::STRING_ERROR;
            p += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return simdjson::STRING_ERROR;
          }
          // UTF-8 never takes more bytes than the escape it came from (6 or 12).
          if (cp < 0x80) {
            unescaped_.push_back(static_cast<char>(cp));
          } else if (cp < 0x800) {
            unescaped_.push_back(static_cast<char>(0xC0 | (cp >> 6)));
            unescaped_.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          } else if (cp < 0x10000) {
            unescaped_.push_back(static_cast<char>(0xE0 | (cp >> 12)));
            unescaped_.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            unescaped_.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          } else {
            unescaped_.push_back(static_cast<char>(0xF0 | (cp >> 18)));
            unescaped_.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
            unescaped_.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            unescaped_.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          }
          break;
        }
        default:
          return simdjson::STRING_ERROR;
      }
    }
    out = std::string_view(unescaped_).substr(start);
    return simdjson::SUCCESS;
  }

  // Deeper unmapped values are left to the general walk (kMaxNesting).
  static constexpr size_t kFastMaxNesting = 64;

  od::parser parser_;
  // The fast path's own stage 1: the same kernels as parser_'s, whose indexes are private.
  std::unique_ptr<simdjson::internal::dom_parser_implementation> stage1_;
  DecodeError fast_error_;  // the fast path's errors, never reported: it declines instead
  std::vector<PointerNode> nodes_;
  std::string unescaped_;  // escaped strings of the current record, unescaped
};

}  // namespace

std::unique_ptr<Decoder> make_json_decoder(const Schema& schema, const CurrencyTable& currencies,
                                           const DecodeLimits& limits) {
  return std::make_unique<JsonDecoder>(schema, currencies, limits);
}

}  // namespace corridor::event

namespace corridor::event {

#define CORRIDOR_STRINGIFY_IMPL(x) #x
#define CORRIDOR_STRINGIFY(x) CORRIDOR_STRINGIFY_IMPL(x)
std::string_view json_decoder_isa() noexcept {
  return CORRIDOR_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION);
}

bool cpu_runs_json_decoder() noexcept {
#if defined(__x86_64__) && defined(__AVX2__)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
         __builtin_cpu_supports("pclmul");
#elif defined(__x86_64__) && defined(__SSE4_2__)
  return __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("pclmul");
#else
  return true;
#endif
}

}  // namespace corridor::event
