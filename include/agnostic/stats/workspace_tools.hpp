#pragma once
// pyhf's workspace tools on JSON workspaces: inspect, prune, rename, combine, sort and digest, with
// the semantics of pyhf's Workspace methods and `pyhf inspect|prune|rename|combine|sorted|digest`
// (scikit-hep/pyhf, src/pyhf/workspace.py and cli/spec.py), so that an analysis can move between the
// two tools. Every output is a valid workspace (checked by parse_workspace, as pyhf validates its
// outputs against the schema), and python_json_text() writes it as Python's json.dumps does, so the
// files and the sha256 digest are byte for byte those pyhf gives. docs/workspace.md.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/stats/workspace.hpp"

namespace agnostic::stats {

namespace workspace_tools_detail {

// A double as Python's repr() writes it: the shortest digits that read back to the same double,
// positional for decimal exponents -4..15 ("50.0", "0.0001", "1e+16", "1e-05", "2.5e-07").
AGNOSTIC_COMPILED_WHEN_USED
inline std::string python_float_text(double value) {
  require(std::isfinite(value), "workspace JSON: a number is not finite (", value, ")");
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  std::string text(buffer, result.ptr);
  std::string sign;
  if (!text.empty() && text[0] == '-') {
    sign = "-";
    text.erase(0, 1);
  }
  const std::size_t e_at = text.find('e');
  std::string digits = text.substr(0, e_at);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  const int exponent = std::stoi(text.substr(e_at + 1));  // value = d.ddd x 10^exponent
  if (value == 0.0) return sign + "0.0";
  if (exponent < -4 || exponent >= 16) {
    std::string out = sign + digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    const int magnitude = exponent < 0 ? -exponent : exponent;
    out += exponent < 0 ? "e-" : "e+";
    if (magnitude < 10) out += "0";
    return out + std::to_string(magnitude);
  }
  if (exponent < 0) return sign + "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
  const auto integer_digits = static_cast<std::size_t>(exponent) + 1;
  if (digits.size() <= integer_digits)
    return sign + digits + std::string(integer_digits - digits.size(), '0') + ".0";
  return sign + digits.substr(0, integer_digits) + "." + digits.substr(integer_digits);
}

// The code points of UTF-8 text (nlohmann checks UTF-8 when it parses).
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<std::uint32_t> code_points(const std::string& text) {
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const int extra = byte < 0x80 ? 0 : byte < 0xE0 ? 1 : byte < 0xF0 ? 2 : 3;
    std::uint32_t point = extra == 0 ? byte : byte & (0x3Fu >> extra);
    for (int k = 1; k <= extra && i + static_cast<std::size_t>(k) < text.size(); ++k)
      point = (point << 6) | (static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]) & 0x3Fu);
    out.push_back(point);
    i += static_cast<std::size_t>(extra) + 1;
  }
  return out;
}

AGNOSTIC_COMPILED_WHEN_USED
inline void append_u_escape(std::string& out, std::uint32_t unit) {
  static const char* const hex = "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += hex[(unit >> shift) & 0xFu];
}

// A JSON string as Python's json module writes it; ensure_ascii escapes every non-ASCII code point
// (json.dumps's default, used for the files), else UTF-8 is kept (the digest's serialisation).
AGNOSTIC_COMPILED_WHEN_USED
inline void append_python_string(std::string& out, const std::string& text, bool ensure_ascii) {
  out += '"';
  std::size_t byte = 0;
  for (const std::uint32_t point : code_points(text)) {
    const std::size_t length = point < 0x80 ? 1 : point < 0x800 ? 2 : point < 0x10000 ? 3 : 4;
    switch (point) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (point < 0x20) {
          append_u_escape(out, point);
        } else if (point >= 0x80 && ensure_ascii) {
          if (point >= 0x10000) {
            append_u_escape(out, 0xD800 + ((point - 0x10000) >> 10));
            append_u_escape(out, 0xDC00 + ((point - 0x10000) & 0x3FF));
          } else {
            append_u_escape(out, point);
          }
        } else {
          out.append(text, byte, length);
        }
    }
    byte += length;
  }
  out += '"';
}

AGNOSTIC_COMPILED_WHEN_USED
inline void append_python_json(std::string& out, const nlohmann::json& j, int indent, int depth,
                               bool ensure_ascii) {
  const auto newline = [&](int level) {
    out += '\n';
    out.append(static_cast<std::size_t>(indent * level), ' ');
  };
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      out += "null";
      return;
    case nlohmann::json::value_t::boolean:
      out += j.get<bool>() ? "true" : "false";
      return;
    case nlohmann::json::value_t::number_integer:
      out += std::to_string(j.get<std::int64_t>());
      return;
    case nlohmann::json::value_t::number_unsigned:
      out += std::to_string(j.get<std::uint64_t>());
      return;
    case nlohmann::json::value_t::number_float:
      out += python_float_text(j.get<double>());
      return;
    case nlohmann::json::value_t::string:
      append_python_string(out, j.get_ref<const std::string&>(), ensure_ascii);
      return;
    case nlohmann::json::value_t::array:
    case nlohmann::json::value_t::object: {
      const bool object = j.is_object();
      if (j.empty()) {
        out += object ? "{}" : "[]";
        return;
      }
      out += object ? '{' : '[';
      bool first = true;
      for (auto it = j.begin(); it != j.end(); ++it) {  // an object's keys are sorted (std::map)
        if (!first) out += indent < 0 ? ", " : ",";
        first = false;
        if (indent >= 0) newline(depth + 1);
        if (object) {
          append_python_string(out, it.key(), ensure_ascii);
          out += ": ";
        }
        append_python_json(out, it.value(), indent, depth + 1, ensure_ascii);
      }
      if (indent >= 0) newline(depth);
      out += object ? '}' : ']';
      return;
    }
    default:
      require(false, "workspace JSON: a value of type ", j.type_name(), " cannot be written");
  }
}

// SHA-256 (FIPS 180-4) of a byte string, as 64 lowercase hex digits.
AGNOSTIC_COMPILED_WHEN_USED
inline std::string sha256_hex(std::string_view bytes) {
  static constexpr std::array<std::uint32_t, 64> k = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
      0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
      0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
      0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
      0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
      0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
      0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
      0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};
  std::array<std::uint32_t, 8> h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::string message(bytes);
  const std::uint64_t bit_length = static_cast<std::uint64_t>(bytes.size()) * 8;
  message += static_cast<char>(0x80);
  while (message.size() % 64 != 56) message += '\0';
  for (int shift = 56; shift >= 0; shift -= 8) message += static_cast<char>((bit_length >> shift) & 0xFF);
  const auto rotr = [](std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); };
  for (std::size_t block = 0; block < message.size(); block += 64) {
    std::array<std::uint32_t, 64> w{};
    for (std::size_t t = 0; t < 16; ++t)
      for (std::size_t b = 0; b < 4; ++b)
        w[t] = (w[t] << 8) | static_cast<unsigned char>(message[block + 4 * t + b]);
    for (std::size_t t = 16; t < 64; ++t) {
      const std::uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
      const std::uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    std::array<std::uint32_t, 8> v = h;
    for (std::size_t t = 0; t < 64; ++t) {
      const std::uint32_t e = v[4], a = v[0];
      const std::uint32_t t1 =
          v[7] + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & v[5]) ^ (~e & v[6])) + k[t] + w[t];
      const std::uint32_t t2 =
          (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]));
      v = {t1 + t2, v[0], v[1], v[2], v[3] + t1, v[4], v[5], v[6]};
    }
    for (std::size_t i = 0; i < 8; ++i) h[i] += v[i];
  }
  std::ostringstream out;
  static const char* const hex = "0123456789abcdef";
  for (const std::uint32_t word : h)
    for (int shift = 28; shift >= 0; shift -= 4) out << hex[(word >> shift) & 0xFu];
  return out.str();
}

AGNOSTIC_COMPILED_WHEN_USED
inline std::string joined(const std::vector<std::string>& names, const char* separator = ", ") {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : separator) + name;
  return out;
}

// The sorted distinct names of the channels, samples, modifiers (name -> types) and measurements.
struct WorkspaceNames {
  std::vector<std::string> channels, samples, measurements;
  std::map<std::string, std::set<std::string>> modifier_types;  // modifier name -> its types
  std::set<std::string> types;                                  // every modifier type present
};

AGNOSTIC_COMPILED_WHEN_USED
inline WorkspaceNames names_of(const nlohmann::json& ws) {
  WorkspaceNames out;
  std::set<std::string> channels, samples;
  for (const auto& channel : ws.at("channels")) {
    channels.insert(channel.at("name").get<std::string>());
    for (const auto& sample : channel.at("samples")) {
      samples.insert(sample.at("name").get<std::string>());
      for (const auto& modifier : sample.at("modifiers")) {
        out.modifier_types[modifier.at("name").get<std::string>()].insert(
            modifier.at("type").get<std::string>());
        out.types.insert(modifier.at("type").get<std::string>());
      }
    }
  }
  out.channels.assign(channels.begin(), channels.end());
  out.samples.assign(samples.begin(), samples.end());
  for (const auto& measurement : ws.at("measurements")) out.measurements.push_back(measurement.at("name"));
  return out;
}

AGNOSTIC_COMPILED_WHEN_USED
inline bool contains(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

AGNOSTIC_COMPILED_WHEN_USED
inline std::string renamed(const std::vector<std::pair<std::string, std::string>>& map,
                           const std::string& name) {
  for (const auto& [old_name, new_name] : map)
    if (old_name == name) return new_name;
  return name;
}

AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::json checked(nlohmann::json ws, const std::string& what) {
  parse_workspace(ws, what);
  return ws;
}

}  // namespace workspace_tools_detail

// A JSON document as Python's json.dumps(obj, sort_keys=True, indent=indent) writes it (indent < 0:
// one line, json.dumps's default separators ", " and ": "); no newline at the end. pyhf writes its
// workspaces with indent 4 (ensure_ascii) and hashes the one-line form without ensure_ascii.
AGNOSTIC_COMPILED_WHEN_USED
inline std::string python_json_text(const nlohmann::json& j, int indent = 4, bool ensure_ascii = true) {
  std::string out;
  workspace_tools_detail::append_python_json(out, j, indent, 0, ensure_ascii);
  return out;
}

// pyhf.utils.digest: the sha256 of json.dumps(workspace, sort_keys=True, ensure_ascii=False) in UTF-8.
AGNOSTIC_COMPILED_WHEN_USED
inline std::string workspace_digest(const nlohmann::json& ws) {
  return workspace_tools_detail::sha256_hex(python_json_text(ws, -1, false));
}

// What pyhf's prune removes: channels (and their observations), samples (in every channel),
// modifiers by name (and their parameter configs), modifiers by type, measurements.
struct WorkspacePrune {
  std::vector<std::string> channels, samples, modifiers, modifier_types, measurements;
};

// What pyhf's rename renames, old name -> new name: a channel (and its observation), a sample (in
// every channel), a modifier (and its parameter config and the POI that names it), a measurement.
struct WorkspaceRename {
  std::vector<std::pair<std::string, std::string>> channels, samples, modifiers, measurements;
};

namespace workspace_tools_detail {

// pyhf's Workspace._prune_and_rename: every name must exist; the result keeps, of each channel, its
// name and samples; of each sample, name, data and modifiers; of each measurement, name, poi and
// parameters; and the version (a "metadata" member is dropped, as pyhf drops it).
AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::json prune_and_rename(const nlohmann::json& ws, const WorkspacePrune& prune,
                                       const WorkspaceRename& rename, const std::string& operation) {
  using nlohmann::json;
  parse_workspace(ws, operation + "'s input");
  const WorkspaceNames names = names_of(ws);
  std::vector<std::string> modifier_names, type_names(names.types.begin(), names.types.end());
  for (const auto& [name, types] : names.modifier_types) modifier_names.push_back(name);
  const auto check = [&](const std::vector<std::string>& asked, const std::vector<std::string>& present,
                         const char* kind, const char* plural) {
    for (const auto& name : asked)
      require(contains(present, name), operation, ": no ", kind, " named '", name, "' (", plural, ": ",
              joined(present), ")");
  };
  const auto old_names = [](const std::vector<std::pair<std::string, std::string>>& map) {
    std::vector<std::string> out;
    for (const auto& pair : map) out.push_back(pair.first);
    return out;
  };
  check(prune.modifier_types, type_names, "modifier type", "modifier types");
  check(prune.modifiers, modifier_names, "modifier", "modifiers");
  check(old_names(rename.modifiers), modifier_names, "modifier", "modifiers");
  check(prune.samples, names.samples, "sample", "samples");
  check(old_names(rename.samples), names.samples, "sample", "samples");
  check(prune.channels, names.channels, "channel", "channels");
  check(old_names(rename.channels), names.channels, "channel", "channels");
  check(prune.measurements, names.measurements, "measurement", "measurements");
  check(old_names(rename.measurements), names.measurements, "measurement", "measurements");
  for (const auto& [old_name, new_name] : rename.modifiers)
    require(names.modifier_types.at(old_name).count("lumi") == 0 || new_name == "lumi", operation,
            ": modifier '", old_name, "' is of type lumi, which pyhf's schema requires to be named 'lumi'");

  json out = json::object();
  json channels = json::array();
  for (const auto& channel : ws.at("channels")) {
    if (contains(prune.channels, channel.at("name"))) continue;
    json samples = json::array();
    for (const auto& sample : channel.at("samples")) {
      if (contains(prune.samples, sample.at("name"))) continue;
      json modifiers = json::array();
      for (const auto& modifier : sample.at("modifiers")) {
        if (contains(prune.modifiers, modifier.at("name")) ||
            contains(prune.modifier_types, modifier.at("type")))
          continue;
        json kept = modifier;
        kept["name"] = renamed(rename.modifiers, modifier.at("name"));
        modifiers.push_back(std::move(kept));
      }
      samples.push_back({{"name", renamed(rename.samples, sample.at("name"))},
                         {"data", sample.at("data")},
                         {"modifiers", std::move(modifiers)}});
    }
    channels.push_back(
        {{"name", renamed(rename.channels, channel.at("name"))}, {"samples", std::move(samples)}});
  }
  out["channels"] = std::move(channels);
  json measurements = json::array();
  for (const auto& measurement : ws.at("measurements")) {
    if (contains(prune.measurements, measurement.at("name"))) continue;
    const json& config = measurement.at("config");
    json parameters = json::array();
    for (const auto& parameter : config.at("parameters")) {
      if (contains(prune.modifiers, parameter.at("name"))) continue;
      json kept = parameter;
      kept["name"] = renamed(rename.modifiers, parameter.at("name"));
      parameters.push_back(std::move(kept));
    }
    measurements.push_back(
        {{"name", renamed(rename.measurements, measurement.at("name"))},
         {"config",
          {{"parameters", std::move(parameters)}, {"poi", renamed(rename.modifiers, config.at("poi"))}}}});
  }
  out["measurements"] = std::move(measurements);
  json observations = json::array();
  for (const auto& observation : ws.at("observations")) {
    if (contains(prune.channels, observation.at("name"))) continue;
    json kept = observation;
    kept["name"] = renamed(rename.channels, observation.at("name"));
    observations.push_back(std::move(kept));
  }
  out["observations"] = std::move(observations);
  out["version"] = ws.at("version");
  return checked(std::move(out), operation + "'s output");
}

}  // namespace workspace_tools_detail

// pyhf's Workspace.prune (`pyhf prune`). An unknown name is an error naming it and the names present.
AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::json prune_workspace(const nlohmann::json& ws, const WorkspacePrune& prune) {
  return workspace_tools_detail::prune_and_rename(ws, prune, {}, "prune");
}

// pyhf's Workspace.rename (`pyhf rename`). An unknown old name is an error; a new name that collides
// with another in the same place makes an invalid workspace, which is an error too.
AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::json rename_workspace(const nlohmann::json& ws, const WorkspaceRename& rename) {
  return workspace_tools_detail::prune_and_rename(ws, {}, rename, "rename");
}

// pyhf's Workspace.sorted (`pyhf sort`): channels, samples, observations, measurements and parameter
// configs by name, modifiers by (name, type); a stable sort, everything else kept.
AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::json sorted_workspace(const nlohmann::json& ws) {
  parse_workspace(ws, "sort's input");
  nlohmann::json out = ws;
  const auto by_name = [](const nlohmann::json& a, const nlohmann::json& b) {
    return a.at("name").get_ref<const std::string&>() < b.at("name").get_ref<const std::string&>();
  };
  const auto by_name_type = [](const nlohmann::json& a, const nlohmann::json& b) {
    return std::pair(a.at("name").get<std::string>(), a.at("type").get<std::string>()) <
           std::pair(b.at("name").get<std::string>(), b.at("type").get<std::string>());
  };
  auto& channels = out["channels"];
  std::stable_sort(channels.begin(), channels.end(), by_name);
  for (auto& channel : channels) {
    auto& samples = channel["samples"];
    std::stable_sort(samples.begin(), samples.end(), by_name);
    for (auto& sample : samples)
      std::stable_sort(sample["modifiers"].begin(), sample["modifiers"].end(), by_name_type);
  }
  auto& measurements = out["measurements"];
  std::stable_sort(measurements.begin(), measurements.end(), by_name);
  for (auto& measurement : measurements) {
    auto& parameters = measurement["config"]["parameters"];
    std::stable_sort(parameters.begin(), parameters.end(), by_name);
  }
  auto& observations = out["observations"];
  std::stable_sort(observations.begin(), observations.end(), by_name);
  return out;
}

// How combine_workspaces joins two lists of named items (pyhf's Workspace.valid_joins).
enum class WorkspaceJoin { none, outer, left_outer, right_outer };

// "none", "outer", "left outer", "right outer" (pyhf's spelling), or an error listing them.
AGNOSTIC_COMPILED_WHEN_USED
inline WorkspaceJoin parse_workspace_join(const std::string& text) {
  if (text == "none") return WorkspaceJoin::none;
  if (text == "outer") return WorkspaceJoin::outer;
  if (text == "left outer") return WorkspaceJoin::left_outer;
  if (text == "right outer") return WorkspaceJoin::right_outer;
  throw Error("combine: unknown join '" + text + "' (joins: none, outer, left outer, right outer)");
}

namespace workspace_tools_detail {

// pyhf's _join_items: the primary list (the right one for a right outer join, else the left one),
// then each item of the other list by name: deep-merged into the primary item of that name when
// `deep_merge_key` is given (its sub-list joined "left outer"), else appended when the join is none,
// when an outer join finds no identical item, or when a left/right outer join finds no item of that name.
AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::json join_items(WorkspaceJoin join, const nlohmann::json& left, const nlohmann::json& right,
                                 const char* deep_merge_key = nullptr) {
  const bool right_first = join == WorkspaceJoin::right_outer;
  const nlohmann::json& primary = right_first ? right : left;
  const nlohmann::json& secondary = right_first ? left : right;
  nlohmann::json joined = primary;
  std::vector<std::string> primary_names;
  for (const auto& item : primary) primary_names.push_back(item.at("name"));
  for (const auto& item : secondary) {
    const std::string name = item.at("name");
    const auto at = std::find(primary_names.begin(), primary_names.end(), name);
    if (at != primary_names.end() && deep_merge_key != nullptr) {
      auto& target = joined[static_cast<std::size_t>(at - primary_names.begin())][deep_merge_key];
      target = join_items(WorkspaceJoin::left_outer, target, item.at(deep_merge_key));
    } else if (join == WorkspaceJoin::none ||
               (join == WorkspaceJoin::outer &&
                std::find(primary.begin(), primary.end(), item) == primary.end()) ||
               ((join == WorkspaceJoin::left_outer || join == WorkspaceJoin::right_outer) &&
                at == primary_names.end())) {
      joined.push_back(item);
    }
  }
  return joined;
}

AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<std::string> item_names(const nlohmann::json& items) {
  std::vector<std::string> out;
  for (const auto& item : items) out.push_back(item.at("name"));
  return out;
}

// The names that occur in both lists (join none), or more than once in the joined list (outer).
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<std::string> clashes(WorkspaceJoin join, const nlohmann::json& left,
                                        const nlohmann::json& right, const nlohmann::json& joined) {
  std::vector<std::string> out;
  if (join == WorkspaceJoin::none) {
    const auto right_names = item_names(right);
    for (const auto& name : item_names(left))
      if (contains(right_names, name)) out.push_back(name);
  } else if (join == WorkspaceJoin::outer) {
    std::map<std::string, int> count;
    for (const auto& name : item_names(joined))
      if (++count[name] == 2) out.push_back(name);
  }
  return out;
}

AGNOSTIC_COMPILED_WHEN_USED
inline void require_no_clash(WorkspaceJoin join, const std::vector<std::string>& names, const char* what) {
  if (names.empty()) return;
  if (join == WorkspaceJoin::none)
    throw Error(std::string("combine: both workspaces have ") + what + " " + joined(names) +
                " (join none needs distinct names; try --join outer, 'left outer' or 'right outer')");
  throw Error(std::string("combine: both workspaces have ") + what + " " + joined(names) +
              " but they differ (join outer needs identical items of a name" +
              (std::string(what) == "channel" ? "; --merge-channels merges their samples" : "") + ")");
}

}  // namespace workspace_tools_detail

// pyhf's Workspace.combine (`pyhf combine`): channels, observations and measurements of the two
// workspaces joined by name (workspace_tools_detail::join_items). Join none refuses any common name;
// outer refuses common names whose items differ, except measurements with the same POI, whose
// parameter configs are joined (identical ones kept once, differing ones of a name refused); left and
// right outer keep the primary side's item of a common name. merge_channels (outer joins only) joins
// the samples of same-named channels instead, the primary side's sample winning.
AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::json combine_workspaces(const nlohmann::json& left, const nlohmann::json& right,
                                         WorkspaceJoin join, bool merge_channels = false) {
  using namespace workspace_tools_detail;
  using nlohmann::json;
  require(!merge_channels || join != WorkspaceJoin::none,
          "combine: --merge-channels needs join outer, 'left outer' or 'right outer' (not none)");
  parse_workspace(left, "combine's first workspace");
  parse_workspace(right, "combine's second workspace");
  const std::string version = left.at("version"), right_version = right.at("version");
  require(version == right_version, "combine: the workspaces have different versions: ", version, " and ",
          right_version);
  json out = json::object();
  const json& lc = left.at("channels");
  const json& rc = right.at("channels");
  out["channels"] = join_items(join, lc, rc, merge_channels ? "samples" : nullptr);
  require_no_clash(join, clashes(join, lc, rc, out["channels"]), "channel");
  const json& lo = left.at("observations");
  const json& ro = right.at("observations");
  out["observations"] = join_items(join, lo, ro);
  require_no_clash(join, clashes(join, lo, ro, out["observations"]), "observation");
  const json& lm = left.at("measurements");
  const json& rm = right.at("measurements");
  json measurements = join_items(join, lm, rm);
  if (join == WorkspaceJoin::none) require_no_clash(join, clashes(join, lm, rm, measurements), "measurement");
  if (join == WorkspaceJoin::outer) {
    std::vector<std::string> order;
    std::map<std::string, std::vector<json>> by_name;
    for (const auto& m : measurements) {
      const std::string name = m.at("name");
      if (by_name[name].empty()) order.push_back(name);
      by_name[name].push_back(m);
    }
    json merged = json::array();
    for (const auto& name : order) {
      const auto& same = by_name[name];
      if (same.size() == 1) {
        merged.push_back(same.front());
        continue;
      }
      require(same.size() == 2 && same[0].at("config").at("poi") == same[1].at("config").at("poi"),
              "combine: both workspaces have measurement '", name, "' with different POIs (",
              same[0].at("config").at("poi").get<std::string>(), " and ",
              same.back().at("config").at("poi").get<std::string>(), ")");
      json parameters = join_items(WorkspaceJoin::outer, same[0].at("config").at("parameters"),
                                   same[1].at("config").at("parameters"));
      const auto differing = clashes(WorkspaceJoin::outer, json::array(), json::array(), parameters);
      require(differing.empty(), "combine: measurement '", name,
              "' has different parameter configs in the two workspaces for ", joined(differing));
      merged.push_back(
          {{"name", name},
           {"config", {{"poi", same[0].at("config").at("poi")}, {"parameters", std::move(parameters)}}}});
    }
    measurements = std::move(merged);
  }
  out["measurements"] = std::move(measurements);
  out["version"] = version;
  return checked(std::move(out), "combine's output");
}

// What `pyhf inspect` reports: the distinct channels with their bins, samples, modifiers (name ->
// type), parameters with their constraint, and the measurements; the first measurement is the default.
struct WorkspaceInspection {
  struct Parameter {
    std::string name, constraint;        // constraint: unconstrained, constrained_by_normal or _poisson
    std::vector<std::string> modifiers;  // the types of the modifiers with that name, sorted
  };
  struct Measurement {
    std::string name, poi;
    std::vector<std::string> parameters;  // the names of its parameter configs, in order
  };
  std::vector<std::pair<std::string, int>> channels;  // sorted by name
  std::vector<std::string> samples;                   // sorted
  std::map<std::string, std::string> modifiers;       // name -> type (the last type in sorted order)
  std::vector<Parameter> parameters;                  // sorted by name
  std::vector<Measurement> measurements;              // in the workspace's order
};

AGNOSTIC_COMPILED_WHEN_USED
inline WorkspaceInspection inspect_workspace(const nlohmann::json& ws) {
  const Workspace parsed = parse_workspace(ws, "inspect's input");
  const auto names = workspace_tools_detail::names_of(ws);
  WorkspaceInspection out;
  for (const auto& name : names.channels) out.channels.emplace_back(name, parsed.channel(name).bins());
  out.samples = names.samples;
  for (const auto& [name, types] : names.modifier_types) {
    out.modifiers[name] = *types.rbegin();
    std::string constraint = "unconstrained";  // normfactor, shapefactor
    for (const auto& type : types) {
      if (type == "shapesys") constraint = "constrained_by_poisson";
      if (type == "normsys" || type == "histosys" || type == "lumi" || type == "staterror")
        constraint = "constrained_by_normal";
    }
    out.parameters.push_back({name, constraint, {types.begin(), types.end()}});
  }
  for (const auto& measurement : parsed.measurements) {
    WorkspaceInspection::Measurement m{measurement.name, measurement.poi, {}};
    for (const auto& parameter : measurement.parameters) m.parameters.push_back(parameter.name);
    out.measurements.push_back(std::move(m));
  }
  return out;
}

// The inspection as `pyhf inspect --output-file` writes it: {"channels": [[name, bins]...],
// "measurements": [[name, poi, [parameters]]...], "modifiers": {name: type}, "parameters": [[name,
// constraint]...], "samples": [...], "systematics": [[name, constraint, [types]]...]}.
AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::json to_json(const WorkspaceInspection& inspection) {
  using nlohmann::json;
  json out = json::object();
  out["channels"] = json::array();
  for (const auto& [name, bins] : inspection.channels) out["channels"].push_back({name, bins});
  out["samples"] = inspection.samples;
  out["modifiers"] = inspection.modifiers;
  out["parameters"] = json::array();
  out["systematics"] = json::array();
  for (const auto& p : inspection.parameters) {
    out["parameters"].push_back({p.name, p.constraint});
    json types = json::array();  // pyhf lists one type per (name, type) pair present
    for (const auto& type : p.modifiers) types.push_back(type);
    out["systematics"].push_back({p.name, p.constraint, std::move(types)});
  }
  out["measurements"] = json::array();
  for (const auto& m : inspection.measurements) out["measurements"].push_back({m.name, m.poi, m.parameters});
  return out;
}

// The table `pyhf inspect` prints, column for column (names right-aligned to the longest name).
AGNOSTIC_COMPILED_WHEN_USED
inline std::string inspect_text(const WorkspaceInspection& inspection) {
  std::size_t width = 0;
  for (const auto& [name, bins] : inspection.channels) width = std::max(width, name.size());
  for (const auto& name : inspection.samples) width = std::max(width, name.size());
  for (const auto& p : inspection.parameters) width = std::max(width, p.name.size());
  for (const auto& m : inspection.measurements) width = std::max(width, m.name.size());
  const auto right = [](const std::string& text, std::size_t w) {
    return text.size() >= w ? text : std::string(w - text.size(), ' ') + text;
  };
  const auto left = [](const std::string& text, std::size_t w) {
    return text.size() >= w ? text : text + std::string(w - text.size(), ' ');
  };
  const auto centre = [](const std::string& text, std::size_t w) {
    if (text.size() >= w) return text;
    const std::size_t before = (w - text.size()) / 2;
    return std::string(before, ' ') + text + std::string(w - text.size() - before, ' ');
  };
  std::ostringstream out;
  out << right("     Summary     ", width + 7) << "  \n" << right(std::string(18, '-'), width + 7) << "  \n";
  out << right("channels", width) << "  " << inspection.channels.size() << "\n"
      << right("samples", width) << "  " << inspection.samples.size() << "\n"
      << right("parameters", width) << "  " << inspection.parameters.size() << "\n"
      << right("modifiers", width) << "  " << inspection.modifiers.size() << "\n\n";
  out << right("channels", width) << "  " << centre("nbins", 5) << "\n"
      << right(std::string(10, '-'), width) << "  " << std::string(5, '-') << "\n";
  for (const auto& [name, bins] : inspection.channels)
    out << right(name, width) << "  " << centre(std::to_string(bins), 5) << "\n";
  out << "\n" << right("samples", width) << "\n" << right(std::string(10, '-'), width) << "\n";
  for (const auto& name : inspection.samples) out << right(name, width) << "\n";
  out << "\n" << right("parameters", width) << "  " << left("constraint", 22) << "  modifiers\n";
  out << right(std::string(10, '-'), width) << "  " << left(std::string(10, '-'), 22) << "  "
      << std::string(10, '-') << "\n";
  for (const auto& p : inspection.parameters)
    out << right(p.name, width) << "  " << left(p.constraint, 22) << "  "
        << workspace_tools_detail::joined(p.modifiers, ",") << "\n";
  out << "\n" << right("measurement", width) << "  " << centre("poi", 22) << "  parameters\n";
  out << right(std::string(10, '-'), width) << "  " << centre(std::string(10, '-'), 22) << "  "
      << std::string(10, '-') << "\n";
  for (std::size_t i = 0; i < inspection.measurements.size(); ++i) {
    const auto& m = inspection.measurements[i];
    out << right((i == 0 ? "(*) " : "") + m.name, width) << "  " << centre(m.poi, 22) << "  "
        << (m.parameters.empty() ? "(none)" : workspace_tools_detail::joined(m.parameters, ",")) << "\n";
  }
  out << "\n";
  return out.str();
}

}  // namespace agnostic::stats
