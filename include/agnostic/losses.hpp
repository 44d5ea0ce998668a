#pragma once
// The whole losses/ module: cross-entropies, the linear domain loss, MSE, the soft-histogram penalty, the
// inference-aware loss, the decorrelation penalties (DisCo, MoDe, flatness) (docs/architecture.md).
#include "agnostic/losses/binary_cross_entropy.hpp"
#include "agnostic/losses/categorical_cross_entropy.hpp"
#include "agnostic/losses/decorrelation_bins.hpp"
#include "agnostic/losses/decorrelation_disco.hpp"
#include "agnostic/losses/decorrelation_flatness.hpp"
#include "agnostic/losses/decorrelation_mode.hpp"
#include "agnostic/losses/inference_aware.hpp"
#include "agnostic/losses/linear_domain_loss.hpp"
#include "agnostic/losses/mse.hpp"
#include "agnostic/losses/soft_histogram_penalty.hpp"
