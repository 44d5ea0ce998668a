# agnostic_syntax_check(NAME SOURCE [FLAGS...]): a ctest test, "compiles: NAME", that checks SOURCE with
# the build's warnings under -fsyntax-only (the whole of C++'s checking and template instantiation, no
# code generation). Used for the programs that `./setup.sh test` does not build (examples/ and
# benchmarks/ with AGNOSTIC_BUILD_EXAMPLES=OFF), so that CI still fails when one of them stops
# compiling.
#
# Where clang is installed, the checks use it with agnostic.hpp precompiled once for all of them, the
# templates its inline functions use instantiated in the precompiled header
# (-fpch-instantiate-templates): each check then pays only for its own program (GCC would instantiate
# them again in every check; docs/build-cost.md). The two functions most of the studies call, compiled
# when used (train::run and stats::fit), are instantiated there too, explicitly: that took the seven
# studies' checks from 58 to 15 s of CPU, for 15 s more in the precompiled header. It holds every public header,
# so a study that forgets one of its includes is caught by the optimised build (`./setup.sh example`,
# a default build), not by this check. Without clang: the build's compiler, no precompiled header.
function(agnostic_syntax_check name source)
  if(NOT AGNOSTIC_BUILD_TESTS)
    return()
  endif()
  get_target_property(eigen_includes Eigen3::Eigen INTERFACE_INCLUDE_DIRECTORIES)
  set(flags -std=c++20 ${OpenMP_CXX_FLAGS} ${AGNOSTIC_WARNINGS} -I${PROJECT_SOURCE_DIR}/include)
  foreach(dir ${eigen_includes})
    list(APPEND flags -isystem ${dir})
  endforeach()
  find_program(AGNOSTIC_SYNTAX_CHECK_CLANG NAMES clang++ clang++-14)
  if(NOT AGNOSTIC_SYNTAX_CHECK_CLANG)
    add_test(NAME "compiles: ${name}" COMMAND ${CMAKE_CXX_COMPILER} ${flags} ${ARGN} -fsyntax-only ${source})
    return()
  endif()
  set(pch ${PROJECT_BINARY_DIR}/syntax_check/agnostic.hpp.pch)
  if(NOT TARGET agnostic_syntax_check_pch)
    file(GLOB_RECURSE headers CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/include/agnostic/*.hpp)
    set(header ${PROJECT_BINARY_DIR}/syntax_check/agnostic_instantiated.hpp)
    # file(CONFIGURE) rewrites it only when its text changes: a new time stamp at every configure made
    # the precompiled header stale for the checks of a build that did not rebuild it.
    file(CONFIGURE OUTPUT ${header} @ONLY CONTENT [[#include "agnostic/agnostic.hpp"
template agnostic::train::RunResult agnostic::train::run<void>(const agnostic::train::TrainConfig&,
                                                              const agnostic::train::RunOptions&);
template agnostic::stats::FitResult agnostic::stats::fit<void>(const agnostic::stats::BinnedLikelihood&,
                                                              const agnostic::stats::Data&,
                                                              const agnostic::stats::FitOptions&);
]])
    add_custom_command(OUTPUT ${pch}
      COMMAND ${AGNOSTIC_SYNTAX_CHECK_CLANG} ${flags} -fpch-instantiate-templates -x c++-header ${header}
              -o ${pch}
      DEPENDS ${headers} ${header}
      COMMENT "Precompiling agnostic.hpp with clang for the syntax checks of the studies")
    add_custom_target(agnostic_syntax_check_pch ALL DEPENDS ${pch})
  endif()
  add_test(NAME "compiles: ${name}"
    COMMAND ${AGNOSTIC_SYNTAX_CHECK_CLANG} ${flags} -include-pch ${pch} ${ARGN} -fsyntax-only ${source})
endfunction()
