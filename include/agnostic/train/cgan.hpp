#pragma once
// CganScheme<T>: the conditional GAN of Chisholm et al. (arXiv:2112.00650) (sec. 3.3) as a
// train::TrainingScheme.
//
// A generator G(z, c) maps latent noise z ~ N(0, 1) and the conditions c of an event to its
// features x; a discriminator D(x, c) gives the logit of "x is a real event at condition c". Both
// train on binary cross-entropy from logits (losses/binary_cross_entropy.hpp):
//   L_D = BCE(D(x, c), 1) + BCE(D(G(z, c), c), 0)        (G frozen)
//   L_G = BCE(D(G(z, c), c), 1)                           (D frozen; the non-saturating loss)
// One step of the scheme is `discriminator_steps` (k) steps of D's optimiser, each on its own batch
// of real events with fresh noise, then one step of G's optimiser at the conditions of the last of
// those batches. Fake events take the real batch's conditions, so G learns p(x | c) under the
// conditions' own distribution.
//
// Data: one matrix, rows are events, columns the features then the conditions (D's input order),
// all already scaled to [-1, 1] (train/cgan_model.hpp, RangeScaling). Events inside a blinded
// window must not be given at all: the scheme uses every row it gets.
//
// Weight averaging: after every generator step an exponential moving average of G's weights is
// updated, avg <- d avg + (1 - d) theta with d = min(decay, (1 + t) / (10 + t)) at update t (the
// warm-up keeps the first epochs from being dominated by the initial weights); decay 0 makes the
// average a copy of G. The average is what generates (average()), what the quality metric rates,
// and it is part of parameters(), so checkpoints, rollbacks and restore-best include it.
//
// Quality metric (Chisholm et al. sec. 3.3, simplified): the held-out events (validation set; the training
// set when there is none) and as many events generated at their conditions by the averaged
// generator (fixed noise, the same every epoch) are histogrammed, for every pair (condition j,
// feature f), in B x B cells whose edges are the held-out events' quantiles (B = quality_bins);
//   chi2 = sum over cells with events of (n_data - n_gen)^2 / (n_data + n_gen),
// divided by the number of such cells: "quality_chi2", about 1 for a perfect generator (both
// samples fluctuate, so (n_data - n_gen)^2 averages n_data + n_gen), larger for a worse one.
//
// Each epoch reports train_loss (L_D + L_G, batch means), train_discriminator_loss,
// train_generator_loss, and quality_chi2. A warm step allocates nothing.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agnostic/autodiff/arithmetic.hpp"
#include "agnostic/autodiff/reductions.hpp"
#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/losses/binary_cross_entropy.hpp"
#include "agnostic/nn/evaluate_in_chunks.hpp"
#include "agnostic/nn/sequential.hpp"
#include "agnostic/optim/optimiser.hpp"
#include "agnostic/train/batches.hpp"
#include "agnostic/train/scheme.hpp"

namespace agnostic::adversarial {

struct CganOptions {
  Index latent = 9;                    // dimension of z
  Index conditions = 1;                // the last `conditions` columns of the data are c
  Index discriminator_steps = 1;       // k: D steps per G step
  Index batch_size = 512;              // real events per D step
  double generator_average = 0.999;    // EMA decay of G's weights (0 = off)
  Index quality_bins = 10;             // B: cells per axis of the quality metric
  std::uint64_t quality_seed = 20221;  // noise of the quality metric's generated events
  Index evaluation_chunk = kEvaluationChunk;
};

// L_D for real events `real` (features | conditions, as D reads them), conditions `c` and noise `z`.
// G is recorded frozen-or-not as the caller left it: freeze it for D's step.
template <class T>
Var<T> cgan_discriminator_loss(Sequential<T>& generator, Sequential<T>& discriminator, Var<T> real, Var<T> c,
                               Var<T> z, OperandOf<T> ones, OperandOf<T> zeros) {
  const Var<T> fake = generator(real.tape(), concat_cols({z, c}));
  const Var<T> real_logit = discriminator(real.tape(), real);
  const Var<T> fake_logit = discriminator(real.tape(), concat_cols({fake, c}));
  return binary_cross_entropy(real_logit, ones) + binary_cross_entropy(fake_logit, zeros);
}

// L_G for conditions `c` and noise `z`; freeze D for G's step.
template <class T>
Var<T> cgan_generator_loss(Sequential<T>& generator, Sequential<T>& discriminator, Var<T> c, Var<T> z,
                           OperandOf<T> ones) {
  const Var<T> fake = generator(c.tape(), concat_cols({z, c}));
  return binary_cross_entropy(discriminator(c.tape(), concat_cols({fake, c})), ones);
}

// The cells of the quality metric: inner edges (B - 1 quantiles) of every column of `reference`.
template <class T>
std::vector<std::vector<double>> quantile_edges(const Matrix<T>& reference, Index bins) {
  std::vector<std::vector<double>> edges(static_cast<std::size_t>(reference.cols()));
  std::vector<double> column(static_cast<std::size_t>(reference.rows()));
  for (Index j = 0; j < reference.cols(); ++j) {
    for (Index i = 0; i < reference.rows(); ++i) column[static_cast<std::size_t>(i)] = reference(i, j);
    std::sort(column.begin(), column.end());
    for (Index b = 1; b < bins && !column.empty(); ++b)
      edges[static_cast<std::size_t>(j)].push_back(
          column[static_cast<std::size_t>(b * static_cast<Index>(column.size()) / bins)]);
  }
  return edges;
}

// The quality chi2 (see the top of this file) of generated events `generated` against data `data`
// (same columns: features | conditions), with the cells of quantile_edges(data, B).
template <class T>
double quality_chi2(const Matrix<T>& data, const Matrix<T>& generated, Index conditions,
                    const std::vector<std::vector<double>>& edges) {
  require(data.cols() == generated.cols() && conditions >= 1 && conditions < data.cols(),
          "quality_chi2: data and generated events need the same columns (features then ", conditions,
          " condition(s))");
  const Index features = data.cols() - conditions;
  auto cell = [&](Index column, double v) {
    const auto& e = edges[static_cast<std::size_t>(column)];
    return static_cast<Index>(std::upper_bound(e.begin(), e.end(), v) - e.begin());
  };
  double chi2 = 0.0;
  Index cells = 0;
  for (Index j = features; j < data.cols(); ++j)
    for (Index f = 0; f < features; ++f) {
      const Index bj = static_cast<Index>(edges[static_cast<std::size_t>(j)].size()) + 1;
      const Index bf = static_cast<Index>(edges[static_cast<std::size_t>(f)].size()) + 1;
      std::vector<double> nd(static_cast<std::size_t>(bj * bf), 0.0), ng(nd.size(), 0.0);
      for (Index i = 0; i < data.rows(); ++i)
        nd[static_cast<std::size_t>(cell(j, data(i, j)) * bf + cell(f, data(i, f)))] += 1.0;
      for (Index i = 0; i < generated.rows(); ++i)
        ng[static_cast<std::size_t>(cell(j, generated(i, j)) * bf + cell(f, generated(i, f)))] += 1.0;
      for (std::size_t k = 0; k < nd.size(); ++k) {
        if (nd[k] + ng[k] <= 0.0) continue;
        chi2 += (nd[k] - ng[k]) * (nd[k] - ng[k]) / (nd[k] + ng[k]);
        ++cells;
      }
    }
  return cells > 0 ? chi2 / static_cast<double>(cells) : 0.0;
}

template <class T>
class CganScheme : public train::TrainingScheme<T> {
 public:
  // Keep the networks, optimisers and data alive while the scheme is used. `train` and `held_out`
  // (may be null or empty) hold features | conditions per row, scaled. G takes latent + conditions
  // inputs and gives the features; D takes features + conditions and gives one logit.
  CganScheme(Sequential<T>& generator, Sequential<T>& discriminator, Optimiser<T>& generator_optimiser,
             Optimiser<T>& discriminator_optimiser, const Matrix<T>& train, const Matrix<T>* held_out,
             CganOptions options)
      : generator_(&generator),
        discriminator_(&discriminator),
        generator_optimiser_(&generator_optimiser),
        discriminator_optimiser_(&discriminator_optimiser),
        train_(&train),
        held_out_(held_out && held_out->rows() > 0 ? held_out : &train),
        options_(options),
        average_(generator) {
    const Index nc = options.conditions, nf = train.cols() - nc;
    require(options.latent >= 1, "cGAN: latent is ", options.latent, "; must be >= 1");
    require(nc >= 1 && nf >= 1, "cGAN: the data have ", train.cols(), " columns and ", nc,
            " condition(s); they need at least one feature and one condition");
    require(options.discriminator_steps >= 1, "cGAN: discriminator_steps is ", options.discriminator_steps,
            "; must be >= 1");
    require(options.generator_average >= 0.0 && options.generator_average < 1.0,
            "cGAN: generator_average is ", options.generator_average, "; must be in [0, 1)");
    require(options.quality_bins >= 2, "cGAN: quality_bins is ", options.quality_bins, "; must be >= 2");
    require(options.evaluation_chunk >= 1, "cGAN: evaluation_chunk must be >= 1");
    require(generator.input_size() == options.latent + nc, "cGAN: the generator takes ",
            generator.input_size(), " inputs; latent ", options.latent, " + ", nc,
            " condition(s) = ", options.latent + nc);
    require(generator.output_size() == nf, "cGAN: the generator gives ", generator.output_size(),
            " outputs but the data have ", nf, " features");
    require(discriminator.input_size() == nf + nc, "cGAN: the discriminator takes ",
            discriminator.input_size(), " inputs; features + conditions = ", nf + nc);
    require(discriminator.output_size() == 1, "cGAN: the discriminator gives ", discriminator.output_size(),
            " outputs; it needs one logit");
    require(held_out_->cols() == train.cols(), "cGAN: the held-out events have ", held_out_->cols(),
            " columns, the training events ", train.cols());
    require(train.allFinite(), "cGAN: the training data hold a NaN or infinite value");
    const Index per_step = options.batch_size * options.discriminator_steps;
    require(options.batch_size >= 1 && train.rows() >= per_step, "cGAN: ", train.rows(),
            " training events are fewer than one step's batch_size x discriminator_steps = ", per_step);
    sampler_ = train::BatchSampler(train.rows(), options.batch_size, /*drop_last=*/true);
    average_.set_name(generator.name() + "_average");
    for (Parameter<T>* p : generator.parameters()) generator_parameters_.push_back(p);
    for (Parameter<T>* p : average_.parameters()) average_parameters_.push_back(p);

    size_batch(options.batch_size);
    quality_edges_ = quantile_edges(*held_out_, options.quality_bins);
    Rng quality(options.quality_seed);
    quality_noise_.resize(held_out_->rows(), options.latent);
    for (Index i = 0; i < quality_noise_.rows(); ++i)
      for (Index j = 0; j < options.latent; ++j) quality_noise_(i, j) = static_cast<T>(quality.normal());
  }

  const CganOptions& options() const { return options_; }
  // The averaged generator (G itself when generator_average is 0): what generates.
  Sequential<T>& average() { return options_.generator_average > 0.0 ? average_ : *generator_; }

  ParameterGroup<T> parameters() override {
    ParameterGroup<T> all = generator_->parameters();
    all.add(discriminator_->parameters());
    all.add(average_.parameters());
    all.set_name("cgan");
    return all;
  }
  std::vector<Optimiser<T>*> optimisers() override {
    return {generator_optimiser_, discriminator_optimiser_};
  }

  void start_epoch(Index, Rng& rng) override {
    sampler_.start_epoch(rng);
    noise_rng_.reseed(rng.next());
  }
  Index batches() const override { return sampler_.batches() / options_.discriminator_steps; }

  train::StepResult step(Index b) override {
    train::StepResult r;
    r.events = static_cast<double>(options_.batch_size);
    double d_loss = 0.0;
    for (Index s = 0; s < options_.discriminator_steps; ++s) {
      gather(b * options_.discriminator_steps + s);
      const double l = discriminator_step();
      d_loss += l / static_cast<double>(options_.discriminator_steps);
      if (!std::isfinite(l)) break;
    }
    const double g_loss = std::isfinite(d_loss) ? generator_step() : d_loss;
    r.loss = d_loss + g_loss;
    r.parts["discriminator_loss"] = d_loss;
    r.parts["generator_loss"] = g_loss;
    return r;
  }

  // ---- the pieces of a step, public so that they can be checked one at a time ----

  // Copies real batch `b` of the epoch into the step's buffers and draws fresh noise.
  void gather(Index b) {
    const auto rows = sampler_.batch(b);
    // Under data-parallel training a process gets its share of the batch (train/data_parallel.hpp).
    if (real_.rows() != static_cast<Index>(rows.size())) size_batch(static_cast<Index>(rows.size()));
    for (std::size_t k = 0; k < rows.size(); ++k) real_.row(static_cast<Index>(k)) = train_->row(rows[k]);
    real_conditions_ = real_.rightCols(options_.conditions);
    draw_noise();
  }
  // One step of D's optimiser on L_D of the gathered batch; returns L_D (NaN: D not updated).
  double discriminator_step() {
    generator_->freeze();
    d_tape_.clear();
    const Var<T> loss = cgan_discriminator_loss(*generator_, *discriminator_, d_tape_.input(real_),
                                                d_tape_.input(real_conditions_), d_tape_.input(noise_),
                                                OperandOf<T>(ones_), OperandOf<T>(zeros_));
    double value = static_cast<double>(loss.item());
    if (std::isfinite(value))
      value = update(d_tape_, loss, *discriminator_optimiser_);
    else
      discriminator_optimiser_->skip_step();  // under MPI the other processes skip this step too
    generator_->unfreeze();
    return value;
  }
  // One step of G's optimiser on L_G at the gathered batch's conditions, with fresh noise, then the
  // weight average; returns L_G (NaN: G not updated).
  double generator_step() {
    draw_noise();
    discriminator_->freeze();
    g_tape_.clear();
    const Var<T> loss = cgan_generator_loss(*generator_, *discriminator_, g_tape_.input(real_conditions_),
                                            g_tape_.input(noise_), OperandOf<T>(ones_));
    double value = static_cast<double>(loss.item());
    if (std::isfinite(value))
      value = update(g_tape_, loss, *generator_optimiser_);
    else
      generator_optimiser_->skip_step();  // under MPI the other processes skip this step too
    discriminator_->unfreeze();
    if (std::isfinite(value) && options_.generator_average > 0.0) update_average();
    return value;
  }

  train::Figures evaluate() override {
    train::Figures f;
    f["quality_chi2"] = quality();
    return f;
  }

  // The quality chi2 of the averaged generator on the held-out events.
  double quality() {
    const Matrix<T>& data = *held_out_;
    const Index nc = options_.conditions, nf = data.cols() - nc;
    Matrix<T> generated(data.rows(), data.cols());
    generated.rightCols(nc) = data.rightCols(nc);
    Sequential<T>& g = average();
    g.freeze();
    // G's input: the fixed noise, then the held-out events' conditions.
    auto input = [&](Index begin, Index end) {
      Matrix<T> x(end - begin, options_.latent + nc);
      x << quality_noise_.middleRows(begin, end - begin), data.middleRows(begin, end - begin).rightCols(nc);
      return x;
    };
    evaluate_in_chunks(eval_tape_, data.rows(), options_.evaluation_chunk, input, g,
                       [&](Index begin, Var<T> y) {
                         generated.middleRows(begin, y.value().rows()).leftCols(nf) = y.value();
                       });
    g.unfreeze();
    return quality_chi2(data, generated, nc, quality_edges_);
  }

  nlohmann::json state() const override { return {{"average_updates", average_updates_}}; }
  void load_state(const nlohmann::json& j) override {
    require(j.is_object() && j.contains("average_updates") && j["average_updates"].is_number_integer(),
            "cGAN checkpoint state: expected {\"average_updates\": <count>}, got ", j.dump());
    average_updates_ = j["average_updates"].get<std::int64_t>();
  }

 private:
  // Fresh noise for the gathered rows. Under data-parallel training every process draws the noise of
  // the whole global batch, in the order one process draws it, and keeps the rows of its share (rank
  // r: rows r, r + K, ..., as train::shard_rows shares the events), so K processes train on the
  // noise one process would have drawn and agree with it to float rounding.
  void draw_noise() {
    const BatchShard& s = batch_shard();
    const Index global = options_.batch_size;          // every batch is full (drop_last)
    const bool shared = s.ranks > 1 && s.copies == 1;  // the sampler split this batch's rows
    for (Index j = 0; j < noise_.cols(); ++j) {
      if (!shared) {
        for (Index i = 0; i < noise_.rows(); ++i) noise_(i, j) = static_cast<T>(noise_rng_.normal());
        continue;
      }
      Index mine = 0;
      for (Index i = 0; i < global; ++i) {
        const T z = static_cast<T>(noise_rng_.normal());
        if (i % s.ranks == s.rank) noise_(mine++, j) = z;
      }
    }
  }
  // The step's buffers for n events (allocates only when n changes).
  void size_batch(Index n) {
    real_.resize(n, train_->cols());
    real_conditions_.resize(n, options_.conditions);
    noise_.resize(n, options_.latent);
    ones_ = Matrix<T>::Ones(n, 1);
    zeros_ = Matrix<T>::Zero(n, 1);
  }
  double update(Tape<T>& tape, const Var<T>& loss, Optimiser<T>& optimiser) {
    tape.backward(loss);
    return optimiser.try_step() ? static_cast<double>(loss.item()) : std::nan("");
  }
  void update_average() {
    ++average_updates_;
    const double t = static_cast<double>(average_updates_);
    const T d = static_cast<T>(std::min(options_.generator_average, (1.0 + t) / (10.0 + t)));
    for (std::size_t i = 0; i < generator_parameters_.size(); ++i)
      average_parameters_[i]->value =
          d * average_parameters_[i]->value + (T(1) - d) * generator_parameters_[i]->value;
  }

  Sequential<T>* generator_;
  Sequential<T>* discriminator_;
  Optimiser<T>* generator_optimiser_;
  Optimiser<T>* discriminator_optimiser_;
  const Matrix<T>* train_;
  const Matrix<T>* held_out_;
  CganOptions options_;
  Sequential<T> average_;
  std::vector<Parameter<T>*> generator_parameters_, average_parameters_;
  std::int64_t average_updates_ = 0;
  train::BatchSampler sampler_;
  Rng noise_rng_{1};
  Matrix<T> real_, real_conditions_, noise_, ones_, zeros_, quality_noise_;
  std::vector<std::vector<double>> quality_edges_;
  // One tape per kind of step: the D and G steps record different graphs, and a tape reused for
  // both would resize its buffers at every switch (a warm step must not allocate).
  Tape<T> d_tape_, g_tape_, eval_tape_;
};

}  // namespace agnostic::adversarial
