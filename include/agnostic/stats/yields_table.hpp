#pragma once
// Pre- and post-fit yields per channel and sample, summed over the channel's bins, with their
// uncertainties, and the data: the table an analyst pastes into a note (`agnostic fit --yields-table
// md|tex|csv`). An uncertainty is linear error propagation of the sum, sigma^2 = g C g^T with
// g = d(sum of the yields)/d theta (central differences, as fit_yields.hpp's band): pre-fit C is the
// constraint widths (prefit_covariance), post-fit C the fit's covariance, so the post-fit uncertainty
// of a sum includes the correlations the fit found.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/stats/fit.hpp"
#include "agnostic/stats/fit_yields.hpp"
#include "agnostic/stats/likelihood.hpp"

namespace agnostic::stats {

struct YieldWithError {
  double value = 0.0, error = 0.0;
};

struct YieldsTableRow {
  std::string sample;  // a sample's name, or "total"
  YieldWithError prefit, postfit;
};

struct YieldsTableChannel {
  std::string name;
  std::vector<YieldsTableRow> rows;  // the samples in workspace order, then "total"
  double data = 0.0;                 // the fitted data summed over the channel's bins
};

enum class TableFormat { markdown, latex, csv };

// "md", "tex" or "csv".
AGNOSTIC_COMPILED_WHEN_USED
inline TableFormat parse_table_format(const std::string& text) {
  if (text == "md") return TableFormat::markdown;
  if (text == "tex") return TableFormat::latex;
  require(text == "csv", "--yields-table: unknown format '", text, "' (allowed: md, tex, csv)");
  return TableFormat::csv;
}

namespace yields_table_detail {

// Per (sample, then per channel total) sums over bins: value and d/d theta by central differences.
struct Sums {
  std::vector<double> value;  // samples in model order, then one total per channel
  Eigen::MatrixXd jacobian;   // one row per entry of `value`
};

AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<double> sums_at(const BinnedLikelihood& model, const Eigen::VectorXd& params) {
  const auto samples = model.sample_yields(params);
  std::vector<double> out(samples.size() + model.channels().size(), 0.0);
  for (std::size_t s = 0; s < samples.size(); ++s) {
    out[s] = samples[s].yields.sum();
    for (std::size_t c = 0; c < model.channels().size(); ++c)
      if (model.channels()[c].name == samples[s].channel) out[samples.size() + c] += out[s];
  }
  return out;
}

AGNOSTIC_COMPILED_WHEN_USED
inline Sums sums(const BinnedLikelihood& model, const Eigen::VectorXd& params,
                 const Eigen::MatrixXd& covariance) {
  Sums r;
  r.value = sums_at(model, params);
  r.jacobian = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(r.value.size()), model.n_params());
  for (int i = 0; i < model.n_params(); ++i) {
    if (!(covariance.row(i).cwiseAbs().maxCoeff() > 0.0)) continue;
    const double h = 1e-6 * std::max(1.0, std::abs(params[i]));
    Eigen::VectorXd up = params, down = params;
    up[i] += h;
    down[i] -= h;
    const std::vector<double> a = sums_at(model, up), b = sums_at(model, down);
    for (std::size_t k = 0; k < a.size(); ++k)
      r.jacobian(static_cast<Eigen::Index>(k), i) = (a[k] - b[k]) / (2.0 * h);
  }
  return r;
}

AGNOSTIC_COMPILED_WHEN_USED
inline std::string fixed(double x, int digits) {
  if (!std::isfinite(x)) return "-";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, x);
  return buffer;
}

}  // namespace yields_table_detail

// The table of `model` with `data` fitted by `best` (which needs its covariance).
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<YieldsTableChannel> yields_table(const BinnedLikelihood& model, const Data& data,
                                                    const FitResult& best) {
  using namespace yields_table_detail;
  const Eigen::MatrixXd pre_c = prefit_covariance(model);
  const Sums pre = sums(model, model.init(), pre_c), post = sums(model, best.values, best.covariance);
  auto error = [](const Sums& s, const Eigen::MatrixXd& c, std::size_t k) {
    const Eigen::RowVectorXd g = s.jacobian.row(static_cast<Eigen::Index>(k));
    return std::sqrt(std::max(0.0, (g * c * g.transpose())(0, 0)));
  };
  const auto samples = model.sample_yields(model.init());
  std::vector<YieldsTableChannel> out;
  for (std::size_t c = 0; c < model.channels().size(); ++c) {
    const auto& info = model.channels()[c];
    YieldsTableChannel ch;
    ch.name = info.name;
    ch.data = data.main.segment(info.offset, info.bins).sum();
    auto row = [&](const std::string& name, std::size_t k) {
      ch.rows.push_back(
          {name, {pre.value[k], error(pre, pre_c, k)}, {post.value[k], error(post, best.covariance, k)}});
    };
    for (std::size_t s = 0; s < samples.size(); ++s)
      if (samples[s].channel == info.name) row(samples[s].name, s);
    row("total", samples.size() + c);
    out.push_back(std::move(ch));
  }
  return out;
}

// The table as text: Markdown (a pipe table), LaTeX (a tabular) or CSV (full precision, one column per
// number). Yields with two decimals in md and tex.
AGNOSTIC_COMPILED_WHEN_USED
inline std::string yields_table_text(const std::vector<YieldsTableChannel>& table, TableFormat format) {
  using yields_table_detail::fixed;
  std::string out;
  auto count = [](double n) { return fixed(n, n == std::round(n) ? 0 : 2); };  // Asimov data: 2 decimals
  auto pm = [&](const YieldWithError& y) {
    return format == TableFormat::latex ? "$" + fixed(y.value, 2) + " \\pm " + fixed(y.error, 2) + "$"
                                        : fixed(y.value, 2) + " ± " + fixed(y.error, 2);
  };
  auto full = [](double x) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.10g", x);
    return std::string(buffer);
  };
  if (format == TableFormat::csv) {
    out = "channel,sample,prefit,prefit_error,postfit,postfit_error\n";
    for (const auto& c : table) {
      for (const auto& r : c.rows)
        out += c.name + "," + r.sample + "," + full(r.prefit.value) + "," + full(r.prefit.error) + "," +
               full(r.postfit.value) + "," + full(r.postfit.error) + "\n";
      out += c.name + ",data," + full(c.data) + ",," + full(c.data) + ",\n";
    }
    return out;
  }
  if (format == TableFormat::markdown) {
    out = "| channel | sample | pre-fit | post-fit |\n| --- | --- | ---: | ---: |\n";
    for (const auto& c : table) {
      for (const auto& r : c.rows)
        out += "| " + c.name + " | " + r.sample + " | " + pm(r.prefit) + " | " + pm(r.postfit) + " |\n";
      out += "| " + c.name + " | data | " + count(c.data) + " | " + count(c.data) + " |\n";
    }
    return out;
  }
  auto tex = [](const std::string& s) {  // LaTeX's special characters in names
    std::string t;
    for (char ch : s) {
      if (ch == '_' || ch == '&' || ch == '%' || ch == '#' || ch == '$') t += '\\';
      t += ch;
    }
    return t;
  };
  out = "\\begin{tabular}{llrr}\n\\hline\nchannel & sample & pre-fit & post-fit \\\\\n\\hline\n";
  for (const auto& c : table) {
    for (const auto& r : c.rows)
      out += tex(c.name) + " & " + tex(r.sample) + " & " + pm(r.prefit) + " & " + pm(r.postfit) + " \\\\\n";
    out += tex(c.name) + " & data & " + count(c.data) + " & " + count(c.data) + " \\\\\n\\hline\n";
  }
  out += "\\end{tabular}\n";
  return out;
}

}  // namespace agnostic::stats
