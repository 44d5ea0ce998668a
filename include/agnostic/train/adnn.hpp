#pragma once
// AdnnScheme<T>: the adversarial deep neural network of Camaiani et al. (arXiv:2207.09293) (sec. 3.1,
// Algorithm 1) and the hackathon the ML-INFN hackathon slides, as a train::TrainingScheme.
//
// A classifier C (logits over C classes, softmax cross-entropy L(C)) and an adversary A that reads
// C's second-to-last layer (the "representation"; or C's softmax output) and predicts the domain
// (signal model: SM = domain 0, alternatives 1, 2, ...) of events of ONE class, the
// `adversary_class`, with cross-entropy L(A). Per batch, in the game:
//   (1) A frozen: one step of C's optimiser on  L(C) - alpha * L(A);
//   (2) C frozen: `adversary_steps` (k) steps of A's optimiser on L(A), on the batch's
//       adversary-class events.
// Both gradients are taken at the batch's classifier weights before step (1) (Algorithm 1: g_C and
// g_A at theta_C^(k)); the representation A trains on in step (2) is the one recorded in step (1).
// With AdnnGameStep::gradient_reversal (as DANN, Ganin et al. arXiv:1505.07818) the game step is
// one joint backward pass of L(C) + L(A) with a gradient reversal of strength alpha between C's
// representation and A: C gets dL(C) - alpha dL(A), A gets dL(A), and both optimisers step; then
// k - 1 further steps of A alone as in (2).
// With an adversary batch (AdnnOptions::adversary_batch_size > 0) the k steps of A in (2) (and in
// phase 2; the k - 1 further steps with gradient reversal) read their own batch of that many
// adversary-class events, drawn per step without replacement from the training set's (independent
// of the classifier's batch, whose adversary-class events still give the L(A) of step (1)); where the
// training set holds no more adversary-class events than that, every one of them, once per step. Their
// representation is recorded at the classifier's weights before step (1), as Algorithm 1's g_A.
// The default is 8192 (with the default alpha 20, what met issue 19's bias goal on the redundant
// analogue at batch 512, docs/adnn.md); with 0, A reads the batch's adversary-class events as above.
// With a penalty batch (AdnnOptions::penalty_batch_size > 0) the L(A) of C's objective in step (1)
// (and of the joint step with gradient reversal, whose A step then reads it too) is taken on that many
// adversary-class events of their own per game batch, drawn from the same stream, instead of the
// classifier batch's: L(C) on the batch, -alpha L(A) on the penalty batch, one backward pass (every
// adversary-class event, once, where the training set holds no more than that many). A's k steps of
// (2) read what they read without it. With 0, the default, nothing changes.
//
// Classifier weight averaging (ClassifierAverage; Polyak & Juditsky's averaging, the
// exponential moving average of the weights): over the game, after every step of C, a second set
// of C's weights is updated — the uniform mean of C's weights after each game step so far, or an
// exponential moving average with `average_decay` per step. At every epoch end (evaluate())
// the two sets are swapped, so that the figures of the epoch, the trainer's snapshots and the
// model that is kept are the averaged classifier; start_epoch() swaps back, and training goes on
// from the raw weights. Both sets are in parameters(), so checkpoints and rollbacks keep them.
// The domain of events of other classes is never read (a Dataset may hold anything there).
//
// Epochs count as trainer epochs: 1 .. P_C pre-train C alone on L(C) (phase 1), the next P_A
// pre-train A alone with C frozen (phase 2), then the game (phase 3) for `game_epochs` epochs;
// alpha follows its StrengthSchedule over the game epochs (0 during pre-training). Give the
// Trainer max_epochs = P_C + P_A + game epochs and warmup_epochs = P_C + P_A (trainer_warmup()) so
// that early stopping and the best epoch only look at game epochs.
//
// Batches hold a fixed number of adversary-class events (first in the batch), in the proportion
// of the training set (MixedBatchSampler): every batch has the same shapes, so a warm step
// allocates nothing. Each epoch reports (history keys): the batch means train_loss (the
// classifier's objective L(C) - alpha L(A)), train_classifier_loss, train_adversary_loss (L(A) of
// the adversary before its steps on the batch); and on the validation set (the training set when
// there is none): validation_loss (L(C), the classifier's loss, as for every classifier; also
// under validation_classifier_loss), validation_adversary_loss (L(A)), validation_objective
// (L(C) - alpha L(A) with the epoch's alpha), validation_accuracy, adversary_accuracy (weighted fraction of
// adversary-class events whose domain A guesses), mean_ks (Camaiani et al.'s average K-S statistic between
// the classifier's adversary-class output on each domain's events and on the reference domain's), alpha and
// phase. The figure that picks the best epoch is mean_ks under a constraint on validation_loss
// (methods/adnn.hpp; train/stopping.hpp): the objective rewards the epochs that fool the adversary
// most, which is not what the method is for.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "agnostic/autodiff/arithmetic.hpp"
#include "agnostic/autodiff/elementwise.hpp"
#include "agnostic/autodiff/gradient_reversal.hpp"
#include "agnostic/autodiff/reductions.hpp"
#include "agnostic/autodiff/tape.hpp"
#include "agnostic/core/batch_shard.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/losses/categorical_cross_entropy.hpp"
#include "agnostic/nn/evaluate_in_chunks.hpp"
#include "agnostic/nn/sequential.hpp"
#include "agnostic/optim/optimiser.hpp"
#include "agnostic/stats/ks.hpp"
#include "agnostic/train/batches.hpp"
#include "agnostic/train/data_parallel.hpp"
#include "agnostic/train/dataset.hpp"
#include "agnostic/train/scheme.hpp"
#include "agnostic/train/strength_schedule.hpp"

namespace agnostic::adversarial {

// What the adversary reads: C's last hidden layer (Camaiani et al.) or C's softmax output.
enum class AdversaryInput { penultimate, output };

inline AdversaryInput parse_adversary_input(const std::string& name) {
  if (name == "penultimate") return AdversaryInput::penultimate;
  if (name == "output") return AdversaryInput::output;
  fail("adversary input \"", name, "\" is not known; allowed: \"penultimate\", \"output\"");
}

enum class AdnnPhase { pretrain_classifier = 1, pretrain_adversary = 2, game = 3 };

// How a game step updates C and A: Camaiani et al.'s two steps, or one joint step through a
// gradient reversal.
enum class AdnnGameStep { alternating, gradient_reversal };

inline AdnnGameStep parse_game_step(const std::string& name) {
  if (name == "alternating") return AdnnGameStep::alternating;
  if (name == "gradient_reversal") return AdnnGameStep::gradient_reversal;
  fail("ADNN game step \"", name, "\" is not known; allowed: \"alternating\", \"gradient_reversal\"");
}

// Which average of C's weights over the game is evaluated and kept: none (the weights as they are),
// the uniform mean over the game's steps, or an exponential moving average.
enum class ClassifierAverage { none, uniform, exponential };

inline ClassifierAverage parse_classifier_average(const std::string& name) {
  if (name == "none") return ClassifierAverage::none;
  if (name == "uniform") return ClassifierAverage::uniform;
  if (name == "exponential") return ClassifierAverage::exponential;
  fail("ADNN classifier average \"", name,
       "\" is not known; allowed: \"none\", \"uniform\", \"exponential\"");
}

struct AdnnOptions {
  // Over the game epochs; 20: with the default adversary batch, what met issue 19's bias goal on the
  // redundant analogue (docs/adnn.md).
  StrengthSchedule alpha{StrengthShape::constant, 20.0};
  Index adversary_class = 1;
  AdversaryInput adversary_input = AdversaryInput::penultimate;
  Index adversary_steps = 5;  // k
  AdnnGameStep game_step = AdnnGameStep::alternating;
  ClassifierAverage classifier_average = ClassifierAverage::none;
  double average_decay = 0.999;       // per step, for ClassifierAverage::exponential
  Index adversary_batch_size = 8192;  // A's own batch of adversary-class events (at most all of them);
                                      // 0: the classifier batch's
  Index penalty_batch_size = 0;       // C's penalty's own batch of adversary-class events; 0: the batch's
  Index pretrain_classifier_epochs = 15;
  Index pretrain_adversary_epochs = 5;
  Index game_epochs = 100;  // the alpha schedule's length
  Index batch_size = 256;
  Index reference_domain = 0;
  Index evaluation_chunk = kEvaluationChunk;

  Index warmup_epochs() const { return pretrain_classifier_epochs + pretrain_adversary_epochs; }
};

// Which layer of the classifier the adversary reads (0-based), and how wide it is.
template <class T>
std::size_t adversary_tap(const Sequential<T>& classifier, AdversaryInput input) {
  require(classifier.size() >= 2 || input == AdversaryInput::output, "ADNN: the classifier '",
          classifier.name(), "' has ", classifier.size(),
          " layer(s); reading its second-to-last layer needs at least one hidden layer");
  return input == AdversaryInput::output ? classifier.size() - 1 : classifier.size() - 2;
}
template <class T>
Index adversary_input_width(const Sequential<T>& classifier, AdversaryInput input) {
  return input == AdversaryInput::output ? classifier.output_size()
                                         : classifier.layer(adversary_tap(classifier, input)).output_size();
}

// What the adversary reads for events x, recorded on a tape: C's logits and C's layer `tap` (or its
// softmax output).
template <class T>
std::pair<Var<T>, Var<T>> adversary_reading(Tape<T>& tape, Sequential<T>& classifier, Var<T> x,
                                            AdversaryInput input) {
  if (input == AdversaryInput::output) {
    const Var<T> logits = classifier(tape, x);
    return {logits, softmax(logits)};
  }
  auto [logits, representation] = classifier.forward_tapped(tape, x, adversary_tap(classifier, input));
  return {logits, representation};
}

// The losses of one ADNN forward pass, recorded on a tape.
template <class T>
struct AdnnLosses {
  Var<T> classifier_logits;
  Var<T> adversary_input;  // of the adversary-class events only
  Var<T> adversary_logits;
  Var<T> classifier_loss;  // L(C): weighted CE over all events
  Var<T> adversary_loss;   // L(A): weighted CE of the adversary-class events' domains
  Var<T> objective;        // L(C) - alpha L(A), what step (1) minimises
  Var<T> joint;            // L(C) + L(A) behind a gradient reversal (the joint step; else empty)
};

// Records L(C), L(A) and L(C) - alpha L(A) for events x (labels, weights); the adversary reads
// rows `adversary_rows` of its input, whose domains are `domains` and weights `adversary_weights`.
// Freeze the adversary before calling it for step (1). Without `with_adversary` only L(C) is
// recorded (objective = L(C); the adversary's members stay empty). With `reversal` the adversary
// reads its input through a gradient reversal of strength alpha, and `joint` = L(C) + L(A) is
// recorded: its gradient is dL(C) - alpha dL(A) for C's weights and dL(A) for A's.
template <class T, class Rows>
AdnnLosses<T> adnn_losses(Tape<T>& tape, Sequential<T>& classifier, Sequential<T>& adversary, Var<T> x,
                          const std::vector<Index>& labels, const Vector<T>& weights,
                          const Rows& adversary_rows, const std::vector<Index>& domains,
                          const Vector<T>& adversary_weights, T alpha, AdversaryInput input,
                          bool with_adversary = true, bool reversal = false) {
  AdnnLosses<T> out;
  const auto [logits, read] = adversary_reading(tape, classifier, x, input);
  out.classifier_logits = logits;
  out.classifier_loss = categorical_cross_entropy(out.classifier_logits, labels, weights);
  out.objective = out.classifier_loss;
  if (!with_adversary) return out;
  out.adversary_input = select_rows(read, adversary_rows);
  out.adversary_logits =
      adversary(tape, reversal ? reverse_gradient(out.adversary_input, static_cast<double>(alpha))
                               : out.adversary_input);
  out.adversary_loss = categorical_cross_entropy(out.adversary_logits, domains, adversary_weights);
  out.objective = out.classifier_loss - alpha * out.adversary_loss;
  if (reversal) out.joint = out.classifier_loss + out.adversary_loss;
  return out;
}

// The batch losses of step (1): the objective (L(C) - alpha L(A); L(C) before the game), L(C), L(A).
struct AdnnStepLosses {
  double objective = 0.0, classifier_loss = 0.0, adversary_loss = 0.0;
};

template <class T>
class AdnnScheme : public train::TrainingScheme<T> {
 public:
  // Keep the networks, optimisers and data sets alive while the scheme is used. The classifier
  // outputs logits (one per class); the adversary one logit per domain. `validation` may be null.
  AdnnScheme(Sequential<T>& classifier, Sequential<T>& adversary, Optimiser<T>& classifier_optimiser,
             Optimiser<T>& adversary_optimiser, const train::Dataset<T>& train,
             const train::Dataset<T>* validation, AdnnOptions options)
      : classifier_(&classifier),
        adversary_(&adversary),
        classifier_optimiser_(&classifier_optimiser),
        adversary_optimiser_(&adversary_optimiser),
        train_(&train),
        validation_(validation && validation->rows() > 0 ? validation : nullptr),
        options_(options) {
    require(options.adversary_steps >= 1, "ADNN: adversary_steps is ", options.adversary_steps,
            "; must be >= 1");
    require(options.pretrain_classifier_epochs >= 0 && options.pretrain_adversary_epochs >= 0,
            "ADNN: pre-training epochs must be >= 0");
    require(options.game_epochs >= 1, "ADNN: game_epochs is ", options.game_epochs, "; must be >= 1");
    require(options.evaluation_chunk >= 1, "ADNN: evaluation_chunk must be >= 1");
    require(options.average_decay > 0.0 && options.average_decay < 1.0, "ADNN: average_decay is ",
            options.average_decay, "; must be in (0, 1)");
    require(options.adversary_batch_size >= 0, "ADNN: adversary_batch_size is ", options.adversary_batch_size,
            "; must be >= 0 (0: the classifier batch's adversary-class events)");
    require(options.penalty_batch_size >= 0, "ADNN: penalty_batch_size is ", options.penalty_batch_size,
            "; must be >= 0 (0: the classifier batch's adversary-class events)");
    require(classifier.output_size() >= 2, "ADNN: the classifier has ", classifier.output_size(),
            " output(s); it needs one logit per class (softmax over >= 2 classes)");
    const Index width = adversary_input_width(classifier, options.adversary_input);
    require(adversary.input_size() == width, "ADNN: the adversary takes ", adversary.input_size(),
            " inputs but the classifier's ",
            options.adversary_input == AdversaryInput::output ? "output" : "second-to-last layer", " has ",
            width);
    domains_ = adversary.output_size();
    require(domains_ >= 2, "ADNN: the adversary has ", domains_,
            " output(s); it needs one logit per domain (>= 2)");
    require(options.adversary_class >= 0 && options.adversary_class < classifier.output_size(),
            "ADNN: adversary_class is ", options.adversary_class, " but the classifier has ",
            classifier.output_size(), " classes");
    require(options.reference_domain >= 0 && options.reference_domain < domains_, "ADNN: reference domain ",
            options.reference_domain, " is not one of the adversary's ", domains_, " domains");
    check_data(train, "training set");
    if (validation_) check_data(*validation_, "validation set");

    std::vector<Index> adversary_rows, other_rows;
    for (Index i = 0; i < train.rows(); ++i)
      (train.labels[static_cast<std::size_t>(i)] == options.adversary_class ? adversary_rows : other_rows)
          .push_back(i);
    require(!adversary_rows.empty(), "ADNN: the training set has no event of adversary_class ",
            options.adversary_class);
    require(!other_rows.empty(), "ADNN: every training event is of adversary_class ", options.adversary_class,
            "; the classifier needs events of other classes");
    require(options.batch_size >= 2, "ADNN: batch size is ", options.batch_size, "; must be >= 2");
    const double a = static_cast<double>(adversary_rows.size()), o = static_cast<double>(other_rows.size());
    if (own_adversary_batch() || penalty_batch()) adversary_class_rows_ = adversary_rows;
    sampler_ =
        train::MixedBatchSampler(std::move(adversary_rows), std::move(other_rows), options.batch_size, a, o);
    const Index n_adv = sampler_.first_per_batch();
    adversary_batch_rows_.resize(static_cast<std::size_t>(n_adv));
    for (Index k = 0; k < n_adv; ++k) adversary_batch_rows_[static_cast<std::size_t>(k)] = k;
    adversary_domains_.resize(static_cast<std::size_t>(n_adv));
    adversary_weights_.resize(n_adv);
    if (options.classifier_average != ClassifierAverage::none) {
      averaged_ = classifier;
      averaged_.set_name(classifier.name() + "_average");
      raw_parameters_ = classifier.parameters();
      averaged_parameters_ = averaged_.parameters();
    }
  }

  // The trainer needs max_epochs = total_epochs() and warmup_epochs = warmup_epochs().
  Index warmup_epochs() const { return options_.warmup_epochs(); }
  Index total_epochs() const { return options_.warmup_epochs() + options_.game_epochs; }
  const AdnnOptions& options() const { return options_; }

  AdnnPhase phase_of(Index epoch) const {
    if (epoch <= options_.pretrain_classifier_epochs) return AdnnPhase::pretrain_classifier;
    if (epoch <= options_.warmup_epochs()) return AdnnPhase::pretrain_adversary;
    return AdnnPhase::game;
  }
  // Alpha of epoch `epoch` (1-based, counting the pre-training epochs): 0 before the game.
  double alpha_of(Index epoch) const {
    if (phase_of(epoch) != AdnnPhase::game) return 0.0;
    return options_.alpha.at_epoch(epoch - options_.warmup_epochs(), options_.game_epochs);
  }
  AdnnPhase phase() const { return phase_; }
  double alpha() const { return alpha_; }

  ParameterGroup<T> parameters() override {
    ParameterGroup<T> all = classifier_->parameters();
    all.add(adversary_->parameters());
    if (averaging()) all.add(averaged_parameters_);
    all.set_name("adnn");
    return all;
  }
  std::vector<Optimiser<T>*> optimisers() override { return {classifier_optimiser_, adversary_optimiser_}; }

  void start_epoch(Index epoch, Rng& rng) override {
    sampler_.start_epoch(rng);
    set_epoch(epoch);
    // A's own batches: a stream of the adversary-class rows, shuffled anew when used up, from a
    // generator seeded by the epoch's (so that an epoch is repeated exactly from a checkpoint).
    if (own_adversary_batch() || penalty_batch()) {
      adversary_rng_.reseed(rng.next());
      adversary_order_.clear();
      adversary_next_ = 0;
    }
    // Between epochs the classifier holds the averaged weights (also after the trainer restored a
    // snapshot): train on from the raw ones.
    if (averaging()) {
      swap_averaged();
      in_epoch_ = true;
    }
  }
  // Sets the phase and alpha of `epoch` without drawing batches (start_epoch does both).
  void set_epoch(Index epoch) {
    epoch_ = epoch;
    phase_ = phase_of(epoch);
    alpha_ = alpha_of(epoch);
  }
  bool averaging() const { return options_.classifier_average != ClassifierAverage::none; }
  bool own_adversary_batch() const { return options_.adversary_batch_size > 0; }
  bool penalty_batch() const { return options_.penalty_batch_size > 0; }
  // Whether this epoch's C's penalty reads the penalty batch (game epochs with penalty_batch_size).
  bool penalty_on_own_batch() const { return penalty_batch() && phase_ == AdnnPhase::game; }
  // The averaged classifier's parameters (empty without averaging). Between epochs they hold
  // the raw weights, during an epoch the average (the classifier holds the other set).
  const ParameterGroup<T>& averaged_parameters() const { return averaged_parameters_; }
  Index batches() const override { return sampler_.batches(); }

  train::StepResult step(Index b) override {
    if (own_adversary_batch() && phase_ != AdnnPhase::pretrain_classifier) record_adversary_batch();
    if (penalty_on_own_batch()) gather_penalty_batch();
    gather_batch(b);
    const bool joint = phase_ == AdnnPhase::game && options_.game_step == AdnnGameStep::gradient_reversal;
    const AdnnStepLosses l = joint ? joint_step() : classifier_step();
    if (averaging() && phase_ == AdnnPhase::game && std::isfinite(l.objective)) update_average(b);
    train::StepResult r;
    r.events = static_cast<double>(batch_.size());
    r.loss = l.objective;
    r.parts["classifier_loss"] = l.classifier_loss;
    r.parts["adversary_loss"] = l.adversary_loss;
    if (!std::isfinite(r.loss) || phase_ == AdnnPhase::pretrain_classifier) return r;
    const double adversary_loss =
        adversary_steps(joint ? options_.adversary_steps - 1 : options_.adversary_steps);
    if (!std::isfinite(adversary_loss)) r.loss = adversary_loss;  // the trainer's guard takes over
    return r;
  }

  // ---- the two steps, public so that they can be checked one at a time ----

  // Gathers batch b of the current epoch (adversary-class events first).
  void gather_batch(Index b) {
    train::gather(*train_, sampler_.batch(b), batch_);
    // Under data-parallel training this process holds its share of the adversary-class rows.
    const Index n_adv = sampler_.first_in_batch();
    if (n_adv != static_cast<Index>(adversary_batch_rows_.size())) {
      adversary_batch_rows_.resize(static_cast<std::size_t>(n_adv));
      for (Index k = 0; k < n_adv; ++k) adversary_batch_rows_[static_cast<std::size_t>(k)] = k;
      adversary_domains_.resize(static_cast<std::size_t>(n_adv));
      adversary_weights_.resize(n_adv);
    }
    for (Index k = 0; k < n_adv; ++k) {
      adversary_domains_[static_cast<std::size_t>(k)] = batch_.domains[static_cast<std::size_t>(k)];
      adversary_weights_(k) = batch_.weights(k);
    }
  }

  // Step (1) on the gathered batch: A frozen, C updated on L(C) - alpha L(A) (on L(C) alone in
  // phase 1; not updated in phase 2). Records the adversary's input for step (2). Allocates
  // nothing once warm, nor does step() around it.
  AdnnStepLosses classifier_step() {
    adversary_->freeze();
    const bool train_classifier = phase_ != AdnnPhase::pretrain_adversary;
    if (!train_classifier) classifier_->freeze();
    tape_c_.clear();
    const AdnnLosses<T> l =
        adnn_losses(tape_c_, *classifier_, *adversary_, tape_c_.input(batch_.features), batch_.labels,
                    batch_.weights, adversary_batch_rows_, adversary_domains_, adversary_weights_,
                    static_cast<T>(alpha_), options_.adversary_input);
    AdnnStepLosses r;
    Var<T> objective = l.objective;
    if (penalty_on_own_batch()) {
      const Var<T> penalty = penalty_adversary_loss(tape_c_, false);
      objective = l.classifier_loss - static_cast<T>(alpha_) * penalty;
      r.adversary_loss = static_cast<double>(penalty.item());
    } else {
      r.adversary_loss = static_cast<double>(l.adversary_loss.item());
    }
    r.objective = static_cast<double>(objective.item());
    r.classifier_loss = static_cast<double>(l.classifier_loss.item());
    adversary_input_ = l.adversary_input.value();
    if (train_classifier && std::isfinite(r.objective)) {
      tape_c_.backward(phase_ == AdnnPhase::game ? objective : l.classifier_loss);
      if (!classifier_optimiser_->try_step()) r.objective = std::nan("");
    } else if (train_classifier) {
      classifier_optimiser_->skip_step();
    }
    classifier_->unfreeze();
    adversary_->unfreeze();
    return r;
  }

  // The game step with gradient reversal on the gathered batch: one backward pass of L(C) + L(A)
  // with the adversary's input behind a reversal of strength alpha; both optimisers step (C on
  // dL(C) - alpha dL(A), A on dL(A)). Records the adversary's input for further steps of A.
  AdnnStepLosses joint_step() {
    tape_c_.clear();
    const bool penalty = penalty_on_own_batch();
    const AdnnLosses<T> l =
        adnn_losses(tape_c_, *classifier_, *adversary_, tape_c_.input(batch_.features), batch_.labels,
                    batch_.weights, adversary_batch_rows_, adversary_domains_, adversary_weights_,
                    static_cast<T>(alpha_), options_.adversary_input, true, /*reversal=*/!penalty);
    AdnnStepLosses r;
    Var<T> joint = l.joint, adversary_loss = l.adversary_loss;
    if (penalty) {  // A's joint step on the penalty batch; its further steps read the batch's events
      adversary_loss = penalty_adversary_loss(tape_c_, /*reversal=*/true);
      joint = l.classifier_loss + adversary_loss;
    }
    adversary_input_ = l.adversary_input.value();
    r.adversary_loss = static_cast<double>(adversary_loss.item());
    r.classifier_loss = static_cast<double>(l.classifier_loss.item());
    r.objective =
        penalty ? r.classifier_loss - alpha_ * r.adversary_loss : static_cast<double>(l.objective.item());
    if (std::isfinite(r.objective)) {
      tape_c_.backward(joint);
      const bool classifier_ok = classifier_optimiser_->try_step();
      const bool adversary_ok = adversary_optimiser_->try_step();
      if (!classifier_ok || !adversary_ok) r.objective = std::nan("");
    } else {
      classifier_optimiser_->skip_step();
      adversary_optimiser_->skip_step();
    }
    return r;
  }

  // A's own batch (adversary_batch_size > 0): draws the next adversary_batch_size adversary-class
  // events and records what A reads of them at the classifier's current weights, for step (2).
  // Under data-parallel training each process takes its share of them.
  void record_adversary_batch() {
    draw_adversary_class(static_cast<std::size_t>(options_.adversary_batch_size), adversary_draw_);
    const BatchShard saved = batch_shard();
    train::gather(*train_, train::shard_rows(adversary_draw_, adversary_shard_), own_batch_);
    own_shard_ = batch_shard();
    batch_shard() = saved;
    const Index rows = own_batch_.features.rows();
    own_domains_.resize(static_cast<std::size_t>(rows));
    for (Index k = 0; k < rows; ++k)
      own_domains_[static_cast<std::size_t>(k)] = own_batch_.domains[static_cast<std::size_t>(k)];
    classifier_->freeze();
    adversary_->freeze();
    tape_r_.clear();
    own_input_ =
        adversary_reading(tape_r_, *classifier_, tape_r_.input(own_batch_.features), options_.adversary_input)
            .second.value();
    classifier_->unfreeze();
    adversary_->unfreeze();
  }

  // The penalty batch (penalty_batch_size > 0, game epochs): draws the next penalty_batch_size
  // adversary-class events from the stream A's own batches draw from. Not under data-parallel
  // training (its share of the gradient sum would mix two batches' fractions).
  void gather_penalty_batch() {
    require(!batch_shard().shared(), "ADNN: penalty_batch_size ", options_.penalty_batch_size,
            " is not supported under data-parallel training; set it to 0 there");
    draw_adversary_class(static_cast<std::size_t>(options_.penalty_batch_size), penalty_draw_);
    train::gather(*train_, penalty_draw_, penalty_batch_);
    const Index rows = penalty_batch_.features.rows();
    penalty_domains_.resize(static_cast<std::size_t>(rows));
    for (Index k = 0; k < rows; ++k)
      penalty_domains_[static_cast<std::size_t>(k)] = penalty_batch_.domains[static_cast<std::size_t>(k)];
  }
  // L(A) on the penalty batch at C's current weights, recorded on `tape` (A frozen unless `reversal`:
  // then A reads C's layer through a gradient reversal of strength alpha, as in joint_step()).
  Var<T> penalty_adversary_loss(Tape<T>& tape, bool reversal) {
    const Var<T> read =
        adversary_reading(tape, *classifier_, tape.input(penalty_batch_.features), options_.adversary_input)
            .second;
    const Var<T> logits = (*adversary_)(tape, reversal ? reverse_gradient(read, alpha_) : read);
    return categorical_cross_entropy(logits, penalty_domains_, penalty_batch_.weights);
  }
  // The next n adversary-class rows of the stream (shuffled anew when used up) into `out`; every
  // adversary-class row, once and in the training set's order, when there are no more than n (the
  // stream is not read: a batch never holds an event twice).
  void draw_adversary_class(std::size_t n, std::vector<Index>& out) {
    if (n >= adversary_class_rows_.size()) {
      out = adversary_class_rows_;
      return;
    }
    out.resize(n);
    for (std::size_t k = 0; k < n; ++k) {
      if (adversary_next_ == adversary_order_.size()) {
        adversary_order_ = adversary_class_rows_;
        train::shuffle(adversary_order_, adversary_rng_);
        adversary_next_ = 0;
      }
      out[k] = adversary_order_[adversary_next_++];
    }
  }

  // Step (2): k steps of A on L(A) of the batch's adversary-class events, reading the input
  // recorded by classifier_step() (C is not on this tape: its weights cannot change); with an
  // adversary batch, on that batch, read by record_adversary_batch(). Returns the mean L(A) over
  // the k steps (NaN if one was not finite; A then keeps its last finite state).
  double adversary_steps() { return adversary_steps(options_.adversary_steps); }
  // `count` such steps (0: none, returns 0).
  double adversary_steps(Index count) {
    if (count == 0) return 0.0;
    const bool own = own_adversary_batch();
    const Matrix<T>& input = own ? own_input_ : adversary_input_;
    const std::vector<Index>& domains = own ? own_domains_ : adversary_domains_;
    const Vector<T>& weights = own ? own_batch_.weights : adversary_weights_;
    if (own) batch_shard() = own_shard_;  // the share of A's batch in the data-parallel gradient sum
    double sum = 0.0;
    for (Index s = 0; s < count; ++s) {
      tape_a_.clear();
      const Var<T> loss =
          categorical_cross_entropy((*adversary_)(tape_a_, tape_a_.input(input)), domains, weights);
      const double value = static_cast<double>(loss.item());
      if (!std::isfinite(value)) {
        adversary_optimiser_->skip_step();
        return value;
      }
      tape_a_.backward(loss);
      if (!adversary_optimiser_->try_step()) return std::nan("");
      sum += value;
    }
    return sum / static_cast<double>(count);
  }

  train::Figures evaluate() override {
    if (averaging() && in_epoch_) {
      // Before the game the average is the classifier itself.
      if (phase_ != AdnnPhase::game)
        for (std::size_t i = 0; i < raw_parameters_.size(); ++i)
          averaged_parameters_[i].value = raw_parameters_[i].value;
      swap_averaged();
      in_epoch_ = false;
    }
    const train::Dataset<T>& data = validation_ ? *validation_ : *train_;
    const std::string prefix = validation_ ? "validation_" : "training_set_";
    const Evaluation e = evaluation(data);
    train::Figures f;
    if (validation_) {
      f["validation_loss"] = e.classifier_loss;
      f["validation_objective"] = e.classifier_loss - alpha_ * e.adversary_loss;
    }
    f[prefix + "classifier_loss"] = e.classifier_loss;
    f[prefix + "adversary_loss"] = e.adversary_loss;
    f[prefix + "accuracy"] = e.accuracy;
    f["adversary_accuracy"] = e.adversary_accuracy;
    if (!std::isnan(e.mean_ks)) f["mean_ks"] = e.mean_ks;
    f["alpha"] = alpha_;
    f["phase"] = static_cast<double>(static_cast<int>(phase_));
    return f;
  }

  // The figures of evaluate() on any data set with the same columns.
  struct Evaluation {
    double classifier_loss = 0.0, adversary_loss = 0.0, accuracy = 0.0, adversary_accuracy = 0.0;
    double mean_ks = std::nan("");     // NaN when fewer than two domains are present
    std::vector<double> signal_score;  // the classifier's adversary_class probability, adversary-class events
    std::vector<Index> signal_domain;
  };
  Evaluation evaluation(const train::Dataset<T>& data) {
    Evaluation e;
    const Index n = data.rows(), c = options_.adversary_class;
    double w_all = 0.0, w_adv = 0.0;
    std::vector<Index> rows, adv_local, adv_domains;
    Vector<T> adv_w;
    // The chunk's events, and which of them (with their domains and weights) the adversary sees.
    auto input = [&](Index begin, Index end) -> const Matrix<T>& {
      rows.clear();
      adv_local.clear();
      adv_domains.clear();
      for (Index i = begin; i < end; ++i) {
        rows.push_back(i);
        if (data.labels[static_cast<std::size_t>(i)] == c) {
          adv_local.push_back(i - begin);
          adv_domains.push_back(data.domains[static_cast<std::size_t>(i)]);
        }
      }
      train::gather(data, rows, eval_batch_);
      adv_w.resize(static_cast<Index>(adv_local.size()));
      for (std::size_t k = 0; k < adv_local.size(); ++k)
        adv_w(static_cast<Index>(k)) = eval_batch_.weights(adv_local[k]);
      return eval_batch_.features;
    };
    auto losses = [&](Tape<T>& tape, Var<T> x) {
      classifier_->freeze();
      adversary_->freeze();
      return adnn_losses(tape, *classifier_, *adversary_, x, eval_batch_.labels, eval_batch_.weights,
                         adv_local, adv_domains, adv_w, T(0), options_.adversary_input,
                         /*with_adversary=*/!adv_local.empty());
    };
    evaluate_in_chunks(
        eval_tape_, n, options_.evaluation_chunk, input, losses, [&](Index, const AdnnLosses<T>& l) {
          const double wc = eval_batch_.weights.template cast<double>().sum();
          e.classifier_loss += static_cast<double>(l.classifier_loss.item()) * wc;
          w_all += wc;
          const Matrix<T>& z = l.classifier_logits.value();
          for (Index k = 0; k < z.rows(); ++k) {
            Index predicted = 0;
            z.row(k).maxCoeff(&predicted);
            if (predicted == eval_batch_.labels[static_cast<std::size_t>(k)])
              e.accuracy += static_cast<double>(eval_batch_.weights(k));
          }
          if (!adv_local.empty()) {
            const double wa = adv_w.template cast<double>().sum();
            e.adversary_loss += static_cast<double>(l.adversary_loss.item()) * wa;
            w_adv += wa;
            const Matrix<T>& domain_logits = l.adversary_logits.value();
            for (std::size_t k = 0; k < adv_local.size(); ++k) {
              Index guessed = 0;
              domain_logits.row(static_cast<Index>(k)).maxCoeff(&guessed);
              if (guessed == adv_domains[k])
                e.adversary_accuracy += static_cast<double>(adv_w(static_cast<Index>(k)));
              // The classifier's probability of adversary_class (softmax of the logits).
              const Eigen::RowVectorXd row = z.row(adv_local[k]).template cast<double>();
              const double top = row.maxCoeff();
              e.signal_score.push_back(std::exp(row(c) - top) / (row.array() - top).exp().sum());
              e.signal_domain.push_back(adv_domains[k]);
            }
          }
          classifier_->unfreeze();
          adversary_->unfreeze();
        });
    if (w_all != 0.0) {
      e.classifier_loss /= w_all;
      e.accuracy /= w_all;
    }
    if (w_adv != 0.0) {
      e.adversary_loss /= w_adv;
      e.adversary_accuracy /= w_adv;
    }
    bool reference = false, other = false;
    for (Index d : e.signal_domain) (d == options_.reference_domain ? reference : other) = true;
    if (reference && other) {
      const Eigen::Map<const Eigen::VectorXd> s(e.signal_score.data(),
                                                static_cast<Index>(e.signal_score.size()));
      Eigen::VectorXd d(static_cast<Index>(e.signal_domain.size()));
      for (std::size_t k = 0; k < e.signal_domain.size(); ++k)
        d(static_cast<Index>(k)) = static_cast<double>(e.signal_domain[k]);
      e.mean_ks = stats::average_ks_statistic(s, d, options_.reference_domain);
    }
    return e;
  }

 private:
  // After C's step b of the current game epoch: the average takes in C's weights, as the mean over
  // the game's steps so far (uniform) or with weight 1 - average_decay (exponential).
  void update_average(Index b) {
    const Index n = (epoch_ - options_.warmup_epochs() - 1) * batches() + b + 1;
    const T w = options_.classifier_average == ClassifierAverage::uniform
                    ? T(1) / static_cast<T>(std::max<Index>(n, 1))
                    : static_cast<T>(1.0 - options_.average_decay);
    for (std::size_t i = 0; i < raw_parameters_.size(); ++i) {
      Matrix<T>& average = averaged_parameters_[i].value;
      average += w * (raw_parameters_[i].value - average);
    }
  }
  void swap_averaged() {
    for (std::size_t i = 0; i < raw_parameters_.size(); ++i)
      raw_parameters_[i].value.swap(averaged_parameters_[i].value);
  }

  void check_data(const train::Dataset<T>& data, const char* what) const {
    require(data.cols() == classifier_->input_size(), "ADNN: the ", what, " has ", data.cols(),
            " features but the classifier takes ", classifier_->input_size());
    require(data.classes <= classifier_->output_size(), "ADNN: the ", what, " has ", data.classes,
            " classes but the classifier has ", classifier_->output_size(), " outputs");
    require(data.has_domains(), "ADNN: the ", what,
            " has no domains; the adversary needs the domain of every ", "event of adversary_class ",
            options_.adversary_class);
    for (std::size_t i = 0; i < data.labels.size(); ++i)
      if (data.labels[i] == options_.adversary_class)
        require(data.domains[i] < domains_, "ADNN: event ", i, " of the ", what, " has domain ",
                data.domains[i], " but the adversary has ", domains_, " outputs (domains 0 to ", domains_ - 1,
                ")");
  }

  Sequential<T>* classifier_;
  Sequential<T>* adversary_;
  Optimiser<T>* classifier_optimiser_;
  Optimiser<T>* adversary_optimiser_;
  const train::Dataset<T>* train_;
  const train::Dataset<T>* validation_;
  AdnnOptions options_;
  Index domains_ = 0;
  train::MixedBatchSampler sampler_;
  AdnnPhase phase_ = AdnnPhase::pretrain_classifier;
  Index epoch_ = 0;
  double alpha_ = 0.0;
  // Classifier averaging: a copy of the classifier whose weights are the other set (see above).
  Sequential<T> averaged_;
  ParameterGroup<T> raw_parameters_, averaged_parameters_;
  bool in_epoch_ = false;  // the classifier holds the raw weights (between start_epoch and evaluate)
  train::Batch<T> batch_, eval_batch_;
  std::vector<Index> adversary_batch_rows_, adversary_domains_;
  Vector<T> adversary_weights_;
  Matrix<T> adversary_input_;
  Tape<T> tape_c_, tape_a_, eval_tape_;
  // A's own batch (adversary_batch_size > 0): the adversary-class rows, the epoch's shuffled stream
  // of them and where it stands, this step's draw and its rows here, what A reads of them.
  std::vector<Index> adversary_class_rows_, adversary_order_, adversary_draw_, adversary_shard_, own_domains_;
  std::size_t adversary_next_ = 0;
  Rng adversary_rng_;
  train::Batch<T> own_batch_;
  BatchShard own_shard_;
  Matrix<T> own_input_;
  Tape<T> tape_r_;
  // C's penalty batch (penalty_batch_size > 0): this step's draw, its events and their domains.
  std::vector<Index> penalty_draw_, penalty_domains_;
  train::Batch<T> penalty_batch_;
};

}  // namespace agnostic::adversarial
