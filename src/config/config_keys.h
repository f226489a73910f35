// Key descriptors: one per config.json key, holding its name, type, bounds,
// documentation and setter. From a table of them come the parser of that
// object (ParseObject), the "unknown key (expected ...)" message and the
// README's table (Describe, config_reference.h). Tables are constexpr arrays
// of Key<T>, where T is the struct the object's values land in.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_checker.h"

namespace modelgate {

enum class KeyKind {
  kBool,
  kInt,     // min..max
  kNumber,  // min_number..max_number
  kString,
  kChoice,          // one of `choices`
  kIntOrUnlimited,  // min..max, or the string "unlimited"
  kObject,          // a nested object with its own table; `parse` reads it
  kCustom,          // anything else; `parse` reads it
};

// Passed to set_uint for "unlimited" (kIntOrUnlimited).
inline constexpr uint64_t kUnlimitedValue = UINT64_MAX;

template <typename T>
struct Key {
  using Parse = bool (*)(Checker&, const nlohmann::json&, const std::string& path, T&);

  std::string_view name;
  KeyKind kind;
  int64_t min = 0;  // kInt, kIntOrUnlimited
  int64_t max = 0;
  double min_number = 0;  // kNumber
  double max_number = 0;
  std::span<const std::string_view> choices{};  // kChoice
  bool required = false;
  std::string_view missing = "is required";  // the reason when a required key is absent
  std::string_view type_doc{};     // README type column; derived from kind and bounds if empty
  std::string_view default_doc{};  // README default column; else `show` of a default T
  // The setter of the kind: the value has been type- and bounds-checked.
  void (*set_bool)(T&, bool) = nullptr;
  void (*set_int)(T&, int64_t) = nullptr;
  void (*set_uint)(T&, uint64_t) = nullptr;  // kIntOrUnlimited: the value or kUnlimitedValue
  void (*set_number)(T&, double) = nullptr;
  void (*set_string)(T&, std::string) = nullptr;  // kString, kChoice
  Parse parse = nullptr;                          // kObject, kCustom: checks and sets
  std::string (*show)(const T&) = nullptr;        // the value as the README writes it
  std::string_view description{};
};

// True when `k` has what its kind needs: ordered bounds, choices, a type for
// object and custom kinds and a description. Each table static_asserts it for
// every key. The setter is not checked here: the factories (BoolKey, IntKey,
// ...) set kind and setter together, and GCC's UBSan build cannot compare a
// lambda's function pointer with null in a constant expression.
template <typename T>
constexpr bool WellFormed(const Key<T>& k) {
  if (k.name.empty() || k.description.empty()) return false;
  switch (k.kind) {
    case KeyKind::kBool:
    case KeyKind::kString:
      return true;
    case KeyKind::kInt:
    case KeyKind::kIntOrUnlimited:
      return k.min < k.max;
    case KeyKind::kNumber:
      return k.min_number < k.max_number;
    case KeyKind::kChoice:
      return k.choices.size() >= 2;
    case KeyKind::kObject:
    case KeyKind::kCustom:
      return !k.type_doc.empty();
  }
  return false;
}

// True when `k` carries the setter (or parse) its kind calls. Checked at run
// time by the config unit tests for every table (see WellFormed for why not
// at compile time).
template <typename T>
bool HasSetter(const Key<T>& k) {
  switch (k.kind) {
    case KeyKind::kBool:
      return k.set_bool != nullptr;
    case KeyKind::kInt:
      return k.set_int != nullptr;
    case KeyKind::kIntOrUnlimited:
      return k.set_uint != nullptr;
    case KeyKind::kNumber:
      return k.set_number != nullptr;
    case KeyKind::kString:
    case KeyKind::kChoice:
      return k.set_string != nullptr;
    case KeyKind::kObject:
    case KeyKind::kCustom:
      return k.parse != nullptr;
  }
  return false;
}

template <typename T, size_t N>
constexpr bool AllWellFormed(const Key<T> (&keys)[N]) {
  for (const Key<T>& k : keys) {
    if (!WellFormed(k)) return false;
  }
  return true;
}

// The documented view of one key (README, tests), whatever its T.
struct KeyReference {
  std::string name;
  KeyKind kind;
  int64_t min = 0, max = 0;
  double min_number = 0, max_number = 0;
  std::vector<std::string> choices;
  bool required = false;
  std::string type;           // markdown
  std::string default_value;  // markdown
  std::string description;
};

// One object's keys. `path` locates the object in a config ("" for the top
// level, "circuit_breaker", "inputs[0]"); `title` heads its README table.
struct TableReference {
  std::string path;
  std::string title;
  std::vector<KeyReference> keys;
};

std::string ExpectedKeys(std::span<const std::string_view> names);
// README type column of a key of `kind` with these bounds.
std::string KeyTypeDoc(KeyKind kind, int64_t min, int64_t max, double min_number, double max_number,
                       std::span<const std::string_view> choices);
// `"a" or "b"` (two choices) or `one of "a", "b", "c"`.
std::string ChoiceList(std::span<const std::string_view> choices);

template <typename T>
bool ParseValue(Checker& c, const Key<T>& key, const nlohmann::json& v, const std::string& path,
                T& out) {
  switch (key.kind) {
    case KeyKind::kBool: {
      bool b = false;
      if (!c.Bool(v, path, &b)) return false;
      key.set_bool(out, b);
      return true;
    }
    case KeyKind::kInt: {
      int64_t i = 0;
      if (!c.Int(v, path, key.min, key.max, &i)) return false;
      key.set_int(out, i);
      return true;
    }
    case KeyKind::kIntOrUnlimited: {
      if (v.is_string()) {
        if (v.get<std::string>() != "unlimited") {
          return c.Fail(path, "must be an integer or \"unlimited\"");
        }
        key.set_uint(out, kUnlimitedValue);
        return true;
      }
      int64_t i = 0;
      if (!c.Int(v, path, key.min, key.max, &i)) return false;
      key.set_uint(out, static_cast<uint64_t>(i));
      return true;
    }
    case KeyKind::kNumber: {
      double d = 0;
      if (!c.Number(v, path, key.min_number, key.max_number, &d)) return false;
      key.set_number(out, d);
      return true;
    }
    case KeyKind::kString: {
      std::string s;
      if (!c.String(v, path, &s)) return false;
      key.set_string(out, std::move(s));
      return true;
    }
    case KeyKind::kChoice: {
      std::string s;
      if (!c.String(v, path, &s)) return false;
      for (std::string_view choice : key.choices) {
        if (s == choice) {
          key.set_string(out, std::move(s));
          return true;
        }
      }
      return c.Fail(path, "must be " + ChoiceList(key.choices) + ", got \"" + s + "\"");
    }
    case KeyKind::kObject:
    case KeyKind::kCustom:
      return key.parse(c, v, path, out);
  }
  return false;
}

// Reads the object `j` at `path` into `out` by `keys`: each key's value is
// checked and set; an unknown key or an absent required one fails. Keys not
// in `j` keep their value in `out`. `not_object` is the reason when `j` is
// not an object.
template <typename T>
bool ParseObject(Checker& c, const nlohmann::json& j, const std::string& path,
                 std::span<const Key<T>> keys, T& out,
                 std::string_view not_object = "must be an object") {
  if (!j.is_object()) return c.Fail(path, std::string(not_object));
  for (const auto& [name, v] : j.items()) {
    const Key<T>* key = nullptr;
    for (const Key<T>& k : keys) {
      if (k.name == name) key = &k;
    }
    if (key == nullptr) {
      std::vector<std::string_view> names;
      for (const Key<T>& k : keys) names.push_back(k.name);
      return c.Fail(KeyPath(path, name), "unknown key (expected " + ExpectedKeys(names) + ")");
    }
    if (!ParseValue(c, *key, v, KeyPath(path, name), out)) return false;
  }
  for (const Key<T>& k : keys) {
    if (k.required && !j.contains(k.name)) {
      return c.Fail(KeyPath(path, k.name), std::string(k.missing));
    }
  }
  return true;
}

template <typename T>
TableReference Describe(std::string path, std::string title, std::span<const Key<T>> keys) {
  TableReference table{std::move(path), std::move(title), {}};
  const T defaults{};
  for (const Key<T>& k : keys) {
    KeyReference r;
    r.name = std::string(k.name);
    r.kind = k.kind;
    r.min = k.min;
    r.max = k.max;
    r.min_number = k.min_number;
    r.max_number = k.max_number;
    r.choices.assign(k.choices.begin(), k.choices.end());
    r.required = k.required;
    r.type = k.type_doc.empty()
                 ? KeyTypeDoc(k.kind, k.min, k.max, k.min_number, k.max_number, k.choices)
                 : std::string(k.type_doc);
    if (k.required) {
      r.default_value = "required";
    } else if (!k.default_doc.empty()) {
      r.default_value = std::string(k.default_doc);
    } else if (k.show != nullptr) {
      r.default_value = "`" + k.show(defaults) + "`";
    }
    r.description = std::string(k.description);
    table.keys.push_back(std::move(r));
  }
  return table;
}

}  // namespace modelgate
