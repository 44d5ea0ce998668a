#pragma once
// The whole distributed/ module: the world communicator in any build (world.hpp: one rank without
// MPI); with AGNOSTIC_MPI, MpiCommunicator and MpiSession (docs/architecture.md, docs/distributed.md).
#include "agnostic/distributed/world.hpp"
#ifdef AGNOSTIC_MPI
#include "agnostic/distributed/communicator.hpp"
#endif
