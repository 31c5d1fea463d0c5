# Runs one example program and fails unless its standard output equals the expected file.
execute_process(COMMAND ${PROG} OUTPUT_VARIABLE out RESULT_VARIABLE rc TIMEOUT 100)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROG} exited with ${rc}\n--- output ---\n${out}")
endif()
file(READ ${EXPECTED} want)
if(NOT out STREQUAL want)
  message(FATAL_ERROR "${PROG}: output differs\n--- expected ---\n${want}--- got ---\n${out}")
endif()
