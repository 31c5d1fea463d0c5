# Run by ctest (cmake -P) from tests/install/CMakeLists.txt. Inputs: BUILD_DIR (the acio
# build to install), WORK_DIR (scratch, wiped first), SOURCE_DIR (this directory),
# C_COMPILER, GENERATOR. Steps: install into WORK_DIR/prefix; build hello.c with the
# flags `pkg-config --cflags --libs acio` gives; build consumer/ with find_package(acio);
# run every program and check what it prints. Any failure stops with FATAL_ERROR.
cmake_minimum_required(VERSION 3.16)

foreach(var BUILD_DIR WORK_DIR SOURCE_DIR C_COMPILER GENERATOR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "check_install.cmake: ${var} is not set")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

# run(<what> <command...>): run a command, fail the test with its output if it fails.
# The output is left in run_out for the caller.
function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
                  TIMEOUT 240)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${ARGN}\n--- stdout ---\n${out}\n--- stderr ---\n${err}")
  endif()
  set(run_out "${out}" PARENT_SCOPE)
endfunction()

# check_hello(<label> <command...>): run a built hello and check its output.
function(check_hello label)
  run("running ${label}" ${ARGN})
  if(NOT run_out MATCHES "^acio [0-9]+\\.[0-9]+\\.[0-9]+\nchild returned 42\n$")
    message(FATAL_ERROR "${label} printed unexpected output:\n${run_out}")
  endif()
  message(STATUS "${label}: ok")
endfunction()

# 1. Install.
run("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
if(NOT EXISTS ${prefix}/include/acio.h)
  message(FATAL_ERROR "acio.h was not installed under ${prefix}/include")
endif()
file(GLOB_RECURSE pc_files ${prefix}/*/acio.pc)
list(LENGTH pc_files n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "expected one installed acio.pc, found: ${pc_files}")
endif()
get_filename_component(pc_dir ${pc_files} DIRECTORY)
# The acio-crawl program is installed and runs.
if(NOT EXISTS ${prefix}/bin/acio-crawl)
  message(FATAL_ERROR "acio-crawl was not installed under ${prefix}/bin")
endif()
run("acio-crawl --version" ${prefix}/bin/acio-crawl --version)
if(NOT run_out MATCHES "^acio-crawl ")
  message(FATAL_ERROR "acio-crawl --version printed: ${run_out}")
endif()
get_filename_component(lib_dir ${pc_dir} DIRECTORY)

# 2. pkg-config. acio.pc records the prefix chosen when the build was configured, not the
# one given to `cmake --install --prefix`, so the prefix variable is overridden here.
find_program(PKG_CONFIG NAMES pkg-config pkgconf)
if(NOT PKG_CONFIG)
  message(FATAL_ERROR "pkg-config not found (apt-get install pkg-config)")
endif()
run("pkg-config" ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${pc_dir}
    ${PKG_CONFIG} --define-variable=prefix=${prefix} --cflags --libs acio)
string(STRIP "${run_out}" pc_flags)
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
message(STATUS "pkg-config --cflags --libs acio: ${pc_flags}")
if(NOT "-fstack-clash-protection" IN_LIST pc_flags)
  message(FATAL_ERROR "pkg-config's flags lack -fstack-clash-protection (docs/stacks.md)")
endif()
run("compiling hello.c with pkg-config's flags"
    ${C_COMPILER} -std=gnu11 -Wall -Wextra -Werror ${SOURCE_DIR}/hello.c ${pc_flags}
    -o ${WORK_DIR}/hello_pkgconfig)
check_hello("hello (pkg-config)" ${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${lib_dir}
            ${WORK_DIR}/hello_pkgconfig)

# 2b. The README's first program, compiled exactly as printed there, so it cannot drift
# from the API: the first ```c block after the "A first program" heading.
file(READ ${SOURCE_DIR}/../../README.md readme)
string(FIND "${readme}" "## A first program" at)
if(at LESS 0)
  message(FATAL_ERROR "README.md has no '## A first program' section")
endif()
string(SUBSTRING "${readme}" ${at} -1 readme)
string(FIND "${readme}" "```c\n" start)
if(start LESS 0)
  message(FATAL_ERROR "README.md: no ```c block after '## A first program'")
endif()
math(EXPR start "${start} + 5")
string(SUBSTRING "${readme}" ${start} -1 readme)
string(FIND "${readme}" "```" end)
string(SUBSTRING "${readme}" 0 ${end} readme_example)
file(WRITE ${WORK_DIR}/readme_example.c "${readme_example}")
run("compiling the README's example with pkg-config's flags"
    ${C_COMPILER} -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter
    ${WORK_DIR}/readme_example.c ${pc_flags} -o ${WORK_DIR}/readme_example)
run("running the README's example" ${CMAKE_COMMAND} -E env LD_LIBRARY_PATH=${lib_dir}
    ${WORK_DIR}/readme_example)
if(NOT run_out STREQUAL "Hello ...\n... World!\n")
  message(FATAL_ERROR "the README's example printed unexpected output:\n${run_out}")
endif()
message(STATUS "README example: ok")

# 3. CMake's find_package(acio) and acio::acio / acio::acio_static. The executables get
# an RPATH to the imported library, so no LD_LIBRARY_PATH here.
run("configuring the find_package consumer"
    ${CMAKE_COMMAND} -S ${SOURCE_DIR}/consumer -B ${WORK_DIR}/consumer -G ${GENERATOR}
    -DCMAKE_C_COMPILER=${C_COMPILER} -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
run("building the find_package consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
check_hello("hello (find_package, acio::acio)" ${WORK_DIR}/consumer/hello_shared)
check_hello("hello (find_package, acio::acio_static)" ${WORK_DIR}/consumer/hello_static)

file(REMOVE_RECURSE ${WORK_DIR})
