// A program that includes all of agnostic (agnostic.hpp) the way a host framework would, linked
// with -Wl,--wrap=mallopt,--wrap=setenv,--wrap=execv,--wrap=omp_get_thread_num (tests/guest.cmake),
// so that every call this program's own code makes to those functions is counted; calls made inside
// the C library or a sanitizer's runtime are not. It prints one line per stage for
// test_process_guest, which runs it in several environments:
//   before-main   calls made during static initialisation (nothing may happen there),
//   untouched     Eigen's and OpenMP's thread counts in main before anything is called,
//   kernel        a dense layer on the tape with one chunk: the thread count Eigen sees inside the
//                 chunk, the calls to omp_get_thread_num (each thread of an OpenMP region makes one;
//                 with one chunk agnostic opens none, so any come from Eigen splitting the product),
//                 bits against a serial reference, and the thread counts afterwards,
//   configured    (with the argument "configure") what configure_process did.
// configure_process must not re-execute the program: a __wrap_execv line would show it.
#include <malloc.h>
#include <omp.h>

#include <agnostic/agnostic.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

extern "C" {
int __real_mallopt(int parameter, int value);
int __real_setenv(const char* name, const char* value, int overwrite);
int __real_execv(const char* path, char* const argv[]);
int __real_omp_get_thread_num();
}

namespace {

struct Counts {
  int mallopt = 0, setenv = 0, execv = 0, omp_get_thread_num = 0;
  int mmap_threshold = -1, trim_threshold = -1;  // the values mallopt was asked for
};
// Constant-initialised, so the counts exist before any dynamic initialiser runs.
constinit Counts counts{};

void print_counts(const char* stage) {
  std::printf("%s mallopt=%d setenv=%d execv=%d\n", stage, counts.mallopt, counts.setenv, counts.execv);
}

const char* env_or(const char* name, const char* otherwise) {
  const char* v = std::getenv(name);
  return v ? v : otherwise;
}

}  // namespace

extern "C" {
int __wrap_mallopt(int parameter, int value) {
  ++counts.mallopt;
  if (parameter == M_MMAP_THRESHOLD) counts.mmap_threshold = value;
  if (parameter == M_TRIM_THRESHOLD) counts.trim_threshold = value;
  return __real_mallopt(parameter, value);
}
int __wrap_setenv(const char* name, const char* value, int overwrite) {
  ++counts.setenv;
  return __real_setenv(name, value, overwrite);
}
int __wrap_execv(const char* path, char* const argv[]) {
  ++counts.execv;
  std::printf("execv %s GOMP_SPINCOUNT=%s OMP_WAIT_POLICY=%s\n", path, env_or("GOMP_SPINCOUNT", "unset"),
              env_or("OMP_WAIT_POLICY", "unset"));
  std::fflush(stdout);
  return __real_execv(path, argv);
}
int __wrap_omp_get_thread_num() {
  ++counts.omp_get_thread_num;
  return __real_omp_get_thread_num();
}
}

int main(int argc, char** argv) {
  print_counts("before-main");
  std::printf("untouched eigen_threads=%d omp_max_threads=%d\n", Eigen::nbThreads(), omp_get_max_threads());

  // A 512 x 256 x 256 product in one chunk: large enough that Eigen would split it over every
  // OpenMP thread if it were asked outside a kernel.
  using namespace agnostic;
  set_parallel_min_work(1L << 62);
  Rng rng(3);
  MatrixF x(512, 256), w(256, 256), b(1, 256);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.normal());
  for (Index i = 0; i < w.size(); ++i) w.data()[i] = static_cast<float>(rng.normal(0.0, 0.06));
  for (Index i = 0; i < b.size(); ++i) b.data()[i] = static_cast<float>(rng.normal(0.0, 0.1));
  int seen_inside = -1;
  parallel_chunks(512, 1, [&](int, RowRange) { seen_inside = Eigen::nbThreads(); });
  const int regions_before = counts.omp_get_thread_num;
  Tape<float> tape;
  const Var<float> xv = tape.constant(x), wv = tape.constant(w), bv = tape.constant(b);
  const MatrixF y = dense(xv, wv, bv).value();
  const int regions = counts.omp_get_thread_num - regions_before;
  // The serial reference: Eigen on one thread, the kernel's own arithmetic (bias, then += X W^T).
  const int eigen_default = Eigen::nbThreads();
  Eigen::setNbThreads(1);
  MatrixF reference(512, 256);
  reference.rowwise() = b.row(0);
  reference.noalias() += x * w.transpose();
  Eigen::setNbThreads(0);  // back to Eigen's default (OpenMP's count)
  const bool same_bits = std::memcmp(y.data(), reference.data(), sizeof(float) * y.size()) == 0;
  std::printf(
      "kernel eigen_threads_inside=%d omp_thread_num_calls=%d same_bits=%d eigen_threads=%d "
      "omp_max_threads=%d default_restored=%d\n",
      seen_inside, regions, same_bits ? 1 : 0, Eigen::nbThreads(), omp_get_max_threads(),
      Eigen::nbThreads() == eigen_default ? 1 : 0);
  print_counts("after-kernel");

  if (argc > 1 && std::strcmp(argv[1], "configure") == 0) {
    const ProcessSettings s = configure_process(argc, argv);
    std::printf(
        "configured applied=%d mallopt=%d mmap_threshold=%d trim_threshold=%d setenv=%d execv=%d "
        "eigen_threads=%d GOMP_SPINCOUNT=%s OMP_WAIT_POLICY=%s\n",
        s.applied ? 1 : 0, counts.mallopt, counts.mmap_threshold, counts.trim_threshold, counts.setenv,
        counts.execv, s.eigen_threads, env_or("GOMP_SPINCOUNT", "unset"), env_or("OMP_WAIT_POLICY", "unset"));
    std::printf("heap %s\n", env_or("AGNOSTIC_HEAP_SETTINGS", "unset"));
  }
  return 0;
}
