// A library is a guest: a program that includes agnostic.hpp and never calls configure_process keeps
// its malloc settings, its environment, its Eigen and OpenMP thread counts, and is not re-executed;
// agnostic's kernels still run their products on one thread per chunk (same bits as a serial
// product) and leave the thread counts as they found them; configure_process does what
// docs/process.md says, and steps aside for what the user set. The programs checked are
// process_guest_probe (agnostic.hpp, with mallopt, setenv, execv and omp_get_thread_num wrapped
// by the linker) and process_eigen_only_probe (Eigen without agnostic), both run with a clean
// environment: the variables configure_process reads or writes are removed, OMP_NUM_THREADS=3.
#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <memory>
#include <string>

namespace {

// The variables a test run must not inherit (ctest's own configure_process sets some of them).
const char* const kCleanEnvironment =
    "env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT -u AGNOSTIC_HEAP_SETTINGS "
    "-u AGNOSTIC_CONFIGURE_PROCESS -u MALLOC_MMAP_THRESHOLD_ -u MALLOC_TRIM_THRESHOLD_ -u MALLOC_TOP_PAD_ "
    "-u MALLOC_ARENA_MAX -u GLIBC_TUNABLES OMP_NUM_THREADS=3 ";

// Standard output of `program arguments` run with the clean environment plus `extra` (VAR=value ...).
std::string run(const std::string& program, const std::string& arguments, const std::string& extra = "") {
  const std::string command = std::string(kCleanEnvironment) + extra + " '" + program + "' " + arguments;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  REQUIRE(pipe != nullptr);
  std::string out;
  std::array<char, 512> buffer{};
  while (std::fgets(buffer.data(), static_cast<int>(buffer.size()), pipe.get()) != nullptr)
    out += buffer.data();
  INFO(command);
  INFO(out);
  REQUIRE(pclose(pipe.release()) == 0);
  return out;
}

bool has_line(const std::string& out, const std::string& line) {
  return ("\n" + out).find("\n" + line + "\n") != std::string::npos;
}

// The text after `prefix` on the first line that starts with it ("" if none).
std::string line_after(const std::string& out, const std::string& prefix) {
  const auto at = ("\n" + out).find("\n" + prefix);
  if (at == std::string::npos) return "";
  const auto begin = at + prefix.size();
  return out.substr(begin, out.find('\n', begin) - begin);
}

std::size_t occurrences(const std::string& out, const std::string& text) {
  std::size_t n = 0;
  for (auto at = out.find(text); at != std::string::npos; at = out.find(text, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("guest: including agnostic.hpp changes nothing before main, Eigen's threads as without agnostic") {
  const std::string eigen_only = run(AGNOSTIC_EIGEN_ONLY_PROBE, "");
  const std::string guest = run(AGNOSTIC_GUEST_PROBE, "");
  CHECK(has_line(eigen_only, "untouched eigen_threads=3 omp_max_threads=3"));
  CHECK(has_line(guest, "before-main mallopt=0 setenv=0 execv=0"));
  CHECK(has_line(guest, "untouched eigen_threads=3 omp_max_threads=3"));
  CHECK(occurrences(guest, "execv /proc") == 0);
}

TEST_CASE("guest: a kernel runs its products on one thread and restores the thread counts") {
  const std::string guest = run(AGNOSTIC_GUEST_PROBE, "");
  // Inside the chunk Eigen sees one thread and opens no region; the result is the serial product's,
  // bit for bit; afterwards Eigen's and OpenMP's counts are 3 again; nothing was set or re-executed.
  CHECK(has_line(guest,
                 "kernel eigen_threads_inside=1 omp_thread_num_calls=0 same_bits=1 eigen_threads=3 "
                 "omp_max_threads=3 default_restored=1"));
  CHECK(has_line(guest, "after-kernel mallopt=0 setenv=0 execv=0"));
}

TEST_CASE("guest: configure_process sets the heap thresholds and Eigen's threads, and re-executes nothing") {
  const std::string out = run(AGNOSTIC_GUEST_PROBE, "configure");
  INFO(out);
  // One run: nothing before main, no re-execution, and the waiting of OpenMP's threads left as it was
  // (agnostic's own pool decides how its threads wait: core/thread_pool.hpp).
  CHECK(occurrences(out, "execv /proc") == 0);
  CHECK(occurrences(out, "before-main mallopt=0 setenv=0 execv=0") == 1);
  // glibc accepts both thresholds; a sanitizer's allocator refuses the first (ASan's mallopt returns 0),
  // then configure_process tries no second one and the heap line says glibc's defaults stay.
  const std::string heap = line_after(out, "heap ");
  const bool accepted = heap == "mmap threshold 32 MiB, trim threshold 64 MiB";
  CHECK((accepted || heap == "glibc's defaults"));
  CHECK(has_line(out, std::string("configured applied=1 ") +
                          (accepted ? "mallopt=2 mmap_threshold=33554432 trim_threshold=67108864 "
                                    : "mallopt=1 mmap_threshold=33554432 trim_threshold=-1 ") +
                          "setenv=1 execv=0 eigen_threads=1 GOMP_SPINCOUNT=unset OMP_WAIT_POLICY=unset"));
}

TEST_CASE("guest: configure_process leaves what the user set") {
  const std::string out = run(AGNOSTIC_GUEST_PROBE, "configure", "OMP_WAIT_POLICY=ACTIVE MALLOC_ARENA_MAX=4");
  CHECK(occurrences(out, "execv /proc") == 0);
  CHECK(has_line(out,
                 "configured applied=1 mallopt=0 mmap_threshold=-1 trim_threshold=-1 setenv=1 execv=0 "
                 "eigen_threads=1 GOMP_SPINCOUNT=unset OMP_WAIT_POLICY=ACTIVE"));
  CHECK(has_line(out, "heap glibc's, as the environment sets them"));
}

TEST_CASE("guest: AGNOSTIC_CONFIGURE_PROCESS=off makes configure_process do nothing") {
  const std::string out = run(AGNOSTIC_GUEST_PROBE, "configure", "AGNOSTIC_CONFIGURE_PROCESS=off");
  CHECK(occurrences(out, "execv /proc") == 0);
  CHECK(has_line(out,
                 "configured applied=0 mallopt=0 mmap_threshold=-1 trim_threshold=-1 setenv=0 execv=0 "
                 "eigen_threads=3 GOMP_SPINCOUNT=unset OMP_WAIT_POLICY=unset"));
  CHECK(has_line(out, "heap unset"));
}
