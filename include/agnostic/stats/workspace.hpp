#pragma once
// pyhf JSON workspaces (schema 1.0.0): channels with samples and modifiers, observations and
// measurements. parse_workspace() checks the structure and turns it into plain structs; every
// unsupported or inconsistent part is an Error naming the channel, sample, modifier or key.
// to_json() writes the structs back, so a model assembled in C++ can be checked with pyhf.
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/atomic_file.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/json_file.hpp"

namespace agnostic::stats {

// One modifier of a sample; which fields are used depends on the type:
//   normfactor, lumi, shapefactor: none ("data": null)
//   normsys:  hi, lo (the multiplicative factors at alpha = +1 and -1)
//   histosys: hi_data, lo_data (the whole templates at alpha = +1 and -1)
//   shapesys, staterror: values (absolute per-bin uncertainties)
struct ModifierSpec {
  std::string name;
  std::string type;
  double hi = 0.0;
  double lo = 0.0;
  std::vector<double> hi_data;
  std::vector<double> lo_data;
  std::vector<double> values;
};

struct SampleSpec {
  std::string name;
  std::vector<double> data;
  std::vector<ModifierSpec> modifiers;
};

struct ChannelSpec {
  std::string name;
  std::vector<SampleSpec> samples;
  int bins() const { return samples.empty() ? 0 : static_cast<int>(samples.front().data.size()); }
};

struct ObservationSpec {
  std::string name;
  std::vector<double> data;
};

// measurements[].config.parameters[]: overrides of a parameter's defaults. Empty vectors mean
// "not given"; a given vector has one entry per element of the parameter.
struct ParameterConfig {
  std::string name;
  std::vector<double> inits;
  std::vector<std::pair<double, double>> bounds;
  std::optional<bool> fixed;
  std::vector<double> auxdata;
  std::vector<double> sigmas;
};

struct MeasurementSpec {
  std::string name;
  std::string poi;
  std::vector<ParameterConfig> parameters;
  const ParameterConfig* find(const std::string& parameter) const {
    for (const auto& p : parameters)
      if (p.name == parameter) return &p;
    return nullptr;
  }
};

struct Workspace {
  nlohmann::json json;  // the document as read (or as written by to_json for a C++-built workspace)
  std::vector<ChannelSpec> channels;
  std::vector<ObservationSpec> observations;
  std::vector<MeasurementSpec> measurements;
  std::string version = "1.0.0";
  std::string source;  // file name, for messages

  const ChannelSpec& channel(const std::string& name) const {
    for (const auto& c : channels)
      if (c.name == name) return c;
    fail(where(), ": no channel named '", name, "'");
  }
  const ObservationSpec& observation(const std::string& channel_name) const {
    for (const auto& o : observations)
      if (o.name == channel_name) return o;
    fail(where(), ": no observation for channel '", channel_name, "'");
  }
  // The measurement of that name; "" gives the first one.
  const MeasurementSpec& measurement(const std::string& name = "") const {
    require(!measurements.empty(), where(), ": the workspace has no measurement");
    if (name.empty()) return measurements.front();
    std::string known;
    for (const auto& m : measurements) {
      if (m.name == name) return m;
      known += (known.empty() ? "" : ", ") + m.name;
    }
    fail(where(), ": no measurement named '", name, "' (the workspace has: ", known, ")");
  }
  std::string where() const { return source.empty() ? std::string("workspace") : source; }
};

namespace workspace_detail {

inline const nlohmann::json& member(const nlohmann::json& object, const char* key, const std::string& where) {
  require(object.is_object(), where, ": expected a JSON object, got ", object.type_name());
  auto it = object.find(key);
  require(it != object.end(), where, ": missing key '", key, "'");
  return *it;
}

inline void only_keys(const nlohmann::json& object, std::initializer_list<const char*> allowed,
                      const std::string& where) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    bool known = false;
    std::string list;
    for (const char* key : allowed) {
      known = known || it.key() == key;
      list += (list.empty() ? "" : ", ") + std::string(key);
    }
    require(known, where, ": unsupported key '", it.key(), "' (allowed: ", list, ")");
  }
}

inline std::string text(const nlohmann::json& value, const std::string& where) {
  require(value.is_string(), where, ": expected a string, got ", value.type_name(), " ", value.dump());
  return value.get<std::string>();
}

inline double number(const nlohmann::json& value, const std::string& where) {
  require(value.is_number(), where, ": expected a number, got ", value.type_name(), " ", value.dump());
  return value.get<double>();
}

inline std::vector<double> numbers(const nlohmann::json& value, const std::string& where) {
  require(value.is_array(), where, ": expected an array of numbers, got ", value.type_name());
  std::vector<double> out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i)
    out.push_back(number(value[i], where + "[" + std::to_string(i) + "]"));
  return out;
}

inline ModifierSpec parse_modifier(const nlohmann::json& j, const std::string& at, std::size_t bins) {
  only_keys(j, {"name", "type", "data"}, at);
  ModifierSpec m;
  m.name = text(member(j, "name", at), at + ".name");
  m.type = text(member(j, "type", at), at + ".type");
  const std::string here = at + " (modifier '" + m.name + "' of type '" + m.type + "')";
  const auto& data = member(j, "data", here);
  auto check_bins = [&](const std::vector<double>& v, const std::string& key) {
    require(v.size() == bins, here, ": '", key, "' has ", v.size(), " entries but the sample has ", bins,
            " bins");
  };
  if (m.type == "normfactor" || m.type == "lumi" || m.type == "shapefactor") {
    require(data.is_null(), here, ": 'data' must be null, got ", data.dump());
  } else if (m.type == "normsys") {
    only_keys(data, {"hi", "lo"}, here + ".data");
    m.hi = number(member(data, "hi", here + ".data"), here + ".data.hi");
    m.lo = number(member(data, "lo", here + ".data"), here + ".data.lo");
  } else if (m.type == "histosys") {
    only_keys(data, {"hi_data", "lo_data"}, here + ".data");
    m.hi_data = numbers(member(data, "hi_data", here + ".data"), here + ".data.hi_data");
    m.lo_data = numbers(member(data, "lo_data", here + ".data"), here + ".data.lo_data");
    check_bins(m.hi_data, "hi_data");
    check_bins(m.lo_data, "lo_data");
  } else if (m.type == "shapesys" || m.type == "staterror") {
    m.values = numbers(data, here + ".data");
    check_bins(m.values, "data");
    for (double v : m.values) require(v >= 0.0, here, ": uncertainties must be >= 0, got ", v);
  } else {
    fail(here, ": unsupported modifier type '", m.type,
         "' (supported: normfactor, shapefactor, lumi, normsys, histosys, shapesys, staterror)");
  }
  return m;
}

inline ParameterConfig parse_parameter_config(const nlohmann::json& j, const std::string& at) {
  only_keys(j, {"name", "inits", "bounds", "fixed", "auxdata", "sigmas"}, at);
  ParameterConfig p;
  p.name = text(member(j, "name", at), at + ".name");
  const std::string here = at + " (parameter '" + p.name + "')";
  if (j.contains("inits")) p.inits = numbers(j["inits"], here + ".inits");
  if (j.contains("auxdata")) p.auxdata = numbers(j["auxdata"], here + ".auxdata");
  if (j.contains("sigmas")) p.sigmas = numbers(j["sigmas"], here + ".sigmas");
  if (j.contains("fixed")) {
    require(j["fixed"].is_boolean(), here, ".fixed: expected true or false, got ", j["fixed"].dump());
    p.fixed = j["fixed"].get<bool>();
  }
  if (j.contains("bounds")) {
    const auto& b = j["bounds"];
    require(b.is_array(), here, ".bounds: expected an array of [lo, hi] pairs");
    for (std::size_t i = 0; i < b.size(); ++i) {
      const std::string bi = here + ".bounds[" + std::to_string(i) + "]";
      auto pair = numbers(b[i], bi);
      require(pair.size() == 2, bi, ": expected [lo, hi], got ", b[i].dump());
      require(pair[0] <= pair[1], bi, ": lower bound ", pair[0], " is above upper bound ", pair[1]);
      p.bounds.emplace_back(pair[0], pair[1]);
    }
  }
  return p;
}

}  // namespace workspace_detail

// Parses and checks a pyhf workspace document. `source` (a file name) prefixes every message.
inline Workspace parse_workspace(const nlohmann::json& j, std::string source = "") {
  using namespace workspace_detail;
  Workspace ws;
  ws.source = std::move(source);
  ws.json = j;
  const std::string top = ws.where();
  require(j.is_object(), top, ": a workspace must be a JSON object, got ", j.type_name());
  only_keys(j, {"channels", "observations", "measurements", "version", "metadata"}, top);
  ws.version = text(member(j, "version", top), top + ".version");
  require(ws.version == "1.0.0", top, ": unsupported workspace version '", ws.version,
          "' (supported: 1.0.0)");

  const auto& channels = member(j, "channels", top);
  require(channels.is_array() && !channels.empty(), top, ".channels: expected a non-empty array");
  std::set<std::string> channel_names;
  for (std::size_t c = 0; c < channels.size(); ++c) {
    const std::string at = top + ".channels[" + std::to_string(c) + "]";
    only_keys(channels[c], {"name", "samples"}, at);
    ChannelSpec channel;
    channel.name = text(member(channels[c], "name", at), at + ".name");
    require(channel_names.insert(channel.name).second, at, ": duplicate channel name '", channel.name, "'");
    const std::string cat = at + " (channel '" + channel.name + "')";
    const auto& samples = member(channels[c], "samples", cat);
    require(samples.is_array() && !samples.empty(), cat, ".samples: expected a non-empty array");
    std::set<std::string> sample_names;
    for (std::size_t s = 0; s < samples.size(); ++s) {
      const std::string sat = cat + ".samples[" + std::to_string(s) + "]";
      only_keys(samples[s], {"name", "data", "modifiers"}, sat);
      SampleSpec sample;
      sample.name = text(member(samples[s], "name", sat), sat + ".name");
      const std::string sh = sat + " (sample '" + sample.name + "')";
      require(sample_names.insert(sample.name).second, sh, ": duplicate sample name in channel");
      sample.data = numbers(member(samples[s], "data", sh), sh + ".data");
      require(!sample.data.empty(), sh, ".data: a sample needs at least one bin");
      if (!channel.samples.empty())
        require(sample.data.size() == channel.samples.front().data.size(), sh, ".data: has ",
                sample.data.size(), " bins but sample '", channel.samples.front().name, "' has ",
                channel.samples.front().data.size());
      const auto& modifiers = member(samples[s], "modifiers", sh);
      require(modifiers.is_array(), sh, ".modifiers: expected an array");
      std::set<std::pair<std::string, std::string>> seen;
      for (std::size_t m = 0; m < modifiers.size(); ++m) {
        auto mod =
            parse_modifier(modifiers[m], sh + ".modifiers[" + std::to_string(m) + "]", sample.data.size());
        require(seen.insert({mod.name, mod.type}).second, sh, ": modifier '", mod.name, "' of type '",
                mod.type, "' appears twice in the sample");
        sample.modifiers.push_back(std::move(mod));
      }
      channel.samples.push_back(std::move(sample));
    }
    ws.channels.push_back(std::move(channel));
  }

  const auto& observations = member(j, "observations", top);
  require(observations.is_array(), top, ".observations: expected an array");
  for (std::size_t o = 0; o < observations.size(); ++o) {
    const std::string at = top + ".observations[" + std::to_string(o) + "]";
    only_keys(observations[o], {"name", "data"}, at);
    ObservationSpec obs;
    obs.name = text(member(observations[o], "name", at), at + ".name");
    const std::string oh = at + " (observation '" + obs.name + "')";
    require(channel_names.count(obs.name) == 1, oh, ": no channel of that name");
    for (const auto& earlier : ws.observations)
      require(earlier.name != obs.name, oh, ": duplicate observation for the channel");
    obs.data = numbers(member(observations[o], "data", oh), oh + ".data");
    const auto& channel = ws.channel(obs.name);
    require(static_cast<int>(obs.data.size()) == channel.bins(), oh, ".data: has ", obs.data.size(),
            " bins but channel '", obs.name, "' has ", channel.bins());
    for (double v : obs.data) require(v >= 0.0, oh, ".data: counts must be >= 0, got ", v);
    ws.observations.push_back(std::move(obs));
  }
  for (const auto& channel : ws.channels) {
    bool found = false;
    for (const auto& obs : ws.observations) found = found || obs.name == channel.name;
    require(found, top, ".observations: no observation for channel '", channel.name, "'");
  }

  const auto& measurements = member(j, "measurements", top);
  require(measurements.is_array() && !measurements.empty(), top, ".measurements: expected a non-empty array");
  for (std::size_t m = 0; m < measurements.size(); ++m) {
    const std::string at = top + ".measurements[" + std::to_string(m) + "]";
    only_keys(measurements[m], {"name", "config"}, at);
    MeasurementSpec meas;
    meas.name = text(member(measurements[m], "name", at), at + ".name");
    const std::string mh = at + " (measurement '" + meas.name + "')";
    const auto& config = member(measurements[m], "config", mh);
    only_keys(config, {"poi", "parameters"}, mh + ".config");
    meas.poi = text(member(config, "poi", mh + ".config"), mh + ".config.poi");
    const auto& params = member(config, "parameters", mh + ".config");
    require(params.is_array(), mh, ".config.parameters: expected an array");
    for (std::size_t p = 0; p < params.size(); ++p)
      meas.parameters.push_back(
          parse_parameter_config(params[p], mh + ".config.parameters[" + std::to_string(p) + "]"));
    ws.measurements.push_back(std::move(meas));
  }
  return ws;
}

inline Workspace read_workspace(const std::string& path) {
  return parse_workspace(read_json_file(path, "workspace file"), path);
}

// Writes the parsed structs (not ws.json) as a pyhf 1.0.0 workspace.
inline nlohmann::json to_json(const Workspace& ws) {
  using nlohmann::json;
  json out = json::object();
  json channels = json::array();
  for (const auto& c : ws.channels) {
    json samples = json::array();
    for (const auto& s : c.samples) {
      json modifiers = json::array();
      for (const auto& m : s.modifiers) {
        json data;
        if (m.type == "normsys")
          data = json{{"hi", m.hi}, {"lo", m.lo}};
        else if (m.type == "histosys")
          data = json{{"hi_data", m.hi_data}, {"lo_data", m.lo_data}};
        else if (m.type == "shapesys" || m.type == "staterror")
          data = m.values;
        modifiers.push_back(json{{"name", m.name}, {"type", m.type}, {"data", data}});
      }
      samples.push_back(json{{"name", s.name}, {"data", s.data}, {"modifiers", modifiers}});
    }
    channels.push_back(json{{"name", c.name}, {"samples", samples}});
  }
  json observations = json::array();
  for (const auto& o : ws.observations) observations.push_back(json{{"name", o.name}, {"data", o.data}});
  json measurements = json::array();
  for (const auto& m : ws.measurements) {
    json parameters = json::array();
    for (const auto& p : m.parameters) {
      json entry{{"name", p.name}};
      if (!p.inits.empty()) entry["inits"] = p.inits;
      if (!p.bounds.empty()) {
        json bounds = json::array();
        for (const auto& [lo, hi] : p.bounds) bounds.push_back(json::array({lo, hi}));
        entry["bounds"] = bounds;
      }
      if (p.fixed) entry["fixed"] = *p.fixed;
      if (!p.auxdata.empty()) entry["auxdata"] = p.auxdata;
      if (!p.sigmas.empty()) entry["sigmas"] = p.sigmas;
      parameters.push_back(entry);
    }
    measurements.push_back(
        json{{"name", m.name}, {"config", json{{"poi", m.poi}, {"parameters", parameters}}}});
  }
  out["channels"] = channels;
  out["observations"] = observations;
  out["measurements"] = measurements;
  out["version"] = ws.version;
  return out;
}

// Writes `ws` to `path` as pyhf JSON (one-space indent), whole or not at all (core/atomic_file.hpp),
// after reading the JSON back with parse_workspace: a workspace written here is one the fit reads.
inline void write_workspace(const std::string& path, const Workspace& ws) {
  const nlohmann::json j = to_json(ws);
  (void)parse_workspace(j, path);
  write_file_atomically(path, j.dump(1) + "\n");
}

}  // namespace agnostic::stats
