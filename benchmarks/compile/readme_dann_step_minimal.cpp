// The README's DANN step (Clavijo et al., arXiv:2005.00568) with only the headers it uses, not the
// module headers: docs/build-cost.md compares it with readme_dann_step_modules.cpp to tell what the
// module headers cost from what the step itself compiles.
#include <agnostic/autodiff/arithmetic.hpp>
#include <agnostic/autodiff/gradient_reversal.hpp>
#include <agnostic/core/rng.hpp>
#include <agnostic/losses/categorical_cross_entropy.hpp>
#include <agnostic/nn/sequential.hpp>
#include <agnostic/optim/rmsprop.hpp>

#include "readme_dann_step.inc"
