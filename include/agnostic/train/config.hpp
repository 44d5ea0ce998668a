#pragma once
// The training configuration read by `agnostic train CONFIG.json` (docs/config.md lists every key
// with its default and allowed values).
//
// Reading is strict: an unknown key, a value of the wrong type or outside its allowed set is an
// Error that names the key (with its path, "optimiser.learning_rate"), the bad value and what is
// allowed. Relative input paths (data files, the model to start from) are taken relative to the
// config file's directory, so a config and its data can move together; the output directory is
// relative to where the command runs.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/autodiff/activation.hpp"
#include "agnostic/core/activation_function.hpp"
#include "agnostic/core/config_section.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/json_file.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/core/threads.hpp"
#include "agnostic/io/column_selection.hpp"
#include "agnostic/io/missing_values.hpp"
#include "agnostic/nn/initialisers.hpp"
#include "agnostic/optim/optimiser.hpp"
#include "agnostic/optim/schedule.hpp"

namespace agnostic::train {

struct DataConfig {
  std::vector<std::string> files;  // resolved paths, read one after the other (same columns)
  io::ColumnSelection columns;     // features, label (+ classes), weight, domain (+ classes)
  std::optional<io::MissingValueSpec> missing;
  double validation_fraction = 0.3;
  bool stratify = true;
  std::optional<std::uint64_t> split_seed;  // default: training.seed
  bool weights_in_loss = true;              // false: the weight column only weights the final metrics
  bool balance_classes = false;             // training weights scaled so each class sums to the same
  bool standardise = true;
};

struct ModelConfig {
  std::vector<Index> hidden = {64, 64};
  Activation activation = Activation::relu();
  bool softmax_output = false;  // false: one sigmoid output (two classes); true: one softmax output per class
  Initialiser init = Initialiser::glorot_uniform();
  std::string start_from;  // model file to continue from (fine-tuning); empty: fresh weights
};

struct OptimiserConfig {
  std::string name = "adam";  // sgd, rmsprop, adam, adamw
  double learning_rate = 1e-3;
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;  // adam, adamw (epsilon also rmsprop)
  double rho = 0.9;                                   // rmsprop
  bool centred = false;                               // rmsprop
  double momentum = 0.0;                              // sgd, rmsprop
  bool nesterov = false;                              // sgd
  double weight_decay = 0.0;                          // adam, adamw (decoupled)
  double l2 = 0.0;                                    // all (added to the gradient)
  Clipping clip{};
  Schedule schedule{};
};

struct StoppingConfig {
  bool enabled = true;
  Index patience = 10;
  double min_delta = 0.0;
  Index min_epochs = 0;
  std::optional<Index> running_average_window;  // Clavijo et al.'s (arXiv:2005.00568) rule, off by default
  double running_average_relative = 0.0005;
  bool restore_best = true;
  std::string figure;  // what picks the best epoch and drives the rules; "" = the method's default
};

// The figures `training.early_stopping.figure` may name for a method, the default first: the one
// that measures what the method is for (docs/training.md, "The figure per method").
inline std::vector<std::string> early_stopping_figures(const std::string& method) {
  if (method == "adnn") return {"mean_ks", "validation_loss"};
  if (method == "dann") return {"ks_source_target", "validation_loss"};
  if (method == "cgan") return {"quality_chi2"};
  return {"validation_loss"};
}

struct TrainingConfig {
  Index epochs = 100;
  Index batch_size = 256;
  std::uint64_t seed = 1;
  int threads = 0;  // 0: as many as OpenMP offers
  int chunks = 0;   // chunks per parallel kernel; 0: one per thread (core/threads.hpp)
  StoppingConfig early_stopping;
  bool rollback_on_non_finite = true;  // false: stop with an error
  Index rollback_epochs = 1;
  double rollback_learning_rate_factor = 0.5;
  Index max_rollbacks = 5;
};

struct OutputConfig {
  std::string directory = "agnostic-output";
  std::string model = "model.json";
  std::string history = "history.json";
  std::string checkpoint = "checkpoint.json";
  std::string predictions = "predictions.csv";
  std::string progress = "epochs";  // epochs (a line per epoch, a live bar on a terminal) or silent
};

// What `agnostic train` trains (train/run.hpp runs each through its own file in train/methods/).
inline const std::vector<std::string>& training_methods() {
  static const std::vector<std::string> methods = {"classifier", "dann", "adnn", "cgan"};
  return methods;
}

// Top-level sections that belong to one method or loss and are read by that method's own file
// (train/methods/*.hpp), so that a new method never changes this parser: the section "dann" is
// read by train/methods/dann.hpp, and so on. Here they are only kept, as JSON.
inline const std::vector<std::string>& method_sections() {
  static const std::vector<std::string> sections = {
      "dann",         "adnn", "cgan", "systematics", "soft_histogram", "inference_aware", "expected_yields",
      "decorrelation"};
  return sections;
}

struct TrainConfig {
  std::string source;                              // the config file, for messages
  std::string method = "classifier";               // one of training_methods()
  std::map<std::string, nlohmann::json> sections;  // method_sections() present in the file, as read
  DataConfig data;
  ModelConfig model;
  std::string loss = "binary_cross_entropy";  // or categorical_cross_entropy, inference_aware
  OptimiserConfig optimiser;
  TrainingConfig training;
  OutputConfig output;
  nlohmann::json original;  // the file as read, stored with the model as provenance
};

// The checked view of a config section (core/config_section.hpp), under its training name.
using ConfigSection = agnostic::ConfigSection;

// The section of `method` in a config whose method it is, or an error naming the config file, the
// missing key and what the section must hold at least (`needs`).
inline const nlohmann::json& required_method_section(const TrainConfig& c, const std::string& method,
                                                     const std::string& needs) {
  require(c.method == method, "config '", c.source, "': ", method, "_config on a config whose method is \"",
          c.method, "\"");
  const auto it = c.sections.find(method);
  if (it == c.sections.end())
    fail("config '", c.source, "': key '", method, "' is missing; method \"", method, "\" needs at least ",
         needs);
  return it->second;
}

namespace config_detail {

using Section = ConfigSection;

inline std::string resolve(const std::string& path, const std::filesystem::path& base) {
  const std::filesystem::path p(path);
  return p.is_absolute() || base.empty() ? p.string() : (base / p).lexically_normal().string();
}

// An activation: a name (lwtnn's, or another of core/activation_function.hpp's kActivationAliases such
// as "relu") or {"function": name, "alpha": a}; alpha only for leakyrelu (default 0.01) and elu (1).
inline Activation activation_value(const Section& s, const std::string& key, Activation fallback) {
  if (!s.has(key)) return fallback;
  const auto& v = s.raw(key);
  static const std::vector<std::string> names = {"linear", "rectified", "sigmoid",  "tanh",
                                                 "elu",    "softplus",  "leakyrelu"};
  const std::string allowed = Section::list(names) + ", or their other names " + activation_alias_list();
  std::string given, at = s.child(key);
  double alpha = 0.0;
  if (v.is_string()) {
    given = v.get<std::string>();
    if (lwtnn_activation_name(given) == "leakyrelu") alpha = 0.01;
  } else if (v.is_object()) {
    const Section a = s.section(key, {"function", "alpha"});
    given = a.string("function", "");
    at = a.child("function");
    const std::string name = lwtnn_activation_name(given);
    if (a.has("alpha") && name != "leakyrelu" && name != "elu")
      a.fail_at(a.child("alpha"), "is given but \"", given,
                "\" has no parameter; 'alpha' is read for leakyrelu (its slope) and elu (its scale) only");
    alpha = a.number("alpha", name == "leakyrelu" ? 0.01 : 1.0, 0.0, 1e6, true);
  } else {
    s.fail_at(s.child(key), "is ", v.dump(), "; expected an activation name (", allowed,
              ") or {\"function\": name, \"alpha\": a}");
  }
  const std::string name = lwtnn_activation_name(given);
  bool known = false;
  for (const auto& n : names) known = known || n == name;
  if (!known) s.fail_at(at, "is \"", given, "\"; allowed: ", allowed);
  try {
    return activation_from_name(name, alpha);
  } catch (const Error& e) {
    s.fail_at(s.child(key), "is ", v.dump(), ": ", e.what());
  }
}

inline Initialiser initialiser_value(const Section& s, const std::string& key) {
  const std::string name =
      s.choice(key, "glorot_uniform", {"glorot_uniform", "glorot_normal", "he_uniform", "he_normal"});
  if (name == "glorot_normal") return Initialiser::glorot_normal();
  if (name == "he_uniform") return Initialiser::he_uniform();
  if (name == "he_normal") return Initialiser::he_normal();
  return Initialiser::glorot_uniform();
}

}  // namespace config_detail

// The optimiser section at `parent.key` ("optimiser", or a method's own such as
// "adnn.adversary_optimiser"): the keys allowed depend on its "name".
inline OptimiserConfig optimiser_config(const ConfigSection& parent, const std::string& key) {
  const nlohmann::json& oj = parent.raw(key);
  const std::string name = oj.is_object() && oj.contains("name") && oj["name"].is_string()
                               ? oj["name"].get<std::string>()
                               : "adam";
  std::vector<std::string> keys = {"name", "learning_rate", "l2", "clip_norm", "clip_value", "schedule"};
  if (name == "adam" || name == "adamw")
    keys.insert(keys.end(), {"beta1", "beta2", "epsilon", "weight_decay"});
  if (name == "rmsprop") keys.insert(keys.end(), {"rho", "epsilon", "momentum", "centred"});
  if (name == "sgd") keys.insert(keys.end(), {"momentum", "nesterov"});
  const ConfigSection o = parent.section(key, keys);
  OptimiserConfig oc;
  oc.name = o.choice("name", "adam", {"sgd", "rmsprop", "adam", "adamw"});
  oc.learning_rate = o.number("learning_rate", oc.name == "sgd" ? 0.01 : 1e-3, 0.0, 1e3, true);
  oc.l2 = o.number("l2", 0.0, 0.0, 1e3);
  oc.clip.norm = o.number("clip_norm", 0.0, 0.0, 1e30);
  oc.clip.value = o.number("clip_value", 0.0, 0.0, 1e30);
  oc.beta1 = o.number("beta1", 0.9, 0.0, 0.999999);
  oc.beta2 = o.number("beta2", 0.999, 0.0, 0.999999);
  oc.epsilon = o.number("epsilon", 1e-8, 0.0, 1.0, true);
  oc.weight_decay = o.number("weight_decay", oc.name == "adamw" ? 0.01 : 0.0, 0.0, 1e3);
  oc.rho = o.number("rho", 0.9, 0.0, 0.999999);
  oc.centred = o.boolean("centred", false);
  oc.momentum = o.number("momentum", 0.0, 0.0, 0.999999);
  oc.nesterov = o.boolean("nesterov", false);
  if (oc.nesterov && oc.momentum == 0.0)
    o.fail_at(o.child("nesterov"),
              "is true but '" + o.child("momentum") + "' is 0; Nesterov momentum needs momentum > 0");
  if (o.has("schedule")) {
    const nlohmann::json& sj = o.raw("schedule");
    const std::string kind = sj.is_object() && sj.contains("name") && sj["name"].is_string()
                                 ? sj["name"].get<std::string>()
                                 : "constant";
    std::vector<std::string> skeys = {"name"};
    if (kind == "exponential" || kind == "step") skeys.insert(skeys.end(), {"gamma", "steps"});
    const ConfigSection s = o.section("schedule", skeys);
    const std::string k = s.choice("name", "constant", {"constant", "exponential", "step"});
    if (k == "exponential") {
      oc.schedule = Schedule::exponential(s.number("gamma", 0.99, 0.0, 1e3, true), s.integer("steps", 1, 1));
    } else if (k == "step") {
      if (!s.has("steps"))
        s.fail_at(s.child("steps"),
                  "is missing; the step schedule needs the number of optimiser steps between decays");
      oc.schedule = Schedule::step(s.integer("steps", 1, 1), s.number("gamma", 0.1, 0.0, 1e3, true));
    }
  }
  return oc;
}

namespace config_detail {

// Whether the object `j` gives `key` a value.
inline bool given(const nlohmann::json& j, const std::string& key) {
  return j.is_object() && j.contains(key) && !j[key].is_null();
}

// null is not a value in a training config: a key has a value, or is left out for its default.
inline void refuse_nulls(const nlohmann::json& j, const std::string& at, const std::string& source) {
  if (j.is_null())
    fail("config '", source, "': key '", at,
         "' is null; give it a value, or leave the key out for its default (docs/config.md)");
  if (j.is_object())
    for (const auto& [key, value] : j.items()) refuse_nulls(value, at.empty() ? key : at + "." + key, source);
  if (j.is_array())
    for (std::size_t i = 0; i < j.size(); ++i) refuse_nulls(j[i], at + "[" + std::to_string(i) + "]", source);
}

}  // namespace config_detail

// Nothing in a config is ignored: a section or key that the chosen method and loss do not read is
// an error naming it and what would read it (docs/config.md, "Nothing is ignored"). The top-level
// sections of a loss or an option of the classifier are one row each of the table below; keys inside
// sections are checked after it. Only the keys' presence is looked at here: their values are checked
// by the readers (this file and train/methods/*.hpp), which run after it.
inline void refuse_unused(const TrainConfig& c) {
  using config_detail::given;
  const nlohmann::json& j = c.original;
  auto refuse = [&](const std::string& key, const auto&... parts) {
    fail("config '", c.source, "': key '", key, "' ", parts...);
  };
  const bool classifier = c.method == "classifier", inference_aware = c.loss == "inference_aware";
  const bool with_systematics = given(j, "systematics");

  // The loss.
  if (given(j, "loss")) {
    if (c.method == "cgan")
      refuse("loss",
             "is not used by method \"cgan\" (the generator and the discriminator train on their own ",
             "binary cross-entropy); 'loss' is read by methods \"classifier\", \"dann\" and \"adnn\"; remove "
             "it");
    if (c.method == "adnn" && c.loss != "categorical_cross_entropy")
      refuse("loss", "is \"", c.loss,
             "\" but method \"adnn\" trains a softmax classifier (one output per class) with categorical "
             "cross-entropy; remove 'loss' or set \"categorical_cross_entropy\"");
    if (c.method == "dann" && inference_aware)
      refuse(
          "loss", "is \"inference_aware\", which method \"dann\" does not train (its label head takes ",
          "binary_cross_entropy or categorical_cross_entropy); the inference-aware loss is read by method ",
          "\"classifier\"");
  }

  // Top-level sections that only some methods and losses read.
  struct Reader {
    const char* section;
    bool used;
    bool needs_systematics;  // read only by a classifier run with 'systematics'
    const char* read_by;
    const char* with_inference_aware;  // what to use instead with "loss": "inference_aware"
  };
  const bool cross_entropy_classifier = classifier && !inference_aware;
  const Reader readers[] = {
      {"systematics", classifier, false,
       "method \"classifier\" (with a cross-entropy loss: the soft-histogram penalty and workspace.json; "
       "with \"loss\": "
       "\"inference_aware\": its shape_systematics)",
       ""},
      {"soft_histogram", cross_entropy_classifier && with_systematics, true,
       "a classifier with 'systematics' and a cross-entropy loss (the bins of the penalty and of "
       "workspace.json)",
       " (the inference-aware loss bins the network's 'inference_aware.outputs')"},
      {"expected_yields", cross_entropy_classifier && with_systematics, true,
       "a classifier with 'systematics' and a cross-entropy loss (the yields of workspace.json)",
       " (the inference-aware loss takes 'inference_aware.expected_signal' and 'expected_background')"},
      {"inference_aware", classifier && inference_aware, false,
       "method \"classifier\" with \"loss\": \"inference_aware\"", ""},
      {"decorrelation", cross_entropy_classifier, false, "method \"classifier\" with a cross-entropy loss",
       ""},
  };
  for (const Reader& r : readers) {
    if (r.used || !given(j, r.section)) continue;
    const std::string setting = !classifier ? "method \"" + c.method + "\""
                                : inference_aware
                                    ? "\"loss\": \"inference_aware\"" + std::string(r.with_inference_aware)
                                : r.needs_systematics ? std::string("a classifier without 'systematics'")
                                                      : "\"loss\": \"" + c.loss + "\"";
    refuse(r.section, "is not used with ", setting, "; it is read by ", r.read_by, "; remove it");
  }

  // Inside 'systematics' with the inference-aware loss: no penalties, and only the listed systematics
  // (looked at once the section 'inference_aware' is there and its shape_systematics, if given, is a
  // list of distinct names of systematics: its reader reports anything else).
  if (classifier && inference_aware && given(j, "systematics") && j["systematics"].is_array()) {
    const nlohmann::json& list = j["systematics"];
    std::set<std::string> names, listed;
    for (const auto& sys : list)
      if (given(sys, "name") && sys["name"].is_string()) names.insert(sys["name"].get<std::string>());
    bool well_formed = given(j, "inference_aware") && j["inference_aware"].is_object();
    if (well_formed && given(j["inference_aware"], "shape_systematics")) {
      const nlohmann::json& shape = j["inference_aware"]["shape_systematics"];
      well_formed = shape.is_array();
      for (std::size_t k = 0; well_formed && k < shape.size(); ++k)
        well_formed = shape[k].is_string() && names.count(shape[k].get<std::string>()) &&
                      listed.insert(shape[k].get<std::string>()).second;
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string at = "systematics[" + std::to_string(i) + "]";
      if (given(list[i], "penalty"))
        refuse(at + ".penalty",
               "is not used with \"loss\": \"inference_aware\" (the loss is sigma^2(mu), not a penalised "
               "cross-entropy); a penalty is read by a classifier with a cross-entropy loss; remove it");
      if (!well_formed || !given(list[i], "name") || !list[i]["name"].is_string()) continue;
      const bool in_loss = listed.count(list[i]["name"].get<std::string>()) > 0;
      if (!in_loss)
        refuse(at, "(\"", list[i]["name"].get<std::string>(),
               "\") is not used: with \"loss\": \"inference_aware\" only the systematics named in "
               "'inference_aware.shape_systematics' enter the loss and workspace.json; name it there or "
               "remove it");
    }
  }
  // The penalty's bin threshold without a penalty.
  if (cross_entropy_classifier && given(j, "soft_histogram") && given(j["soft_histogram"], "min_count") &&
      given(j, "systematics") && j["systematics"].is_array()) {
    bool penalised = false;
    for (const auto& sys : j["systematics"])
      penalised = penalised ||
                  (given(sys, "penalty") && sys["penalty"].is_number() && sys["penalty"].get<double>() > 0.0);
    if (!penalised)
      refuse("soft_histogram.min_count",
             "is not used: every systematic's 'penalty' is 0, so there is no penalty term (min_count is read "
             "by the soft-histogram penalty); remove it or give a systematic a penalty > 0");
  }

  // model: what a network from a file, or a cGAN, does not read.
  if (given(j, "model")) {
    const nlohmann::json& m = j["model"];
    if (c.method == "cgan" && given(m, "output"))
      refuse("model.output",
             "is not used by method \"cgan\" (the generator ends in tanh, the discriminator in ",
             "one logit); it is read by methods \"classifier\", \"dann\" and \"adnn\"; remove it");
    if (given(m, "start_from")) {
      if (given(m, "hidden"))
        refuse("model.hidden",
               "is not used: the network comes from 'model.start_from' (its layers and widths); ",
               "remove one of the two");
      if (classifier)
        for (const char* key : {"activation", "init"})
          if (given(m, key))
            refuse(std::string("model.") + key,
                   "is not used: the network comes from 'model.start_from' (its activations and weights); "
                   "it is read for a fresh network, and by methods \"dann\" and \"adnn\" for their second "
                   "network; remove one of the two");
    }
  }

  // data: what a cGAN, a classifier or a network from a file does not read.
  if (given(j, "data")) {
    const nlohmann::json& d = j["data"];
    if (c.method == "cgan")
      for (const char* key : {"label", "label_classes", "weight", "domain", "domain_classes", "missing",
                              "stratify", "weights_in_loss", "balance_classes", "standardise"})
        if (given(d, key))
          refuse(std::string("data.") + key,
                 "is not used by method \"cgan\" (it reads data.files, data.features, "
                 "data.validation_fraction, data.split_seed and the columns named in 'cgan'); it is read by "
                 "methods \"classifier\", \"dann\" and \"adnn\"; remove it");
    if (classifier)
      for (const char* key : {"domain", "domain_classes"})
        if (given(d, key))
          refuse(std::string("data.") + key,
                 "is not used by method \"classifier\"; the domain column is read by methods \"dann\" and "
                 "\"adnn\"; remove it");
    if (given(d, "weights_in_loss") && !given(d, "weight") && c.method != "cgan")
      refuse("data.weights_in_loss",
             "is given but 'data.weight' is not: without a weight column every event weighs 1; it is read "
             "with a 'data.weight' column; remove it");
    if (given(j, "model") && given(j["model"], "start_from"))
      for (const char* key : {"missing", "standardise"})
        if (given(d, key))
          refuse(
              std::string("data.") + key, "is not used: the ",
              std::string(key) == "missing" ? "missing-value rules" : "standardisation",
              " come from 'model.start_from' (the model keeps those it was trained with); it is read for a "
              "fresh network; remove it");
  }

  // training: the rollback keys when NaN stops the run; the running average's threshold without it.
  if (given(j, "training")) {
    const nlohmann::json& t = j["training"];
    if (!c.training.rollback_on_non_finite)
      for (const char* key : {"rollback_epochs", "rollback_learning_rate_factor", "max_rollbacks"})
        if (given(t, key))
          refuse(std::string("training.") + key,
                 "is not used: 'training.on_non_finite' is \"stop\"; it is read with \"rollback\" (the "
                 "default); remove it");
    if (given(t, "early_stopping") && given(t["early_stopping"], "running_average_relative") &&
        !given(t["early_stopping"], "running_average_window"))
      refuse("training.early_stopping.running_average_relative",
             "is not used: 'running_average_window' is not given, so the running-average rule is off; it is "
             "read with 'running_average_window'; give that or remove it");
  }

  // output: a cGAN writes generator.json and discriminator.json, no model.json or predictions.csv.
  if (c.method == "cgan" && given(j, "output"))
    for (const char* key : {"model", "predictions"})
      if (given(j["output"], key))
        refuse(
            std::string("output.") + key,
            "is not used by method \"cgan\" (it writes generator.json and discriminator.json, no model.json "
            "or predictions.csv); remove it");
}

// Reads a config from its JSON; `source` names it in messages and `base` is the directory that
// relative input paths start from.
inline TrainConfig config_from_json(const nlohmann::json& j, const std::string& source,
                                    const std::filesystem::path& base = {}) {
  using config_detail::Section;
  TrainConfig c;
  c.source = source;
  c.original = j;
  std::vector<std::string> top_keys = {"method", "data", "model", "loss", "optimiser", "training", "output"};
  top_keys.insert(top_keys.end(), method_sections().begin(), method_sections().end());
  const Section top(j, "", source, top_keys);
  config_detail::refuse_nulls(j, "", source);
  c.method = top.choice("method", "classifier", training_methods());
  for (const auto& name : method_sections())
    if (top.has(name)) c.sections[name] = top.raw(name);
  for (const auto& name : training_methods())
    if (name != c.method && top.has(name))
      top.fail_at(name, "is given but 'method' is \"", c.method, "\"; set \"method\": \"", name,
                  "\" or remove the section");
  if (!top.has("data"))
    top.fail_at("data", "is missing; expected an object with 'files', 'features', 'label'");

  // data
  const Section d = top.section("data", {"files", "features", "label", "label_classes", "weight", "domain",
                                         "domain_classes", "missing", "validation_fraction", "stratify",
                                         "split_seed", "weights_in_loss", "balance_classes", "standardise"});
  for (const auto& f : d.strings("files", true)) c.data.files.push_back(config_detail::resolve(f, base));
  if (c.data.files.empty()) d.fail_at(d.child("files"), "is empty; expected at least one data file");
  c.data.columns.features = d.strings("features", true);
  if (c.data.columns.features.empty())
    d.fail_at(d.child("features"), "is empty; expected at least one feature name");
  std::set<std::string> seen;
  for (const auto& f : c.data.columns.features)
    if (!seen.insert(f).second) d.fail_at(d.child("features"), "names \"", f, "\" twice");
  if (!d.has("label") && c.method != "cgan")  // a cGAN generates data.features; it reads no label
    d.fail_at(d.child("label"), "is missing; expected the name of the class-label column");
  c.data.columns.label = d.string("label", "");
  c.data.columns.label_classes = d.classes("label_classes");
  c.data.columns.weight = d.string("weight", "");
  c.data.columns.domain = d.string("domain", "");
  c.data.columns.domain_classes = d.classes("domain_classes");
  if (d.has("domain_classes") && c.data.columns.domain.empty())
    d.fail_at(d.child("domain_classes"), "is given but 'data.domain' is not");
  if (d.has("missing")) {
    const Section m = d.section("missing", {"marker", "features", "fill", "indicators"});
    io::MissingValueSpec spec;
    if (m.has("marker") && m.raw("marker").is_string() && m.raw("marker") == "nan")
      spec.marker = std::nan("");
    else
      spec.marker = m.number("marker", -999.0, -1e308, 1e308);
    spec.features = m.strings("features", false);
    for (const auto& f : spec.features) {
      bool selected = false;
      for (const auto& g : c.data.columns.features) selected = selected || f == g;
      if (!selected) m.fail_at(m.child("features"), "names \"", f, "\", which is not in 'data.features'");
    }
    if (m.has("fill") && m.raw("fill").is_number()) {
      spec.fill = io::MissingFill::value;
      spec.fill_value = m.number("fill", 0.0, -1e308, 1e308);
    } else if (m.has("fill") && m.raw("fill") != "mean") {
      m.fail_at(m.child("fill"), "is ", m.raw("fill").dump(), "; allowed: \"mean\" or a number");
    }
    spec.add_indicators = m.boolean("indicators", false);
    c.data.missing = spec;
  }
  c.data.validation_fraction = d.number("validation_fraction", 0.3, 0.0, 0.99);
  c.data.stratify = d.boolean("stratify", true);
  if (d.has("split_seed"))
    c.data.split_seed = static_cast<std::uint64_t>(d.integer("split_seed", 0, 0, 4000000000));
  c.data.weights_in_loss = d.boolean("weights_in_loss", true);
  c.data.balance_classes = d.boolean("balance_classes", false);
  c.data.standardise = d.boolean("standardise", true);

  // model and loss
  static const nlohmann::json no_section = nlohmann::json::object();
  const Section m = top.has("model")
                        ? top.section("model", {"hidden", "activation", "output", "init", "start_from"})
                        : Section(no_section, "model", source, {});
  c.model.hidden = m.widths("hidden", c.model.hidden);
  c.model.activation = config_detail::activation_value(m, "activation", Activation::relu());
  // inference_aware (INFERNO, train/inference_aware_scheme.hpp) reads its own section "inference_aware".
  // ADNN trains one softmax output per class: its loss, when not given, is the categorical one.
  c.loss = top.choice("loss", c.method == "adnn" ? "categorical_cross_entropy" : "binary_cross_entropy",
                      {"binary_cross_entropy", "categorical_cross_entropy", "inference_aware"});
  const std::string output =
      m.choice("output", c.loss == "binary_cross_entropy" ? "sigmoid" : "softmax", {"sigmoid", "softmax"});
  c.model.softmax_output = output == "softmax";
  if (c.model.softmax_output != (c.loss != "binary_cross_entropy"))
    m.fail_at(m.child("output"), "is \"", output, "\" but 'loss' is \"", c.loss, "\"",
              top.has("loss") ? "" : " (method \"" + c.method + "\"'s default)",
              "; binary_cross_entropy goes with \"sigmoid\", categorical_cross_entropy and inference_aware "
              "with \"softmax\"");
  c.model.init = config_detail::initialiser_value(m, "init");
  if (m.has("start_from")) c.model.start_from = config_detail::resolve(m.string("start_from", ""), base);

  // optimiser
  if (top.has("optimiser")) c.optimiser = optimiser_config(top, "optimiser");

  // training
  if (top.has("training")) {
    const Section t = top.section(
        "training", {"epochs", "batch_size", "seed", "threads", "chunks", "early_stopping", "on_non_finite",
                     "rollback_epochs", "rollback_learning_rate_factor", "max_rollbacks"});
    auto& tc = c.training;
    tc.epochs = t.integer("epochs", 100, 0);
    tc.batch_size = t.integer("batch_size", 256, 1);
    tc.seed = static_cast<std::uint64_t>(t.integer("seed", 1, 0, 4000000000));
    tc.threads = static_cast<int>(t.integer("threads", 0, 0, ThreadPool::kMaxThreads));
    tc.chunks = static_cast<int>(t.integer("chunks", 0, 0, ThreadPool::kMaxChunks));
    if (t.has("early_stopping")) {
      const auto& ej = t.raw("early_stopping");
      if (ej.is_boolean()) {
        tc.early_stopping.enabled = ej.get<bool>();
      } else {
        const Section e =
            t.section("early_stopping", {"patience", "min_delta", "min_epochs", "running_average_window",
                                         "running_average_relative", "restore_best", "figure"});
        auto& es = tc.early_stopping;
        es.patience = e.integer("patience", 10, 1);
        es.min_delta = e.number("min_delta", 0.0, 0.0, 1e30);
        es.min_epochs = e.integer("min_epochs", 0, 0);
        if (e.has("running_average_window"))
          es.running_average_window = e.integer("running_average_window", 50, 1);
        es.running_average_relative = e.number("running_average_relative", 0.0005, 0.0, 1.0);
        es.restore_best = e.boolean("restore_best", true);
        if (e.has("figure")) {
          const std::vector<std::string> allowed = early_stopping_figures(c.method);
          es.figure = e.string("figure", "");
          if (std::find(allowed.begin(), allowed.end(), es.figure) == allowed.end()) {
            std::string names;
            for (const auto& a : allowed) names += (names.empty() ? "\"" : ", \"") + a + "\"";
            e.fail_at(e.child("figure"), "is \"", es.figure, "\"; method \"", c.method, "\" allows ", names,
                      " (the default is \"", allowed.front(), "\")");
          }
        }
      }
    }
    tc.rollback_on_non_finite = t.choice("on_non_finite", "rollback", {"rollback", "stop"}) == "rollback";
    tc.rollback_epochs = t.integer("rollback_epochs", 1, 1, 1000);
    tc.rollback_learning_rate_factor = t.number("rollback_learning_rate_factor", 0.5, 0.0, 1.0, true);
    tc.max_rollbacks = t.integer("max_rollbacks", 5, 0, 1000);
  }

  // output
  if (top.has("output")) {
    const Section o =
        top.section("output", {"directory", "model", "history", "checkpoint", "predictions", "progress"});
    auto& oc = c.output;
    oc.directory = o.string("directory", oc.directory);
    for (auto [key, target] :
         {std::pair{"model", &oc.model}, std::pair{"history", &oc.history},
          std::pair{"checkpoint", &oc.checkpoint}, std::pair{"predictions", &oc.predictions}}) {
      *target = o.string(key, *target);
      if (target->empty() || target->find('/') != std::string::npos)
        o.fail_at(o.child(key), "is \"", *target,
                  "\"; expected a plain file name (it is put in 'output.directory')");
    }
    oc.progress = o.choice("progress", "epochs", {"epochs", "silent"});
  }
  refuse_unused(c);
  return c;
}

inline TrainConfig read_config(const std::string& path) {
  const nlohmann::json j = read_json_file(path, "config file", /*comments=*/true);
  return config_from_json(j, path, std::filesystem::path(path).parent_path());
}

}  // namespace agnostic::train
