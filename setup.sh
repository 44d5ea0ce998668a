#!/usr/bin/env bash
# Installs what is missing (Debian packages), builds, and then runs either the flagship example
# or the whole test suite (plain build, then again under AddressSanitizer + UBSan with clang).
#   ./setup.sh example     ./setup.sh test     ./setup.sh fuzz (the readers' fuzzer, 20 s each)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"
what=${1:-}
[[ "$what" == example || "$what" == test || "$what" == fuzz ]] || { echo "usage: $0 example|test|fuzz" >&2; exit 2; }

packages=(cmake make g++ clang libomp-14-dev libclang-rt-14-dev libeigen3-dev nlohmann-json3-dev doctest-dev
          python3-matplotlib python3-numpy python3-onnx libopenmpi-dev openmpi-bin
          pybind11-dev python3-dev python3-pytest python3-h5py libhdf5-dev)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if ((${#missing[@]})); then
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo=sudo
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The readers' libFuzzer target (fuzz/, docs/fuzzing.md). `./setup.sh test` replays a fixed search
# (seed 1, 60,000 inputs per reader) from the committed seeds inside the clang sanitizer build
# (ctest's fuzz_<reader> tests); `./setup.sh fuzz` builds it alone and searches each reader 20 s
# from a fresh seed. New inputs go to a scratch corpus in
# the build directory, so the committed seeds stay as they are.
run_fuzzers() {
  cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ -DAGNOSTIC_FUZZ=ON \
    -DAGNOSTIC_BUILD_TESTS=OFF -DAGNOSTIC_BUILD_TOOLS=OFF >/dev/null
  cmake --build build-fuzz -j "$jobs"
  for reader in csv npy model_json workspace onnx; do
    mkdir -p "build-fuzz/corpus/$reader"
    log="build-fuzz/fuzz_$reader.log"
    if ! AGNOSTIC_FUZZ_READER=$reader build-fuzz/fuzz/fuzz_readers -max_total_time=20 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix=build-fuzz/ "build-fuzz/corpus/$reader" "fuzz/corpus/$reader" \
      >"$log" 2>&1; then
      tail -n 40 "$log"
      echo "fuzz_$reader found a failing input (saved in build-fuzz/; docs/fuzzing.md)" >&2
      exit 1
    fi
    echo "fuzz_$reader: $(grep -m1 stat::number_of_executed_units "$log")"
  done
}

jobs=$(nproc)
if [[ "$what" == fuzz ]]; then
  run_fuzzers
  exit 0
fi
# The example is built with -march=native (it runs where it is built). The test build differs from a
# user's build in four ways (docs/build-cost.md): warnings are errors; it checks that the example
# studies and agnostic-bench compile instead of building them; it optimises with -O1, not -O3 (half
# the compile time; the suite's own run takes about a minute either way); and it compiles for any
# x86-64, without -march=native, as the suite does, so that the command, the Python module and the
# test families share one compiled train::run. The test builds read HDF5
# (-DAGNOSTIC_HDF5=ON); the Python module is built wherever pybind11 is found (not in `example`,
# which builds only its two targets).
werror=OFF studies=ON release_flags="-O3 -DNDEBUG" native=ON
[[ "$what" == test ]] && werror=ON studies=OFF release_flags="-O1 -DNDEBUG" native=OFF
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="$release_flags" \
  -DCMAKE_CXX_COMPILER=g++ -DAGNOSTIC_NATIVE=$native -DAGNOSTIC_WERROR=$werror -DAGNOSTIC_BUILD_EXAMPLES=$studies \
  -DAGNOSTIC_HDF5=ON >/dev/null
if [[ "$what" == example ]]; then
  # Only what the example runs: the command and the example's event generator (not the test suite).
  cmake --build build -j "$jobs" --target agnostic_cli higgs_generate
  exec examples/higgs/run.sh build
fi
# MPI (docs/distributed.md): a small build with -DAGNOSTIC_MPI=ON that makes only test_distributed,
# run by ctest as `mpirun -n 2 --oversubscribe`. It is one translation unit, so it is compiled beside
# the plain build and its tests, at low priority (nice), where it takes the time a core would idle.
cmake -S . -B build-mpi-ci -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="$release_flags" \
  -DCMAKE_CXX_COMPILER=g++ -DAGNOSTIC_MPI=ON -DAGNOSTIC_BUILD_TOOLS=OFF -DAGNOSTIC_NATIVE=OFF -DAGNOSTIC_WERROR=ON \
  >/dev/null
nice -n 10 cmake --build build-mpi-ci -j 1 --target test_distributed >build-mpi-ci/build.log 2>&1 &
mpi_build=$!
cmake --build build -j "$jobs"
ctest --test-dir build -j "$jobs" --output-on-failure
wait "$mpi_build" || { cat build-mpi-ci/build.log; echo "the MPI build failed" >&2; exit 1; }
ctest --test-dir build-mpi-ci -R test_distributed --output-on-failure
# The same suite once more, built by clang with the sanitizers (benchmarks and examples skipped),
# plus the readers' fuzzer, 10 s per reader (fuzz/CMakeLists.txt).
cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
  -DAGNOSTIC_SANITIZE=ON -DAGNOSTIC_NATIVE=OFF -DAGNOSTIC_WERROR=ON -DAGNOSTIC_HDF5=ON >/dev/null
cmake --build build-sanitize -j "$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --test-dir build-sanitize -j "$jobs" --output-on-failure
