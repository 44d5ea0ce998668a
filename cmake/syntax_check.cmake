# agnostic_syntax_check(NAME SOURCE [FLAGS...]): a ctest test, "compiles: NAME", that checks SOURCE with
# the build's compiler and warnings under -fsyntax-only (the whole of C++'s checking and template
# instantiation, no code generation: about a quarter of an optimised compile). Used for the programs
# that `./setup.sh test` does not build (examples/ and benchmarks/ with AGNOSTIC_BUILD_EXAMPLES=OFF),
# so that CI still fails when one of them stops compiling.
function(agnostic_syntax_check name source)
  if(NOT AGNOSTIC_BUILD_TESTS)
    return()
  endif()
  get_target_property(eigen_includes Eigen3::Eigen INTERFACE_INCLUDE_DIRECTORIES)
  set(flags -std=c++20 ${OpenMP_CXX_FLAGS} ${AGNOSTIC_WARNINGS} -I${PROJECT_SOURCE_DIR}/include)
  foreach(dir ${eigen_includes})
    list(APPEND flags -isystem ${dir})
  endforeach()
  add_test(NAME "compiles: ${name}" COMMAND ${CMAKE_CXX_COMPILER} ${flags} ${ARGN} -fsyntax-only ${source})
endfunction()
