#pragma once
// AdamW (Loshchilov and Hutter, "Decoupled weight decay regularization"), as PyTorch's
// torch.optim.AdamW: Adam whose weight decay shrinks the parameters directly,
//   theta <- theta - lr * weight_decay * theta,
// before the Adam step, instead of being added to the gradient (where Adam's normalisation would
// rescale it). The rate lr is the scheduled one, so the decay follows the schedule. Default
// weight_decay 0.01 as in PyTorch.
#include "agnostic/core/explicit_instances.hpp"
#include "agnostic/optim/adam.hpp"

namespace agnostic {

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
  Clipping clip{};
  Schedule schedule{};
};

template <class T>
class AdamW : public Adam<T> {
 public:
  explicit AdamW(ParameterGroup<T> group, AdamWOptions options = {})
      : Adam<T>(std::move(group),
                AdamOptions{.lr = options.lr,
                            .beta1 = options.beta1,
                            .beta2 = options.beta2,
                            .eps = options.eps,
                            .l2 = 0.0,
                            .weight_decay = options.weight_decay,
                            .clip = options.clip,
                            .schedule = options.schedule},
                "adamw") {}
};

#ifdef AGNOSTIC_INSTANCE  // core/explicit_instances.hpp
AGNOSTIC_INSTANCE class AdamW<float>;
AGNOSTIC_INSTANCE class AdamW<double>;
#endif

}  // namespace agnostic
