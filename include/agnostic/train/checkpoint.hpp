#pragma once
// Checkpoints: everything a training run needs to continue as if it had never stopped.
//
//   {"format": "agnostic-checkpoint", "version": 1, "scalar": "float", "epoch": 3,
//    "state":  {"epoch": 3, "parameters": [{"name": "net.0.weight", "rows": 20, "cols": 41,
//                                           "data": [row-major values]}, ...],
//               "optimisers": [<optim/state_json.hpp>, ...]},
//    "rng": {"s0": ..., "s1": ...},
//    "history": <history.hpp>,
//    "best": {"epoch": 2, "parameters": [...]} or null,
//    "recent": [<state>, ...],          // the last K epochs' states, for rollbacks
//    "scheme": <the training scheme's own state, or null>,
//    "data_fingerprint": "fnv1a64:..."}  // io/fingerprint.hpp; absent in checkpoints written before it
//
// A resume compares the data fingerprint with that of the data given now and refuses other data
// (require_same_data); a checkpoint without one resumes unchecked, as it did when it was written.
//
// Numbers: a float or double is written as the shortest decimal that reads back to the same
// double (nlohmann::json's writer), and a float converts to double and back exactly, so every
// weight, moment and counter returns bit for bit. Files are written atomically (core/atomic_file.hpp).
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/autodiff/parameter_group.hpp"
#include "agnostic/core/atomic_file.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/optim/optimiser.hpp"
#include "agnostic/optim/state_json.hpp"
#include "agnostic/train/history.hpp"

namespace agnostic::train {

inline constexpr int kCheckpointVersion = 1;

template <class T>
struct NamedMatrix {
  std::string name;
  Matrix<T> value;
};

// The trainable state at the end of an epoch: parameter values and optimiser states.
template <class T>
struct TrainingState {
  Index epoch = 0;
  std::vector<NamedMatrix<T>> parameters;
  std::vector<OptimiserState<T>> optimisers;
};

template <class T>
struct Checkpoint {
  Index epoch = 0;  // completed epochs
  TrainingState<T> state;
  Rng::State rng{0, 0};
  History history;
  std::optional<TrainingState<T>> best;  // parameters only (no optimiser states)
  std::vector<TrainingState<T>> recent;  // oldest first
  nlohmann::json scheme;                 // null when the scheme keeps no state of its own
  std::string data_fingerprint;          // of the data trained on; "" when not recorded
};

// Refuses to continue a run on data other than those its checkpoint at `where` was written with.
// Either fingerprint empty (a checkpoint older than fingerprints, a trainer not given one): no check.
inline void require_same_data(const std::string& saved, const std::string& now, const std::string& where) {
  if (saved.empty() || now.empty()) return;
  require(saved == now, where, ": the run was trained on data with fingerprint ", saved,
          " but the data given now have fingerprint ", now,
          " (a hash of every column's name, type, length and values, or of every data file's bytes); ",
          "resume with the data the run started with, or start afresh without --resume (resume=False "
          "in Python)");
}

template <class T>
constexpr const char* scalar_name() {
  if constexpr (std::is_same_v<T, float>)
    return "float";
  else if constexpr (std::is_same_v<T, double>)
    return "double";
  else
    return "other";
}

// ---- taking and putting back states ----

template <class T>
std::vector<NamedMatrix<T>> parameter_values(const ParameterGroup<T>& group) {
  std::vector<NamedMatrix<T>> out;
  out.reserve(group.size());
  for (const Parameter<T>* p : group) out.push_back({p->name, p->value});
  return out;
}

// Copies saved values into the group after checking that names and shapes match one for one.
template <class T>
void load_parameter_values(const ParameterGroup<T>& group, const std::vector<NamedMatrix<T>>& values,
                           const std::string& where) {
  require(values.size() == group.size(), where, ": ", values.size(), " parameters saved but the model has ",
          group.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const Parameter<T>& p = group[i];
    require(values[i].name == p.name, where, ": parameter ", i, " is '", values[i].name,
            "' but the model's is '", p.name, "'");
    require(values[i].value.rows() == p.value.rows() && values[i].value.cols() == p.value.cols(), where,
            ": parameter '", p.name, "' saved as ", values[i].value.rows(), " x ", values[i].value.cols(),
            " but the model's is ", p.value.rows(), " x ", p.value.cols());
  }
  for (std::size_t i = 0; i < values.size(); ++i) group[i].value = values[i].value;
}

template <class T>
TrainingState<T> capture_state(Index epoch, const ParameterGroup<T>& group,
                               const std::vector<Optimiser<T>*>& optimisers) {
  TrainingState<T> s;
  s.epoch = epoch;
  s.parameters = parameter_values(group);
  for (const Optimiser<T>* o : optimisers) s.optimisers.push_back(o->state());
  return s;
}

template <class T>
void restore_state(const TrainingState<T>& s, const ParameterGroup<T>& group,
                   const std::vector<Optimiser<T>*>& optimisers, const std::string& where) {
  require(s.optimisers.size() == optimisers.size(), where, ": ", s.optimisers.size(),
          " optimiser states saved but the training has ", optimisers.size(), " optimisers");
  load_parameter_values(group, s.parameters, where);
  for (std::size_t i = 0; i < optimisers.size(); ++i) optimisers[i]->load_state(s.optimisers[i]);
}

// ---- JSON ----

namespace detail {

template <class T>
nlohmann::json matrix_to_json(const std::string& name, const Matrix<T>& m) {
  nlohmann::json data = nlohmann::json::array();
  for (Index r = 0; r < m.rows(); ++r)
    for (Index c = 0; c < m.cols(); ++c) {
      const double x = static_cast<double>(m(r, c));
      require(std::isfinite(x), "checkpoint: '", name, "' element (", r, ", ", c, ") is ", x,
              "; a checkpoint holds finite values only");
      data.push_back(x);
    }
  return {{"name", name}, {"rows", m.rows()}, {"cols", m.cols()}, {"data", std::move(data)}};
}

template <class T>
NamedMatrix<T> matrix_from_json(const nlohmann::json& j) {
  NamedMatrix<T> out;
  out.name = member(j, "name", "checkpoint parameter").get<std::string>();
  const std::string where = "checkpoint parameter '" + out.name + "'";
  const auto rows = member(j, "rows", where).get<Index>(), cols = member(j, "cols", where).get<Index>();
  const nlohmann::json& data = member(j, "data", where);
  require(rows >= 0 && cols >= 0 && data.is_array() && static_cast<Index>(data.size()) == rows * cols, where,
          " is ", rows, " x ", cols, " but holds ", data.size(), " values");
  out.value.resize(rows, cols);
  for (Index r = 0; r < rows; ++r)
    for (Index c = 0; c < cols; ++c) {
      const nlohmann::json& x = data[static_cast<std::size_t>(r * cols + c)];
      require(x.is_number(), where, " value ", r * cols + c, " is ", x.dump(), "; a number expected");
      out.value(r, c) = static_cast<T>(x.get<double>());
    }
  return out;
}

template <class T>
nlohmann::json state_to_json(const TrainingState<T>& s, bool with_optimisers = true) {
  nlohmann::json j;
  j["epoch"] = s.epoch;
  j["parameters"] = nlohmann::json::array();
  for (const auto& p : s.parameters) j["parameters"].push_back(matrix_to_json(p.name, p.value));
  if (with_optimisers) {
    j["optimisers"] = nlohmann::json::array();
    for (const auto& o : s.optimisers) j["optimisers"].push_back(nlohmann::json(o));
  }
  return j;
}

template <class T>
TrainingState<T> state_from_json(const nlohmann::json& j, bool with_optimisers = true) {
  TrainingState<T> s;
  s.epoch = member(j, "epoch", "checkpoint state").get<Index>();
  for (const auto& p : member(j, "parameters", "checkpoint state"))
    s.parameters.push_back(matrix_from_json<T>(p));
  if (with_optimisers)
    for (const auto& o : member(j, "optimisers", "checkpoint state"))
      s.optimisers.push_back(o.get<OptimiserState<T>>());
  return s;
}

}  // namespace detail

template <class T>
nlohmann::json checkpoint_to_json(const Checkpoint<T>& c) {
  nlohmann::json j;
  j["format"] = "agnostic-checkpoint";
  j["version"] = kCheckpointVersion;
  j["scalar"] = scalar_name<T>();
  j["epoch"] = c.epoch;
  j["state"] = detail::state_to_json(c.state);
  j["rng"] = {{"s0", c.rng.s0}, {"s1", c.rng.s1}};
  j["history"] = to_json(c.history);
  j["best"] = c.best ? detail::state_to_json(*c.best, false) : nlohmann::json(nullptr);
  j["recent"] = nlohmann::json::array();
  for (const auto& s : c.recent) j["recent"].push_back(detail::state_to_json(s));
  j["scheme"] = c.scheme;
  if (!c.data_fingerprint.empty()) j["data_fingerprint"] = c.data_fingerprint;
  return j;
}

template <class T>
Checkpoint<T> checkpoint_from_json(const nlohmann::json& j) {
  const std::string format = detail::member(j, "format", "checkpoint").get<std::string>();
  require(format == "agnostic-checkpoint", "format is '", format, "', expected 'agnostic-checkpoint'");
  const int version = detail::member(j, "version", "checkpoint").get<int>();
  require(version == kCheckpointVersion, "version is ", version, ", this build reads version ",
          kCheckpointVersion);
  const std::string scalar = detail::member(j, "scalar", "checkpoint").get<std::string>();
  require(scalar == scalar_name<T>(), "written by a ", scalar, " training, read as ", scalar_name<T>());
  Checkpoint<T> c;
  c.epoch = detail::member(j, "epoch", "checkpoint").get<Index>();
  c.state = detail::state_from_json<T>(detail::member(j, "state", "checkpoint"));
  const auto& rng = detail::member(j, "rng", "checkpoint");
  c.rng.s0 = detail::member(rng, "s0", "checkpoint rng").get<std::uint64_t>();
  c.rng.s1 = detail::member(rng, "s1", "checkpoint rng").get<std::uint64_t>();
  c.history = history_from_json(detail::member(j, "history", "checkpoint"));
  const auto& best = detail::member(j, "best", "checkpoint");
  if (!best.is_null()) c.best = detail::state_from_json<T>(best, false);
  for (const auto& s : detail::member(j, "recent", "checkpoint"))
    c.recent.push_back(detail::state_from_json<T>(s));
  c.scheme = detail::member(j, "scheme", "checkpoint");
  if (j.contains("data_fingerprint")) c.data_fingerprint = j["data_fingerprint"].get<std::string>();
  return c;
}

template <class T>
void save_checkpoint(const std::filesystem::path& path, const Checkpoint<T>& c) {
  write_file_atomically(path, checkpoint_to_json(c).dump() + "\n");
}

// Every problem (missing file, truncated or corrupt JSON, wrong content) is an Error naming the file.
template <class T>
Checkpoint<T> load_checkpoint(const std::filesystem::path& path) {
  const std::string where = "checkpoint " + path.string();
  require(std::filesystem::exists(path), where, ": file not found");
  const std::string text = read_file(path);
  require(!text.empty(), where, ": the file is empty");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    fail(where, ": not valid JSON, the file is truncated or corrupt (", e.what(), ")");
  }
  try {
    return checkpoint_from_json<T>(j);
  } catch (const Error& e) {
    fail(where, ": ", e.what());
  } catch (const nlohmann::json::exception& e) {
    fail(where, ": unexpected content (", e.what(), ")");
  }
}

}  // namespace agnostic::train
