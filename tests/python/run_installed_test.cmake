# The installed module: `cmake --install` the build into a scratch prefix, MOVE the tree (so
# nothing may depend on the prefix), then import stella from it with the Python it was built
# for and pass a message through a ring (libstella.so found through the module's run path).
#   -DBUILD_DIR= -DWORK_DIR= -DPYTHON= -DPYTHON_DIR=<STELLA_PYTHON_INSTALL_DIR>
file(REMOVE_RECURSE "${WORK_DIR}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${WORK_DIR}/prefix"
                RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed: ${err}")
endif()
file(RENAME "${WORK_DIR}/prefix" "${WORK_DIR}/moved")
set(code "
import os, stella
assert stella.__file__.startswith(os.environ['EXPECTED_DIR']), stella.__file__
name = 'pyinstalled.%d' % os.getpid()
try:
    with stella.MultiWriterCircularBuffer(name, stella.Mode.CREATE, 4096) as w, stella.LockFreeBufferReader(name) as r:
        w.write_json({'installed': True})
        assert r.read_json(1) == {'installed': True}
finally:
    stella.MultiWriterCircularBuffer.remove(name)
print('stella', stella.version(), 'from', stella.__file__)
")
set(site "${WORK_DIR}/moved/${PYTHON_DIR}")
execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=LD_LIBRARY_PATH PYTHONPATH=${site} EXPECTED_DIR=${site}
                        ${PYTHON} -c "${code}"
                WORKING_DIRECTORY "${WORK_DIR}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the installed and moved module does not work:\n${out}${err}")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
