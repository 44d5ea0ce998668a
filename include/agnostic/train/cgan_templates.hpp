#pragma once
// The ensemble of signal-region templates that an ensemble of cGAN generators gives (Chisholm et al.,
// arXiv:2112.00650 sec. 3.4; docs/cgan.md), as `agnostic template GENERATOR.json ...` builds it before the
// PCA (stats/template_pca.hpp): each member generates `per_event` events at every condition row, the events
// that pass every cut are histogrammed in one column and divided by `per_event`; observed and signal event
// files, when given, are histogrammed the same way. The defaults here are the command's.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/io/data_file.hpp"
#include "agnostic/stats/template_pca.hpp"
#include "agnostic/train/cgan_model.hpp"

namespace agnostic::adversarial {

struct GeneratorTemplateRequest {
  std::string conditions;         // the file of condition rows (CSV or .npy)
  std::string column;             // the histogrammed variable: a condition or a feature
  std::string bins;               // "e0,e1,...,eB" or "B:LO:HI" (parse_bin_edges)
  std::vector<std::string> cuts;  // "COLUMN>VALUE" or "COLUMN<VALUE" (parse_column_cut), all applied
  Index per_event = 10;           // events per condition row and member
  std::uint64_t seed = 1;         // member m uses seed + m
  std::string observed, signal;   // event files histogrammed the same way; "" = none
};

// The members' histograms (and the observed and signal ones) of `generator`, read from `source`
// (for messages). An ensemble needs at least two members.
AGNOSTIC_COMPILED_WHEN_USED
inline stats::TemplateEnsemble generator_template_ensemble(const CganGenerator& generator,
                                                           const GeneratorTemplateRequest& request,
                                                           const std::string& source) {
  require(generator.members.size() >= 2, "generator '", source, "' has ", generator.members.size(),
          " member; a template's shape uncertainties need an ensemble of at least 2");
  std::vector<ColumnCut> cuts;
  for (const auto& text : request.cuts) cuts.push_back(parse_column_cut(text));
  stats::TemplateEnsemble e;
  e.variable = request.column;
  e.edges = parse_bin_edges(request.bins);
  const MatrixD conditions = condition_matrix(generator, io::read_tables({request.conditions}));
  e.members =
      ensemble_histograms(generator, conditions, e.variable, e.edges, cuts, request.per_event, request.seed);
  auto events_histogram = [&](const std::string& file) {
    std::vector<std::string> names{e.variable};
    for (const auto& c : cuts)
      if (std::find(names.begin(), names.end(), c.column) == names.end()) names.push_back(c.column);
    return cut_histogram(table_columns(io::read_tables({file}), names), names, e.variable, e.edges, cuts);
  };
  if (!request.observed.empty()) e.observed = events_histogram(request.observed);
  if (!request.signal.empty()) e.signal = events_histogram(request.signal);
  return e;
}

}  // namespace agnostic::adversarial
