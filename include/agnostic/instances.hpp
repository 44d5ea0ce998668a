#pragma once
// The translation unit that holds agnostic's float and double instances for a program compiled with
// AGNOSTIC_EXTERN_INSTANCES (core/explicit_instances.hpp, docs/build-cost.md). Include it in exactly
// one .cpp of the program, before any other agnostic header, and compile that file with the flags of
// the rest of the program:
//
//   // agnostic_instances.cpp
//   #include <agnostic/instances.hpp>
//
// It generates every template that the headers of core, autodiff, nn, losses and optim name after
// AGNOSTIC_INSTANCE, for float and for double: the tape, the operations and their backward functions,
// the layers and Sequential, the losses and the optimisers. Not part of agnostic.hpp.
#ifdef AGNOSTIC_EXPLICIT_INSTANCES_READ
#error "agnostic/instances.hpp must come before every other agnostic header of its translation unit"
#endif
#ifndef AGNOSTIC_DEFINE_INSTANCES
#define AGNOSTIC_DEFINE_INSTANCES
#endif

#include "agnostic/autodiff.hpp"
#include "agnostic/core.hpp"
#include "agnostic/losses.hpp"
#include "agnostic/nn.hpp"
#include "agnostic/optim.hpp"
