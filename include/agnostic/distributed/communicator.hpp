#pragma once
// MpiCommunicator: the Communicator of core/communicator.hpp over MPI (rank and size, a deterministic
// sum over the ranks, broadcasts, a gather of variable-length results, a barrier), world() for
// MPI_COMM_WORLD, and MpiSession, which starts and ends MPI. docs/distributed.md says how to build
// and run.
//
// MPI is optional: this header needs the CMake option AGNOSTIC_MPI (which defines the macro
// AGNOSTIC_MPI and links MPI); without it nothing in agnostic includes <mpi.h>, and code that asks
// distributed/world.hpp for the world gets the one-rank communicator.
//
// The sum is deterministic by construction rather than by trusting MPI_Allreduce (whose reduction
// order the MPI standard only recommends, not requires, to be fixed): the vector is cut into K
// chunks; MPI_Alltoallv sends chunk c of every rank to rank c, which adds the K pieces in rank
// order 0, 1, ..., K-1 (in double); MPI_Allgatherv gives every rank every summed chunk. The data
// movement is the reduce-scatter + all-gather of a bandwidth-optimal all-reduce: each rank sends
// and receives 2 (K-1)/K of the vector, and the bits do not depend on arrival order or timing.
// A short vector (at most kGatheredSum doubles: a loss's batch totals, a step's loss and events) is
// instead gathered whole from every rank (MPI_Allgather, ~log2 K message rounds instead of 2 (K-1))
// and added on every rank in the same rank order: the same bits, with latency the cost that
// matters for a few numbers.
#ifndef AGNOSTIC_MPI
#error "agnostic/distributed/communicator.hpp needs MPI: configure with cmake -DAGNOSTIC_MPI=ON"
#endif
#include <mpi.h>

#include <cstddef>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "agnostic/core/communicator.hpp"
#include "agnostic/core/error.hpp"
#include "agnostic/train/data_parallel.hpp"

namespace agnostic::distributed {

// Throws an Error naming the MPI call and MPI's own message when `code` is not MPI_SUCCESS.
inline void check_mpi(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  fail("MPI: ", call, " failed: ", std::string(text, static_cast<std::size_t>(length)));
}

// Starts MPI (threads funnelled: only the main thread calls MPI; OpenMP threads never do) unless
// it is already running, and finalises it at the end if it started it.
class MpiSession {
 public:
  MpiSession(int& argc, char**& argv) {
    int running = 0;
    MPI_Initialized(&running);
    if (!running) {
      int provided = 0;
      check_mpi(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      owner_ = true;
    }
  }
  ~MpiSession() {
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (owner_ && !finalised) MPI_Finalize();
  }
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

 private:
  bool owner_ = false;
};

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(MPI_Comm comm = MPI_COMM_WORLD) : comm_(comm) {
    check_mpi(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    check_mpi(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }

  // Vectors up to this length are summed by sum_gathered, longer ones by sum_in_chunks.
  static constexpr std::size_t kGatheredSum = 1024;

  // v <- the element-wise sum over the ranks of v, added in rank order (the header comment);
  // every rank must call it with a vector of the same length.
  void sum(std::span<double> v) override {
    if (v.size() <= kGatheredSum)
      sum_gathered(v);
    else
      sum_in_chunks(v);
  }

  // The sum by gathering every rank's whole vector and adding them in rank order on every rank.
  void sum_gathered(std::span<double> v) {
    if (size_ == 1) return;
    const std::size_t n = v.size();
    pieces_.resize(n * static_cast<std::size_t>(size_));
    check_mpi(MPI_Allgather(v.data(), static_cast<int>(n), MPI_DOUBLE, pieces_.data(), static_cast<int>(n),
                            MPI_DOUBLE, comm_),
              "MPI_Allgather");
    for (std::size_t i = 0; i < n; ++i) {
      double total = 0.0;
      for (int r = 0; r < size_; ++r)
        total += pieces_[static_cast<std::size_t>(r) * n + i];  // the fixed order
      v[i] = total;
    }
  }

  // The sum by reduce-scatter (each rank adds one chunk of every rank's vector) and all-gather.
  void sum_in_chunks(std::span<double> v) {
    if (size_ == 1) return;
    const long long n = static_cast<long long>(v.size());
    counts_.assign(static_cast<std::size_t>(size_), 0);
    offsets_.assign(static_cast<std::size_t>(size_), 0);
    for (int c = 0; c < size_; ++c) {
      const Share s = share_of(n, c, size_);
      counts_[static_cast<std::size_t>(c)] = static_cast<int>(s.end - s.begin);
      offsets_[static_cast<std::size_t>(c)] = static_cast<int>(s.begin);
    }
    const int mine = counts_[static_cast<std::size_t>(rank_)];
    // Rank r's piece of my chunk lands at r * mine.
    receive_counts_.assign(static_cast<std::size_t>(size_), mine);
    receive_offsets_.resize(static_cast<std::size_t>(size_));
    for (int r = 0; r < size_; ++r) receive_offsets_[static_cast<std::size_t>(r)] = r * mine;
    pieces_.resize(static_cast<std::size_t>(mine) * static_cast<std::size_t>(size_));
    check_mpi(MPI_Alltoallv(v.data(), counts_.data(), offsets_.data(), MPI_DOUBLE, pieces_.data(),
                            receive_counts_.data(), receive_offsets_.data(), MPI_DOUBLE, comm_),
              "MPI_Alltoallv");
    chunk_.assign(static_cast<std::size_t>(mine), 0.0);
    for (int r = 0; r < size_; ++r)  // the fixed order
      for (int i = 0; i < mine; ++i)
        chunk_[static_cast<std::size_t>(i)] += pieces_[static_cast<std::size_t>(r * mine + i)];
    check_mpi(MPI_Allgatherv(chunk_.data(), mine, MPI_DOUBLE, v.data(), counts_.data(), offsets_.data(),
                             MPI_DOUBLE, comm_),
              "MPI_Allgatherv");
  }

  void broadcast(std::span<double> v, int root) override {
    check_mpi(MPI_Bcast(v.data(), static_cast<int>(v.size()), MPI_DOUBLE, root, comm_), "MPI_Bcast");
  }
  void broadcast(std::string& s, int root) override {
    int length = static_cast<int>(s.size());
    check_mpi(MPI_Bcast(&length, 1, MPI_INT, root, comm_), "MPI_Bcast");
    s.resize(static_cast<std::size_t>(length));
    check_mpi(MPI_Bcast(s.data(), length, MPI_CHAR, root, comm_), "MPI_Bcast");
  }

  std::vector<double> all_gather(const std::vector<double>& mine) override {
    int length = static_cast<int>(mine.size());
    std::vector<int> lengths(static_cast<std::size_t>(size_)), offsets(static_cast<std::size_t>(size_));
    check_mpi(MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, comm_), "MPI_Allgather");
    int total = 0;
    for (int r = 0; r < size_; ++r) {
      offsets[static_cast<std::size_t>(r)] = total;
      total += lengths[static_cast<std::size_t>(r)];
    }
    std::vector<double> all(static_cast<std::size_t>(total));
    check_mpi(MPI_Allgatherv(mine.data(), length, MPI_DOUBLE, all.data(), lengths.data(), offsets.data(),
                             MPI_DOUBLE, comm_),
              "MPI_Allgatherv");
    return all;
  }

  void barrier() override { check_mpi(MPI_Barrier(comm_), "MPI_Barrier"); }

  [[noreturn]] void abort(int code) override {
    MPI_Abort(comm_, code);
    std::abort();
  }

  // What the trainer needs (train/data_parallel.hpp); keep this communicator alive while it is used.
  train::DataParallel data_parallel() {
    train::DataParallel dp;
    dp.rank = rank_;
    dp.ranks = size_;
    dp.sum = [this](std::span<double> v) { sum(v); };
    dp.barrier = [this] { barrier(); };
    return dp;
  }

 private:
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  std::vector<int> counts_, offsets_, receive_counts_, receive_offsets_;
  std::vector<double> pieces_, chunk_;
};

// MPI_COMM_WORLD, made on first use (after MpiSession has started MPI).
inline MpiCommunicator& world() {
  static MpiCommunicator w(MPI_COMM_WORLD);
  return w;
}

}  // namespace agnostic::distributed
