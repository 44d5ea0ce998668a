// The README's DANN step (Clavijo et al., arXiv:2005.00568) with the module headers it needs, as
// docs/build-cost.md measures its compile cost.
#include <agnostic/autodiff.hpp>
#include <agnostic/core.hpp>
#include <agnostic/losses.hpp>
#include <agnostic/nn.hpp>
#include <agnostic/optim.hpp>

#include "readme_dann_step.inc"
