#pragma once
// Event weightings of Clavijo et al. (arXiv:2005.00568) (sec. 4.1): for the label predictor, each class gets
// the same total weight ("equal effective number"); for the domain classifier, the source domain's classes
// are rescaled so that its class fractions are those of the target domain. Sums run in double.
#include <cmath>
#include <optional>
#include <vector>

#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/train/dataset.hpp"

namespace agnostic::train {

namespace detail {
inline void check_event_arrays(const char* function, const std::vector<Index>& labels, Index n_weights,
                               const std::vector<Index>* domains) {
  require(static_cast<Index>(labels.size()) == n_weights, function, ": ", labels.size(), " labels but ",
          n_weights, " weights; one per event expected");
  require(!domains || domains->size() == labels.size(), function, ": ", labels.size(), " labels but ",
          domains ? domains->size() : 0, " domain indices; one per event expected");
}
inline bool in_domain(const std::vector<Index>* domains, std::optional<Index> domain, std::size_t i) {
  return !domain || (*domains)[i] == *domain;
}
}  // namespace detail

// Σw per class over the events of `domain` (all events when none is given).
template <class T>
std::vector<double> class_weight_sums(const std::vector<Index>& labels, const Vector<T>& weights,
                                      Index classes, const std::vector<Index>* domains = nullptr,
                                      std::optional<Index> domain = std::nullopt) {
  detail::check_event_arrays("class_weight_sums", labels, weights.size(), domains);
  require(!domain || domains, "class_weight_sums: a domain was chosen but no domain indices were given");
  std::vector<double> sums(static_cast<std::size_t>(classes), 0.0);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (!detail::in_domain(domains, domain, i)) continue;
    const Index y = labels[i];
    require(y >= 0 && y < classes, "class_weight_sums: label of event ", i, " is ", y,
            "; allowed labels are 0 to ", classes - 1);
    sums[static_cast<std::size_t>(y)] += static_cast<double>(weights(static_cast<Index>(i)));
  }
  return sums;
}

// Weighted class fractions Σw_c / Σw of a domain (e.g. the target's signal fraction).
template <class T>
std::vector<double> class_fractions(const std::vector<Index>& labels, const Vector<T>& weights, Index classes,
                                    const std::vector<Index>* domains = nullptr,
                                    std::optional<Index> domain = std::nullopt) {
  std::vector<double> f = class_weight_sums(labels, weights, classes, domains, domain);
  double total = 0.0;
  for (double s : f) total += s;
  require(total > 0.0, "class_fractions: total weight is ", total, "; must be > 0");
  for (double& s : f) s /= total;
  return f;
}

// Balanced weights: each class of the chosen events gets total weight `per_class` (default: the
// chosen events' total divided by the number of classes, so the total is unchanged). Events
// outside the chosen domain get weight 0: this is Clavijo et al.'s gate for the label predictor.
template <class T>
Vector<T> balanced_class_weights(const std::vector<Index>& labels, const Vector<T>& weights, Index classes,
                                 const std::vector<Index>* domains = nullptr,
                                 std::optional<Index> domain = std::nullopt,
                                 std::optional<double> per_class = std::nullopt) {
  const std::vector<double> sums = class_weight_sums(labels, weights, classes, domains, domain);
  double total = 0.0;
  for (std::size_t c = 0; c < sums.size(); ++c) {
    require(sums[c] > 0.0, "balanced_class_weights: class ", c, " has total weight ", sums[c],
            "; every class needs a positive total weight");
    total += sums[c];
  }
  const double target = per_class ? *per_class : total / static_cast<double>(classes);
  Vector<T> out(weights.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const Index k = static_cast<Index>(i);
    out(k) = detail::in_domain(domains, domain, i) ? static_cast<T>(static_cast<double>(weights(k)) * target /
                                                                    sums[static_cast<std::size_t>(labels[i])])
                                                   : T(0);
  }
  return out;
}

// Rescales the classes of `domain` so that its weighted class fractions become `fractions`
// (summing to 1) while its total weight stays the same, or becomes `total` when given. Other
// events keep their weights. Clavijo et al.: the source domain, with the target's signal fraction.
template <class T>
Vector<T> match_class_fractions(const std::vector<Index>& labels, const Vector<T>& weights,
                                const std::vector<Index>& domains, Index domain,
                                const std::vector<double>& fractions,
                                std::optional<double> total = std::nullopt) {
  const Index classes = static_cast<Index>(fractions.size());
  require(classes >= 1, "match_class_fractions: no target fractions given");
  double sum_f = 0.0;
  for (std::size_t c = 0; c < fractions.size(); ++c) {
    require(fractions[c] >= 0.0, "match_class_fractions: target fraction of class ", c, " is ", fractions[c],
            "; fractions must be >= 0");
    sum_f += fractions[c];
  }
  require(std::abs(sum_f - 1.0) < 1e-9, "match_class_fractions: target fractions sum to ", sum_f,
          "; they must sum to 1");
  const std::vector<double> sums = class_weight_sums(labels, weights, classes, &domains, domain);
  double domain_total = 0.0;
  for (double s : sums) domain_total += s;
  for (std::size_t c = 0; c < sums.size(); ++c)
    require(sums[c] > 0.0 || fractions[c] == 0.0, "match_class_fractions: class ", c, " of domain ", domain,
            " has total weight ", sums[c], " but its target fraction is ", fractions[c]);
  const double new_total = total ? *total : domain_total;
  Vector<T> out = weights;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (domains[i] != domain) continue;
    const auto c = static_cast<std::size_t>(labels[i]);
    const Index k = static_cast<Index>(i);
    out(k) = sums[c] > 0.0
                 ? static_cast<T>(static_cast<double>(weights(k)) * fractions[c] * new_total / sums[c])
                 : T(0);
  }
  return out;
}

// Dataset conveniences.
template <class T>
Vector<T> balanced_class_weights(const Dataset<T>& data, std::optional<Index> domain = std::nullopt) {
  return balanced_class_weights(data.labels, data.weights, data.classes,
                                data.has_domains() ? &data.domains : nullptr, domain);
}

// The source domain's class fractions made equal to the target domain's.
template <class T>
Vector<T> match_target_fractions(const Dataset<T>& data, Index source_domain, Index target_domain) {
  require(data.has_domains(), "match_target_fractions: the data set has no domain column");
  const std::vector<double> f =
      class_fractions(data.labels, data.weights, data.classes, &data.domains, target_domain);
  return match_class_fractions(data.labels, data.weights, data.domains, source_domain, f);
}

}  // namespace agnostic::train
