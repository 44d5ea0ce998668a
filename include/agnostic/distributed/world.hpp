#pragma once
// distributed::world(): the communicator of every process the program was started as, in any build.
// With AGNOSTIC_MPI it is MPI_COMM_WORLD (distributed/communicator.hpp; start MPI with MpiSession
// first); without, the one-rank communicator, and nothing here includes <mpi.h>. A program that
// hands world() to the calls that share work (stats/across_ranks.hpp, stats::fit_report) runs alone
// or under mpirun without an `#ifdef AGNOSTIC_MPI` of its own.
#include "agnostic/core/communicator.hpp"
#ifdef AGNOSTIC_MPI
#include "agnostic/distributed/communicator.hpp"
#else
namespace agnostic::distributed {

inline Communicator& world() {
  return one_rank();
}

}  // namespace agnostic::distributed
#endif
