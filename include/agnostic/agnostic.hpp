#pragma once
// Everything agnostic offers: every module header (docs/architecture.md). Each module header
// is cheaper to compile on its own; include the ones you use (docs/build-cost.md).
#include "agnostic/core.hpp"
#include "agnostic/io.hpp"
#include "agnostic/infer.hpp"
#include "agnostic/autodiff.hpp"
#include "agnostic/nn.hpp"
#include "agnostic/losses.hpp"
#include "agnostic/optim.hpp"
#include "agnostic/stats.hpp"
#include "agnostic/train.hpp"
#include "agnostic/distributed.hpp"
