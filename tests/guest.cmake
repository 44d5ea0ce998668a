# test_process_guest (a library is a guest, core/process.hpp): two small programs it runs.
#   process_guest_probe: includes agnostic.hpp; the linker sends this program's own calls to mallopt,
#     setenv, execv and omp_get_thread_num through counting wrappers (calls made inside the C
#     library or a sanitizer's runtime are not redirected, so they are not counted).
#   process_eigen_only_probe: Eigen and OpenMP without agnostic, for the thread counts a program
#     starts with.
add_executable(process_guest_probe process_guest_probe.cpp)
target_link_libraries(process_guest_probe PRIVATE agnostic::agnostic)
target_compile_options(process_guest_probe PRIVATE ${AGNOSTIC_WARNINGS})
target_link_options(process_guest_probe PRIVATE
  -Wl,--wrap=mallopt,--wrap=setenv,--wrap=execv,--wrap=omp_get_thread_num)

add_executable(process_eigen_only_probe process_eigen_only_probe.cpp)
target_link_libraries(process_eigen_only_probe PRIVATE Eigen3::Eigen OpenMP::OpenMP_CXX)
target_compile_options(process_eigen_only_probe PRIVATE ${AGNOSTIC_WARNINGS})

add_dependencies(test_process_guest process_guest_probe process_eigen_only_probe)
target_compile_definitions(test_process_guest PRIVATE
  AGNOSTIC_GUEST_PROBE="$<TARGET_FILE:process_guest_probe>"
  AGNOSTIC_EIGEN_ONLY_PROBE="$<TARGET_FILE:process_eigen_only_probe>")
