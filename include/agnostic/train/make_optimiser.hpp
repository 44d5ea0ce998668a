#pragma once
// The optimiser a config section describes (train/config.hpp OptimiserConfig), over a parameter
// group. Methods with two networks (ADNN's classifier and adversary) call it once per network.
#include <memory>

#include "agnostic/autodiff/parameter_group.hpp"
#include "agnostic/optim/adam.hpp"
#include "agnostic/optim/adamw.hpp"
#include "agnostic/optim/optimiser.hpp"
#include "agnostic/optim/rmsprop.hpp"
#include "agnostic/optim/sgd.hpp"
#include "agnostic/train/config.hpp"

namespace agnostic::train {

template <class T>
std::unique_ptr<Optimiser<T>> make_optimiser(const OptimiserConfig& o, ParameterGroup<T> group) {
  if (o.name == "sgd")
    return std::make_unique<SGD<T>>(std::move(group), SGDOptions{.lr = o.learning_rate,
                                                                 .momentum = o.momentum,
                                                                 .dampening = 0.0,
                                                                 .nesterov = o.nesterov,
                                                                 .l2 = o.l2,
                                                                 .clip = o.clip,
                                                                 .schedule = o.schedule});
  if (o.name == "rmsprop")
    return std::make_unique<RMSProp<T>>(std::move(group), RMSPropOptions{.lr = o.learning_rate,
                                                                         .rho = o.rho,
                                                                         .eps = o.epsilon,
                                                                         .momentum = o.momentum,
                                                                         .centred = o.centred,
                                                                         .l2 = o.l2,
                                                                         .clip = o.clip,
                                                                         .schedule = o.schedule});
  if (o.name == "adamw")
    return std::make_unique<AdamW<T>>(std::move(group), AdamWOptions{.lr = o.learning_rate,
                                                                     .beta1 = o.beta1,
                                                                     .beta2 = o.beta2,
                                                                     .eps = o.epsilon,
                                                                     .weight_decay = o.weight_decay,
                                                                     .clip = o.clip,
                                                                     .schedule = o.schedule});
  require(o.name == "adam", "make_optimiser: unknown optimiser '", o.name,
          "'; allowed: sgd, rmsprop, adam, adamw");
  return std::make_unique<Adam<T>>(std::move(group), AdamOptions{.lr = o.learning_rate,
                                                                 .beta1 = o.beta1,
                                                                 .beta2 = o.beta2,
                                                                 .eps = o.epsilon,
                                                                 .l2 = o.l2,
                                                                 .weight_decay = o.weight_decay,
                                                                 .clip = o.clip,
                                                                 .schedule = o.schedule});
}

}  // namespace agnostic::train
