// The reference for test_process_guest: a program that uses Eigen (with OpenMP, as agnostic's users
// do) and no agnostic header prints the thread counts Eigen and OpenMP start with, which a program
// that includes agnostic must print too.
#include <omp.h>

#include <Eigen/Core>
#include <cstdio>

int main() {
  std::printf("untouched eigen_threads=%d omp_max_threads=%d\n", Eigen::nbThreads(), omp_get_max_threads());
  return 0;
}
