#pragma once
// The whole optim/ module: SGD, RMSProp, Adam, AdamW, clipping, schedules and their saved state
// (docs/architecture.md).
#include "agnostic/optim/adam.hpp"
#include "agnostic/optim/adamw.hpp"
#include "agnostic/optim/optimiser.hpp"
#include "agnostic/optim/rmsprop.hpp"
#include "agnostic/optim/schedule.hpp"
#include "agnostic/optim/sgd.hpp"
#include "agnostic/optim/state_json.hpp"
