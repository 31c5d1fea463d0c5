# acio's functions whose code must be checked carry warn_unused_result (ACIO_NODISCARD in
# include/acio/common.h). Compiles tests/nodiscard/ignored.c, which drops acio_sleep()'s
# code, and expects the compiler to refuse it under -Werror=unused-result, naming the
# function; checked.c, the same code with the result looked at, must compile.
# (-fsyntax-only would not do: GCC emits this warning after parsing.)
# Usage: cmake -DCC=<compiler> -DINCLUDE=<include dir> -DDIR=<this dir> -P check.cmake
foreach(f checked ignored)
  execute_process(COMMAND ${CC} -std=gnu11 -c -o /dev/null -Wall -Werror=unused-result
                          -I${INCLUDE} ${DIR}/${f}.c
                  RESULT_VARIABLE rc_${f} ERROR_VARIABLE err_${f} OUTPUT_VARIABLE out_${f})
endforeach()
if(NOT rc_checked EQUAL 0)
  message(FATAL_ERROR "checked.c does not compile:\n${err_checked}")
endif()
if(rc_ignored EQUAL 0)
  message(FATAL_ERROR "ignored.c compiled: acio_sleep's code can be dropped without a warning")
endif()
if(NOT err_ignored MATCHES "acio_sleep" OR NOT err_ignored MATCHES "unused-result")
  message(FATAL_ERROR "ignored.c failed, but not on the dropped code:\n${err_ignored}")
endif()
message(STATUS "dropping acio_sleep()'s code is refused:\n${err_ignored}")
