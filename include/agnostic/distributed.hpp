#pragma once
// The whole distributed/ module: MPI: data-parallel training, toys and scans on ranks (only when built with AGNOSTIC_MPI) (docs/architecture.md).
#ifdef AGNOSTIC_MPI
#include "agnostic/distributed/communicator.hpp"
#include "agnostic/distributed/statistics.hpp"
#endif
