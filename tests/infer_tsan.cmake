# The trigger path (agnostic/infer.hpp) as a host program builds it: without OpenMP and without the
# agnostic CMake target (which brings OpenMP), from the include directory and the standard library
# alone (no Eigen, no nlohmann/json). Included at the end of tests/CMakeLists.txt; run as a script (cmake -P) it is the binary
# check below.
#
#   infer_threads        8 threads evaluating one network against one thread, bit for bit
#                        (tests/infer_threads.cpp), in every build (with ASan+UBSan in the sanitizer
#                        build);
#   infer_threads_tsan   the same program under clang's ThreadSanitizer, in the plain build when a
#                        clang++ that links -fsanitize=thread is installed (TSan and ASan cannot share
#                        a binary, so the sanitizer build has none); run without address-space
#                        randomisation (setarch -R), which clang 14's TSan needs on newer kernels;
#   pool_threads         agnostic's worker pool alone (core/thread_pool.hpp; tests/pool_threads.cpp):
#                        regions of 2-4 threads with one chunk per thread and with threads taking
#                        each other's chunks, each chunk run once, the serial sum; in every build and,
#                        like infer_threads, under ThreadSanitizer as pool_threads_tsan;
#   infer_trigger_path   include + load a model file + one event (tests/infer_trigger_path.cpp), whose
#                        binary must hold no OpenMP, no mallopt/setenv/execv/Eigen::setNbThreads and no
#                        static initialiser (nm and readelf, the script mode of this file; plain build).

if(CMAKE_SCRIPT_MODE_FILE)
  # cmake -DBINARY=<program> -DCHECK_INIT_ARRAY=ON|OFF -P infer_tsan.cmake
  execute_process(COMMAND nm -C ${BINARY} OUTPUT_VARIABLE symbols RESULT_VARIABLE nm_failed)
  if(nm_failed)
    message(FATAL_ERROR "nm -C ${BINARY} failed")
  endif()
  set(problems "")
  foreach(pattern "GOMP_" "omp_[a-z_]+" "mallopt" "setenv" "execv" "Eigen::setNbThreads" "_GLOBAL__sub_I")
    string(REGEX MATCHALL "[^\n]*${pattern}[^\n]*" found "${symbols}")
    if(found)
      list(APPEND problems "${found}")
    endif()
  endforeach()
  if(CHECK_INIT_ARRAY)
    # The one .init_array entry every program has is the C runtime's frame_dummy (8 bytes).
    execute_process(COMMAND readelf -S -W ${BINARY} OUTPUT_VARIABLE sections)
    string(REGEX MATCH "\\.init_array +[A-Z_]+ +[0-9a-f]+ +[0-9a-f]+ +([0-9a-f]+)" init_array "${sections}")
    math(EXPR init_entries "0x${CMAKE_MATCH_1} / 8")
    if(NOT init_entries EQUAL 1)
      list(APPEND problems ".init_array holds ${init_entries} entries, expected 1 (frame_dummy)")
    endif()
  endif()
  if(problems)
    string(REPLACE ";" "\n  " problems "${problems}")
    message(FATAL_ERROR "${BINARY} holds what the trigger path must not:\n  ${problems}")
  endif()
  message(STATUS "${BINARY}: no OpenMP, no process settings, no static initialiser")
  return()
endif()

find_package(Threads REQUIRED)
foreach(program infer_threads infer_trigger_path pool_threads)
  add_executable(${program} ${program}.cpp)
  target_include_directories(${program} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(${program} PRIVATE Threads::Threads)
  target_compile_features(${program} PRIVATE cxx_std_20)
  target_compile_options(${program} PRIVATE ${AGNOSTIC_WARNINGS})
endforeach()
# infer_threads writes its model with nlohmann/json. The trigger path gets neither Eigen's include
# directory nor nlohmann/json (its include guard defined, so the header reads as empty): it compiles
# only if infer.hpp needs neither.
target_link_libraries(infer_threads PRIVATE Eigen3::Eigen nlohmann_json::nlohmann_json)
target_compile_definitions(infer_trigger_path PRIVATE INCLUDE_NLOHMANN_JSON_HPP_)
add_test(NAME "infer: 8 threads on one network give one thread's bits" COMMAND infer_threads)
add_test(NAME "pool: each chunk once, the serial sum, chunks taken between threads" COMMAND pool_threads)
if(NOT AGNOSTIC_SANITIZE)  # the sanitizers' runtimes bring initialisers and interceptors of their own
  add_test(NAME "infer: the trigger binary has no OpenMP, no process settings, no static initialiser"
    COMMAND ${CMAKE_COMMAND} -DBINARY=$<TARGET_FILE:infer_trigger_path> -DCHECK_INIT_ARRAY=ON
            -P ${CMAKE_CURRENT_LIST_FILE})
endif()

if(NOT AGNOSTIC_SANITIZE)
  find_program(AGNOSTIC_TSAN_CXX NAMES clang++ clang++-16 clang++-15 clang++-14)
  set(tsan_usable FALSE)
  if(AGNOSTIC_TSAN_CXX)
    set(probe ${CMAKE_CURRENT_BINARY_DIR}/tsan_probe)
    file(WRITE ${probe}.cpp "#include <thread>\nint main() { std::thread t([] {}); t.join(); }\n")
    execute_process(COMMAND ${AGNOSTIC_TSAN_CXX} -fsanitize=thread ${probe}.cpp -o ${probe}
                    RESULT_VARIABLE probe_failed OUTPUT_QUIET ERROR_QUIET)
    if(NOT probe_failed)
      set(tsan_usable TRUE)
    endif()
  endif()
  if(tsan_usable)
    # Eigen's and nlohmann/json's include directories, but not the compiler's own (/usr/include),
    # which clang must keep after its C++ headers.
    set(dependency_includes "")
    foreach(target Eigen3::Eigen nlohmann_json::nlohmann_json)
      get_target_property(dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
      foreach(dir ${dirs})
        if(dir AND NOT dir STREQUAL "/usr/include" AND NOT dir STREQUAL "/usr/local/include")
          list(APPEND dependency_includes -isystem ${dir})
        endif()
      endforeach()
    endforeach()
    find_program(AGNOSTIC_SETARCH setarch)
    if(AGNOSTIC_SETARCH)
      set(no_aslr ${AGNOSTIC_SETARCH} ${CMAKE_HOST_SYSTEM_PROCESSOR} -R)
    endif()
    foreach(program infer_threads pool_threads)
      set(tsan_binary ${CMAKE_CURRENT_BINARY_DIR}/${program}_tsan)
      add_custom_command(OUTPUT ${tsan_binary}
        COMMAND ${AGNOSTIC_TSAN_CXX} -std=c++20 -O1 -g -fsanitize=thread -fno-omit-frame-pointer
                ${AGNOSTIC_WARNINGS} -I${PROJECT_SOURCE_DIR}/include ${dependency_includes}
                -MD -MF ${tsan_binary}.d ${CMAKE_CURRENT_SOURCE_DIR}/${program}.cpp -o ${tsan_binary} -pthread
        DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${program}.cpp
        DEPFILE ${tsan_binary}.d
        COMMENT "Building ${program}_tsan (clang++ -fsanitize=thread)")
      add_custom_target(${program}_tsan ALL DEPENDS ${tsan_binary})
    endforeach()
    add_test(NAME "infer: 8 threads on one network under ThreadSanitizer" COMMAND ${no_aslr}
             ${CMAKE_CURRENT_BINARY_DIR}/infer_threads_tsan)
    add_test(NAME "pool: regions of 2-4 threads under ThreadSanitizer" COMMAND ${no_aslr}
             ${CMAKE_CURRENT_BINARY_DIR}/pool_threads_tsan)
    set_tests_properties("infer: 8 threads on one network under ThreadSanitizer"
                         "pool: regions of 2-4 threads under ThreadSanitizer"
      PROPERTIES ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1:exitcode=66")
  else()
    message(STATUS "infer_threads_tsan, pool_threads_tsan: no clang++ that links -fsanitize=thread; the ThreadSanitizer tests are skipped")
  endif()
endif()
