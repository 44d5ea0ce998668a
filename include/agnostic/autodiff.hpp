#pragma once
// The whole autodiff/ module: the tape, parameters and parameter groups, every operation with its backward
// (docs/architecture.md).
#include "agnostic/autodiff/activation.hpp"
#include "agnostic/autodiff/arithmetic.hpp"
#include "agnostic/autodiff/dense.hpp"
#include "agnostic/autodiff/elementwise.hpp"
#include "agnostic/autodiff/gradcheck.hpp"
#include "agnostic/autodiff/gradient_reversal.hpp"
#include "agnostic/autodiff/kernels.hpp"
#include "agnostic/autodiff/operand.hpp"
#include "agnostic/autodiff/parameter.hpp"
#include "agnostic/autodiff/parameter_group.hpp"
#include "agnostic/autodiff/reductions.hpp"
#include "agnostic/autodiff/soft_counts.hpp"
#include "agnostic/autodiff/soft_histogram.hpp"
#include "agnostic/autodiff/tape.hpp"
#include "agnostic/autodiff/weighted_mean.hpp"
