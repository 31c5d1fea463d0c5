# Valgrind sees through acio's object pools (src/objpool.c): runs use_after_unref under
# memcheck in both modes and expects an "Invalid read" naming acio_future_* each time,
# with the block's history ("was alloc'd" / pool marking). Skipped when valgrind is absent.
# Usage: cmake -DVALGRIND=<valgrind> -DPROG=<use_after_unref> -P check.cmake
foreach(mode use double)
  execute_process(COMMAND ${VALGRIND} --error-exitcode=99 --leak-check=no ${PROG} ${mode}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 120)
  # 99: valgrind's own exit code after reporting; acio may also abort on its own first
  # (it checks a freed object's count and names the misuse), which still follows the report.
  if(rc EQUAL 0)
    message(FATAL_ERROR "${mode}: valgrind reported no error (exit ${rc}):\n${err}")
  endif()
  if(NOT err MATCHES "Invalid (read|write)" OR NOT err MATCHES "acio_future_")
    message(FATAL_ERROR "${mode}: not the invalid access expected:\n${err}")
  endif()
  message(STATUS "${mode}: reported")
endforeach()
