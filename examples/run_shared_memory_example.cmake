# Runs the SharedMemory example as two processes (write, then read), checks what the
# reader prints, and removes the segment whatever happened.
#   cmake -DEXAMPLE=<path> -P run_shared_memory_example.cmake
string(RANDOM LENGTH 12 ALPHABET abcdefghijklmnopqrstuvwxyz0123456789 suffix)
set(name "example-${suffix}")

execute_process(COMMAND "${EXAMPLE}" write ${name} RESULT_VARIABLE write_rc OUTPUT_VARIABLE write_out ERROR_VARIABLE write_err)
execute_process(COMMAND "${EXAMPLE}" read ${name} RESULT_VARIABLE read_rc OUTPUT_VARIABLE read_out ERROR_VARIABLE read_err)
execute_process(COMMAND "${EXAMPLE}" remove ${name} RESULT_VARIABLE remove_rc)

message(STATUS "process A: ${write_out}${write_err}")
message(STATUS "process B: ${read_out}${read_err}")
if(NOT write_rc EQUAL 0)
  message(FATAL_ERROR "the writing process failed (${write_rc})")
endif()
if(NOT read_rc EQUAL 0)
  message(FATAL_ERROR "the reading process failed (${read_rc})")
endif()
if(NOT read_out STREQUAL "Hello from Process A\n")
  message(FATAL_ERROR "the reading process printed '${read_out}', expected 'Hello from Process A'")
endif()
if(NOT remove_rc EQUAL 0)
  message(FATAL_ERROR "removing the segment failed (${remove_rc})")
endif()
