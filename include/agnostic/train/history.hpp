#pragma once
// The record of a training run: every epoch's figures (losses, metrics, time, learning rate), every
// rollback after a non-finite loss, the best epoch and why training stopped. Written as JSON for
// plots, and part of every checkpoint.
//
// JSON layout (one flat object per epoch, so a plotting script reads a column with one key):
//   {"epochs": [{"epoch": 1, "seconds": 0.8, "learning_rate": 0.001, "train_loss": 0.52,
//                "validation_loss": 0.49, "validation_auc": 0.87, ...}, ...],
//    "rollbacks": [{"at_epoch": 7, "where": "training batch 12", "loss": "inf", "to_epoch": 2,
//                   "learning_rate_before": 0.1, "learning_rate_after": 0.05,
//                   "discarded_epochs": [{...}, ...]}],
//    "best_epoch": 5, "best_figure": "validation_loss", "best_value": 0.47, "stop_reason": "..."}
#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"

namespace agnostic::train {

struct EpochRecord {
  Index epoch = 0;
  double seconds = 0.0;
  double learning_rate = 0.0;
  std::map<std::string, double> figures;  // "train_loss", "validation_loss", "validation_auc", ...
};

struct RollbackRecord {
  Index at_epoch = 0;  // the epoch in which the loss was not finite
  std::string where;   // "training batch 12", "validation"
  double loss = 0.0;   // the offending value (NaN or ±Inf)
  Index to_epoch = 0;  // the state restored is the one at the end of this epoch (0 = initial)
  double learning_rate_before = 0.0, learning_rate_after = 0.0;
  std::vector<EpochRecord> discarded;  // the completed epochs the rollback threw away
};

struct History {
  std::vector<EpochRecord> epochs;
  std::vector<RollbackRecord> rollbacks;
  Index best_epoch = 0;  // 0 = none yet
  std::string best_figure;
  double best_value = std::numeric_limits<double>::quiet_NaN();
  std::string stop_reason;

  // Names of the figures of the last epoch (for messages).
  std::string figure_names() const {
    std::ostringstream out;
    if (epochs.empty()) return "(no epochs yet)";
    bool first = true;
    for (const auto& [name, value] : epochs.back().figures) {
      out << (first ? "" : ", ") << name;
      first = false;
    }
    return out.str();
  }

  // One figure over all epochs; an error names the figures that exist.
  std::vector<double> series(const std::string& figure) const {
    std::vector<double> out;
    out.reserve(epochs.size());
    for (const EpochRecord& e : epochs) {
      const auto it = e.figures.find(figure);
      require(it != e.figures.end(), "history: epoch ", e.epoch, " has no figure '", figure,
              "'; figures are: ", figure_names());
      out.push_back(it->second);
    }
    return out;
  }
};

namespace detail {
// JSON has no NaN/Inf: such values are written as the strings "nan", "inf", "-inf".
inline nlohmann::json number_to_json(double x) {
  if (std::isfinite(x)) return x;
  if (std::isnan(x)) return "nan";
  return x > 0 ? "inf" : "-inf";
}
inline double number_from_json(const nlohmann::json& j, const std::string& key) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const std::string s = j.get<std::string>();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
  }
  fail("key '", key, "' holds ", j.dump(), "; a number (or \"nan\", \"inf\", \"-inf\") expected");
}
inline const nlohmann::json& member(const nlohmann::json& j, const std::string& key,
                                    const std::string& where) {
  require(j.is_object(), where, ": an object expected, found ", j.type_name());
  const auto it = j.find(key);
  require(it != j.end(), where, ": key '", key, "' is missing");
  return *it;
}
}  // namespace detail

inline nlohmann::json to_json(const EpochRecord& e) {
  nlohmann::json j;
  j["epoch"] = e.epoch;
  j["seconds"] = e.seconds;
  j["learning_rate"] = e.learning_rate;
  for (const auto& [name, value] : e.figures) j[name] = detail::number_to_json(value);
  return j;
}

inline EpochRecord epoch_from_json(const nlohmann::json& j) {
  EpochRecord e;
  e.epoch = detail::member(j, "epoch", "history epoch").get<Index>();
  e.seconds = detail::number_from_json(detail::member(j, "seconds", "history epoch"), "seconds");
  e.learning_rate =
      detail::number_from_json(detail::member(j, "learning_rate", "history epoch"), "learning_rate");
  for (const auto& [key, value] : j.items())
    if (key != "epoch" && key != "seconds" && key != "learning_rate")
      e.figures[key] = detail::number_from_json(value, key);
  return e;
}

inline nlohmann::json to_json(const History& h) {
  nlohmann::json j;
  j["epochs"] = nlohmann::json::array();
  for (const EpochRecord& e : h.epochs) j["epochs"].push_back(to_json(e));
  j["rollbacks"] = nlohmann::json::array();
  for (const RollbackRecord& r : h.rollbacks) {
    nlohmann::json rj;
    rj["at_epoch"] = r.at_epoch;
    rj["where"] = r.where;
    rj["loss"] = detail::number_to_json(r.loss);
    rj["to_epoch"] = r.to_epoch;
    rj["learning_rate_before"] = r.learning_rate_before;
    rj["learning_rate_after"] = r.learning_rate_after;
    rj["discarded_epochs"] = nlohmann::json::array();
    for (const EpochRecord& e : r.discarded) rj["discarded_epochs"].push_back(to_json(e));
    j["rollbacks"].push_back(rj);
  }
  j["best_epoch"] = h.best_epoch;
  j["best_figure"] = h.best_figure;
  j["best_value"] = detail::number_to_json(h.best_value);
  j["stop_reason"] = h.stop_reason;
  return j;
}

inline History history_from_json(const nlohmann::json& j) {
  History h;
  const auto& epochs = detail::member(j, "epochs", "history");
  require(epochs.is_array(), "history: 'epochs' must be an array");
  for (const auto& e : epochs) h.epochs.push_back(epoch_from_json(e));
  const auto& rollbacks = detail::member(j, "rollbacks", "history");
  require(rollbacks.is_array(), "history: 'rollbacks' must be an array");
  for (const auto& rj : rollbacks) {
    RollbackRecord r;
    r.at_epoch = detail::member(rj, "at_epoch", "history rollback").get<Index>();
    r.where = detail::member(rj, "where", "history rollback").get<std::string>();
    r.loss = detail::number_from_json(detail::member(rj, "loss", "history rollback"), "loss");
    r.to_epoch = detail::member(rj, "to_epoch", "history rollback").get<Index>();
    r.learning_rate_before = detail::member(rj, "learning_rate_before", "history rollback").get<double>();
    r.learning_rate_after = detail::member(rj, "learning_rate_after", "history rollback").get<double>();
    for (const auto& e : detail::member(rj, "discarded_epochs", "history rollback"))
      r.discarded.push_back(epoch_from_json(e));
    h.rollbacks.push_back(std::move(r));
  }
  h.best_epoch = detail::member(j, "best_epoch", "history").get<Index>();
  h.best_figure = detail::member(j, "best_figure", "history").get<std::string>();
  h.best_value = detail::number_from_json(detail::member(j, "best_value", "history"), "best_value");
  h.stop_reason = detail::member(j, "stop_reason", "history").get<std::string>();
  return h;
}

}  // namespace agnostic::train
