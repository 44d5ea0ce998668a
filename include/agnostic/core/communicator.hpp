#pragma once
// Communicator: what agnostic needs from a group of processes that share one computation (the toys,
// CLs points and scan points of stats/across_ranks.hpp, the trials of a tune): rank and size, a
// deterministic sum, broadcasts, a gather of variable-length results, a barrier and an abort. Code
// written against it runs unchanged alone (OneRankCommunicator, one_rank()) and under mpirun
// (distributed::MpiCommunicator, in a build with AGNOSTIC_MPI; docs/distributed.md), so no caller
// needs an `#ifdef AGNOSTIC_MPI` and nothing here includes <mpi.h>.
//
// Every operation is collective: every rank calls it, in the same order, with vectors of the same
// length where a length is asked for. The sum must add the ranks' values in rank order 0, 1, ...,
// K-1 on every rank (the same bits everywhere, whatever order messages arrive in).
#include <cstddef>
#include <cstdlib>
#include <exception>
#include <span>
#include <string>
#include <vector>

#include "agnostic/core/error.hpp"

namespace agnostic {

// The part [begin, end) of n items that rank `rank` of `ranks` takes: contiguous, in rank order,
// sizes differing by at most one (so concatenating the ranks' parts gives 0..n-1 in order).
struct Share {
  long long begin = 0, end = 0;
};
inline Share share_of(long long n, int rank, int ranks) {
  return {n * rank / ranks, n * (rank + 1) / ranks};
}

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  Share share(long long n) const { return share_of(n, rank(), size()); }

  // v <- the element-wise sum over the ranks of v, added in rank order.
  virtual void sum(std::span<double> v) = 0;
  // v <- root's v on every rank.
  virtual void broadcast(std::span<double> v, int root) = 0;
  // s <- root's s on every rank (an error message, a config).
  virtual void broadcast(std::string& s, int root) = 0;
  // Every rank's `mine`, concatenated in rank order, on every rank (the lengths may differ).
  virtual std::vector<double> all_gather(const std::vector<double>& mine) = 0;
  // Waits until every rank has called it.
  virtual void barrier() = 0;
  // Ends every rank's process with `code` (after an error on one rank the others would otherwise
  // wait for it forever in the next collective operation).
  [[noreturn]] virtual void abort(int code) = 0;

 protected:
  Communicator() = default;
  Communicator(const Communicator&) = default;
  Communicator& operator=(const Communicator&) = default;
};

// A group of one process: every operation is the identity (or nothing).
class OneRankCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void sum(std::span<double>) override {}
  void broadcast(std::span<double>, int root) override { check_root(root); }
  void broadcast(std::string&, int root) override { check_root(root); }
  std::vector<double> all_gather(const std::vector<double>& mine) override { return mine; }
  void barrier() override {}
  [[noreturn]] void abort(int code) override { std::exit(code); }

 private:
  static void check_root(int root) { require(root == 0, "broadcast: root ", root, " of a one-rank group"); }
};

// The one-rank communicator of this process (the default where a communicator is optional).
inline Communicator& one_rank() {
  static OneRankCommunicator alone;
  return alone;
}

// Runs f() on every rank. If it throws on any rank, every rank throws the message of the first
// rank (in rank order) that failed, so no rank is left waiting in the next collective operation.
template <class F>
void run_collectively(Communicator& comm, F&& f) {
  std::string error;
  try {
    f();
  } catch (const std::exception& e) {
    error = e.what();
    if (error.empty()) error = "unknown error";
  } catch (...) {
    error = "unknown error";
  }
  if (comm.size() == 1) {
    if (!error.empty()) fail(error);
    return;
  }
  std::vector<double> failed(static_cast<std::size_t>(comm.size()), 0.0);
  failed[static_cast<std::size_t>(comm.rank())] = error.empty() ? 0.0 : 1.0;
  comm.sum(std::span<double>(failed));
  for (int r = 0; r < comm.size(); ++r)
    if (failed[static_cast<std::size_t>(r)] != 0.0) {
      comm.broadcast(error, r);
      fail(error);
    }
}

}  // namespace agnostic
