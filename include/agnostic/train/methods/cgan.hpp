#pragma once
// "method": "cgan": a conditional GAN background model (Chisholm et al., arXiv:2112.00650 sec. 3;
// train/cgan.hpp) from a config. data.features are the generated variables; the section "cgan"
// (docs/config.md):
//   conditions (required)          the conditioning columns c of G(z, c) and D(x, c)
//   latent (9)                     dimension of the noise z
//   generator_hidden (3 x 64)      G's hidden widths (model.activation, default LeakyReLU(0.4);
//                                  model.init, default He normal)
//   discriminator_hidden (twice generator_hidden's widths: 3 x 128)   D's hidden widths
//   discriminator_steps (4)        D steps per G step
//   blind {column, range}          events with column inside [lo, hi] are never read for training
//   generator_average (0.999)      EMA decay of G's weights (0 = off); the average generates
//   ensemble {members, keep} (5, min(2, members))  train N members (seeds training.seed + k), keep
//                                  the best M by the held-out quality chi2
// The defaults are the set-up that met issue 19's figures on the harder density of
// examples/generative/harder (docs/cgan.md, "Ensembles, and the ratio of D to G steps"). Without an
// "optimiser" section both networks use Adam with learning rate 2e-4 and beta1 0.5 (beta2 0.999,
// epsilon 1e-8, no L2, no clipping); with one, both use it. Where the config leaves them out, a cGAN
// also trains with that set-up's training.epochs 150, training.batch_size 512 and
// data.validation_fraction 0.25 (the other methods' defaults are 100, 256 and 0.3); patience 10 and
// the rest of "training" are the common defaults. data.label is
// not read. The events outside the blind window are split into training and held-out
// (data.validation_fraction); the held-out ones give the quality chi2, the stopping figure and
// the best epoch. Outputs: generator.json (the kept members' averaged generators,
// train/cgan_model.hpp), discriminator.json, history.json and checkpoint.json (one
// member) or member<k>_history.json / member<k>_checkpoint.json (ensembles; checkpoint.json then
// lists the members' checkpoints), summary.json.
// Members train one after the other (each uses the configured threads), so the result does not
// depend on how many threads there are beyond what a single run already guarantees.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agnostic/core/atomic_file.hpp"
#include "agnostic/core/compiled_when_used.hpp"
#include "agnostic/core/config_section.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/io/data_file.hpp"
#include "agnostic/io/model_file.hpp"
#include "agnostic/nn/model_network.hpp"
#include "agnostic/nn/sequential.hpp"
#include "agnostic/train/cgan.hpp"
#include "agnostic/train/cgan_model.hpp"
#include "agnostic/train/config.hpp"
#include "agnostic/train/dataset.hpp"
#include "agnostic/train/make_optimiser.hpp"
#include "agnostic/train/run_context.hpp"
#include "agnostic/train/trainer.hpp"

namespace agnostic::train {

struct CganConfig {
  std::vector<std::string> conditions;
  Index latent = 9;
  std::vector<Index> generator_hidden = {64, 64, 64};
  std::vector<Index> discriminator_hidden = {128, 128, 128};  // not given: twice generator_hidden's
  Index discriminator_steps = 4;
  std::string blind_column;  // empty: nothing blinded
  double blind_low = 0.0, blind_high = 0.0;
  double generator_average = 0.999;
  Index members = 5, keep = 2;
  OptimiserConfig optimiser;  // both networks
  Activation activation = Activation::leaky_relu(0.4);
  Initialiser init = Initialiser::he_normal();
};

// The optimiser of both networks when the config has no "optimiser" section: Adam, learning rate
// 2e-4, beta1 0.5 (the usual GAN setting; on the harder density Adam 1e-3 kept an almost untrained
// generator and this one trained, docs/cgan.md), the other Adam keys at their defaults.
AGNOSTIC_COMPILED_WHEN_USED
inline OptimiserConfig cgan_default_optimiser() {
  OptimiserConfig o;
  o.name = "adam";
  o.learning_rate = 2e-4;
  o.beta1 = 0.5;
  return o;
}

// The config a cGAN run trains with: `c` with the measured set-up's training.epochs (150),
// training.batch_size (512) and data.validation_fraction (0.25) where the config leaves them out.
AGNOSTIC_COMPILED_WHEN_USED
inline TrainConfig cgan_training_defaults(TrainConfig c) {
  using config_detail::given;
  const nlohmann::json& o = c.original;
  const bool training = given(o, "training"), data = given(o, "data");
  if (!training || !given(o.at("training"), "epochs")) c.training.epochs = 150;
  if (!training || !given(o.at("training"), "batch_size")) c.training.batch_size = 512;
  if (!data || !given(o.at("data"), "validation_fraction")) c.data.validation_fraction = 0.25;
  return c;
}

// Reads and checks the "cgan" section; errors name the config file, the key, the value and what is
// allowed.
AGNOSTIC_COMPILED_WHEN_USED
inline CganConfig cgan_config(const TrainConfig& c) {
  const nlohmann::json& section =
      required_method_section(c, "cgan", "{\"conditions\": [<conditioning columns>]}");
  const ConfigSection s(section, "cgan", c.source,
                        {"conditions", "latent", "generator_hidden", "discriminator_hidden",
                         "discriminator_steps", "blind", "generator_average", "ensemble"});
  CganConfig g;
  g.conditions = s.strings("conditions", true);
  if (g.conditions.empty())
    s.fail_at(s.child("conditions"), "is empty; give at least one conditioning column");
  for (const auto& name : g.conditions) {
    if (std::count(g.conditions.begin(), g.conditions.end(), name) > 1)
      s.fail_at(s.child("conditions"), "names \"", name, "\" twice");
    for (const auto& f : c.data.columns.features)
      if (f == name)
        s.fail_at(s.child("conditions"), "names \"", name,
                  "\", which is also in 'data.features'; a column is either generated or a condition");
  }
  g.latent = s.integer("latent", g.latent, 1, 100000);
  g.generator_hidden = s.widths("generator_hidden", g.generator_hidden);
  std::vector<Index> twice = g.generator_hidden;
  for (Index& width : twice) width *= 2;
  g.discriminator_hidden = s.widths("discriminator_hidden", twice);
  g.discriminator_steps = s.integer("discriminator_steps", g.discriminator_steps, 1, 1000);
  if (s.has("blind")) {
    const ConfigSection b = s.section("blind", {"column", "range"});
    if (!b.has("column")) b.fail_at(b.child("column"), "is missing; give the name of the blinded column");
    g.blind_column = b.string("column", "");
    if (g.blind_column.empty()) b.fail_at(b.child("column"), "is empty; give the name of the blinded column");
    const std::vector<double> range = b.has("range") ? b.numbers("range") : std::vector<double>{};
    if (range.size() != 2 || !(range[0] < range[1]))
      b.fail_at(b.child("range"), "is ", b.has("range") ? b.raw("range").dump() : std::string("missing"),
                "; expected [lo, hi] with lo < hi (events with lo <= value <= hi are never used)");
    g.blind_low = range[0];
    g.blind_high = range[1];
  }
  g.generator_average = s.number("generator_average", g.generator_average, 0.0, 1.0);
  if (g.generator_average >= 1.0)
    s.fail_at(s.child("generator_average"), "is ", g.generator_average,
              "; expected a decay in [0, 1) (0 = no averaging)");
  if (s.has("ensemble")) {
    const ConfigSection e = s.section("ensemble", {"members", "keep"});
    g.members = e.integer("members", g.members, 1, 10000);
    g.keep = e.integer("keep", std::min(g.members, g.keep), 1, 10000);
    if (g.keep > g.members)
      e.fail_at(e.child("keep"), "is ", g.keep, " but only ", g.members,
                " members are trained; keep must be <= members");
  }
  using config_detail::given;
  const auto& o = c.original;
  g.optimiser = given(o, "optimiser") ? c.optimiser : cgan_default_optimiser();
  if (given(o, "model")) {
    const nlohmann::json& m = o["model"];
    if (given(m, "activation")) g.activation = c.model.activation;
    if (given(m, "init")) g.init = c.model.init;
    if (given(m, "hidden") || given(m, "start_from"))
      fail("config '", c.source,
           "': key 'model.hidden' / 'model.start_from' is not used by method \"cgan\"; give "
           "'cgan.generator_hidden' and 'cgan.discriminator_hidden'");
  }
  return g;
}

namespace cgan_detail {

// The numbers of `name` in `table`, every one finite (else an error naming file, line, column).
AGNOSTIC_COMPILED_WHEN_USED
inline std::vector<double> finite_column(const io::Table& table, const std::string& name, const char* role) {
  require(table.has_column(name), "data: the ", role, " '", name, "' is not a numeric column of the data (",
          table.describe_columns(), ")");
  const auto column = table.column(name);
  for (Index i = 0; i < table.n_rows(); ++i)
    require(std::isfinite(column[static_cast<std::size_t>(i)]), "data: ", table.locate(i, name), " is ",
            column[static_cast<std::size_t>(i)], "; the cGAN needs finite values");
  return {column.begin(), column.end()};
}

AGNOSTIC_COMPILED_WHEN_USED
inline nlohmann::json layers_json(const std::vector<io::DenseWeights<float>>& layers) {
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t l = 0; l < layers.size(); ++l)
    out.push_back(io::model_detail::layer_to_json(layers[l], "layers[" + std::to_string(l) + "]"));
  return out;
}

}  // namespace cgan_detail

// The events a cGAN run trains on: features | conditions per row, raw units, outside the blind
// window, split into training and held-out rows.
struct CganData {
  MatrixD train, held_out;
  Index blinded = 0;  // events inside the window, never read beyond the blind column
};

AGNOSTIC_COMPILED_WHEN_USED
inline CganData cgan_data(const TrainConfig& c, const CganConfig& g) {
  const io::Table table = io::read_tables(c.data.files);
  require(table.n_rows() > 0, "the data files hold no events");
  std::vector<std::vector<double>> columns;
  for (const auto& f : c.data.columns.features)
    columns.push_back(cgan_detail::finite_column(table, f, "feature"));
  for (const auto& f : g.conditions) columns.push_back(cgan_detail::finite_column(table, f, "condition"));
  std::vector<Index> outside;
  CganData d;
  if (!g.blind_column.empty()) {
    require(table.has_column(g.blind_column), "data: the blind column '", g.blind_column,
            "' (cgan.blind.column) is not a numeric column of the data (", table.describe_columns(), ")");
    const auto blind = table.column(g.blind_column);
    for (Index i = 0; i < table.n_rows(); ++i) {
      const double v = blind[static_cast<std::size_t>(i)];
      require(!std::isnan(v), "data: ", table.locate(i, g.blind_column),
              " is NaN; the blind column must be a number");
      if (v >= g.blind_low && v <= g.blind_high)
        ++d.blinded;
      else
        outside.push_back(i);
    }
  } else {
    for (Index i = 0; i < table.n_rows(); ++i) outside.push_back(i);
  }
  require(!outside.empty(), "every event is inside the blind window [", g.blind_low, ", ", g.blind_high,
          "] of '", g.blind_column, "'; nothing is left to train on");
  const SplitRows split =
      split_rows(std::vector<Index>(outside.size(), 0),
                 {c.data.validation_fraction, c.data.split_seed.value_or(c.training.seed), false});
  auto fill = [&](const std::vector<Index>& rows) {
    MatrixD m(static_cast<Index>(rows.size()), static_cast<Index>(columns.size()));
    for (std::size_t k = 0; k < rows.size(); ++k)
      for (std::size_t j = 0; j < columns.size(); ++j)
        m(static_cast<Index>(k), static_cast<Index>(j)) =
            columns[j][static_cast<std::size_t>(outside[static_cast<std::size_t>(rows[k])])];
    return m;
  };
  d.train = fill(split.train);
  d.held_out = fill(split.validation);
  return d;
}

AGNOSTIC_COMPILED_WHEN_USED
inline RunResult run_cgan(const TrainConfig& config, const RunOptions& options = {}) {
  const TrainConfig c = cgan_training_defaults(config);
  const CganConfig g = cgan_config(c);  // before anything is written
  RunContext ctx(c, options);
  const CganData data = cgan_data(c, g);
  const Index nf = static_cast<Index>(c.data.columns.features.size());
  const Index nc = static_cast<Index>(g.conditions.size());
  adversarial::CganGenerator model;
  model.conditions = g.conditions;
  model.features = c.data.columns.features;
  model.latent = g.latent;
  model.feature_scaling = adversarial::RangeScaling::fit(data.train.leftCols(nf));
  model.condition_scaling = adversarial::RangeScaling::fit(data.train.rightCols(nc));
  auto scaled = [&](const MatrixD& raw) {
    Matrix<float> m(raw.rows(), nf + nc);
    m.leftCols(nf) = model.feature_scaling.apply<float>(raw.leftCols(nf));
    m.rightCols(nc) = model.condition_scaling.apply<float>(raw.rightCols(nc));
    return m;
  };
  const Matrix<float> train = scaled(data.train), held_out = scaled(data.held_out);

  adversarial::CganOptions o;
  o.latent = g.latent;
  o.conditions = nc;
  o.discriminator_steps = g.discriminator_steps;
  o.batch_size = c.training.batch_size;
  o.generator_average = g.generator_average;
  if (!ctx.quiet())
    ctx.out() << "agnostic train (cgan): " << train.rows() << " training and " << held_out.rows()
              << " held-out events (" << data.blinded << " blinded), " << nf << " feature(s), " << nc
              << " condition(s); " << g.members << " member(s), keeping " << g.keep << "\n";

  struct Trained {
    std::uint64_t seed;
    double quality;
    std::vector<io::DenseWeights<float>> generator, discriminator;
    Index epochs;
  };
  std::vector<Trained> trained;
  if (g.members > 1 && !ctx.resume()) {
    // The run's checkpoint names the members' own (what --resume looks for first).
    nlohmann::json index = {{"cgan_ensemble_members", nlohmann::json::array()}};
    for (Index k = 0; k < g.members; ++k)
      index["cgan_ensemble_members"].push_back("member" + std::to_string(k) + "_" + c.output.checkpoint);
    write_file_atomically(ctx.file(c.output.checkpoint), index.dump(1) + "\n");
    ctx.wrote(ctx.file(c.output.checkpoint));
  }
  for (Index k = 0; k < g.members; ++k) {
    const std::uint64_t seed = c.training.seed + static_cast<std::uint64_t>(k);
    Rng init(seed);
    std::vector<Index> gs{g.latent + nc}, ds{nf + nc};
    gs.insert(gs.end(), g.generator_hidden.begin(), g.generator_hidden.end());
    ds.insert(ds.end(), g.discriminator_hidden.begin(), g.discriminator_hidden.end());
    gs.push_back(nf);
    ds.push_back(1);
    Sequential<float> generator(gs, g.activation, Activation::tanh(), init, g.init, "generator");
    Sequential<float> discriminator(ds, g.activation, Activation::identity(), init, g.init, "discriminator");
    const auto g_opt = make_optimiser(g.optimiser, generator.parameters());
    const auto d_opt = make_optimiser(g.optimiser, discriminator.parameters());
    adversarial::CganScheme<float> scheme(generator, discriminator, *g_opt, *d_opt, train,
                                          held_out.rows() > 0 ? &held_out : nullptr, o);
    TrainerOptions to = ctx.trainer_options();
    to.seed = seed;
    to.monitor = "quality_chi2";
    const std::string prefix = g.members > 1 ? "member" + std::to_string(k) + "_" : "";
    to.checkpoint = ctx.file(prefix + c.output.checkpoint);
    to.history = ctx.file(prefix + c.output.history);
    Trainer<float> trainer(scheme, to);
    if (!ctx.quiet() && g.members > 1) ctx.out() << "member " << k << " (seed " << seed << ")\n";
    if (ctx.resume() && std::filesystem::exists(to.checkpoint))
      trainer.resume(to.checkpoint);
    else
      trainer.fit();
    ctx.wrote(to.checkpoint);
    ctx.wrote(to.history);
    trained.push_back({seed, scheme.quality(), io::dense_weights(scheme.average()),
                       io::dense_weights(discriminator), trainer.epoch()});
  }
  std::vector<std::size_t> order(trained.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return trained[a].quality < trained[b].quality; });
  order.resize(static_cast<std::size_t>(g.keep));

  nlohmann::json discriminators = nlohmann::json::array(), summary_members = nlohmann::json::array();
  for (std::size_t k : order) {
    model.members.push_back({trained[k].seed, trained[k].quality, trained[k].generator});
    discriminators.push_back(
        {{"seed", trained[k].seed}, {"layers", cgan_detail::layers_json(trained[k].discriminator)}});
  }
  for (const Trained& t : trained)
    summary_members.push_back({{"seed", t.seed},
                               {"quality_chi2", t.quality},
                               {"epochs", t.epochs},
                               {"kept", std::find_if(order.begin(), order.end(), [&](std::size_t k) {
                                          return trained[k].seed == t.seed;
                                        }) != order.end()}});
  const auto generator_path = ctx.file("generator.json"), discriminator_path = ctx.file("discriminator.json");
  write_file_atomically(generator_path, to_json(model).dump(1) + "\n");
  ctx.wrote(generator_path);
  const nlohmann::json dj = {{"format", "agnostic-cgan-discriminator"},
                             {"version", 1},
                             {"inputs",
                              [&] {
                                std::vector<std::string> names = c.data.columns.features;
                                names.insert(names.end(), g.conditions.begin(), g.conditions.end());
                                return names;
                              }()},
                             {"output", "logit of 'real' (inputs scaled as in generator.json)"},
                             {"members", discriminators}};
  write_file_atomically(discriminator_path, dj.dump(1) + "\n");
  ctx.wrote(discriminator_path);
  nlohmann::json summary = {{"method", "cgan"},
                            {"training_events", data.train.rows()},
                            {"held_out_events", data.held_out.rows()},
                            {"blinded_events", data.blinded},
                            {"members", summary_members},
                            {"kept", g.keep}};
  return ctx.finish(std::move(summary));
}

}  // namespace agnostic::train
