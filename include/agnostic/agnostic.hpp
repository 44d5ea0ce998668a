#pragma once
// Umbrella header: everything agnostic offers.
#include "agnostic/core/error.hpp"
#include "agnostic/core/matrix.hpp"
#include "agnostic/core/rng.hpp"
#include "agnostic/core/threads.hpp"
