# The SharedMemory example on Windows: process A writes and exits; process B then finds
# no segment, because a Windows file mapping lives only while some process holds it
# (docs/windows.md). Checks exactly that, so the documented difference cannot rot.
#   cmake -DEXAMPLE=<exe> -DWINE=<wine64> -P run_shared_memory_example_windows.cmake
string(RANDOM LENGTH 12 ALPHABET abcdefghijklmnopqrstuvwxyz0123456789 suffix)
set(name "example-${suffix}")
execute_process(COMMAND ${WINE} "${EXAMPLE}" write ${name} RESULT_VARIABLE write_rc OUTPUT_VARIABLE write_out ERROR_VARIABLE write_err)
execute_process(COMMAND ${WINE} "${EXAMPLE}" read ${name} RESULT_VARIABLE read_rc OUTPUT_VARIABLE read_out ERROR_VARIABLE read_err)
message(STATUS "process A: ${write_out}${write_err}")
message(STATUS "process B: ${read_out}${read_err}")
if(NOT write_rc EQUAL 0)
  message(FATAL_ERROR "the writing process failed (${write_rc})")
endif()
if(NOT read_rc EQUAL 1 OR NOT read_err MATCHES "not_found")
  message(FATAL_ERROR "expected process B to fail with not_found once A exited, got ${read_rc}: ${read_err}")
endif()
