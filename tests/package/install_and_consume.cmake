# tests/package/install_and_consume.cmake - ctest's package.InstallAndConsume (cmake -P).
#
# Installs the build in HAMUX_BUILD_DIR into a fresh prefix under WORK_DIR, then configures,
# builds and runs the two consumer projects beside this file against that prefix alone
# (CMAKE_PREFIX_PATH; the source and build trees are not on any include path).
foreach(v HAMUX_BUILD_DIR HAMUX_SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "install_and_consume.cmake needs -D${v}=...")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

step("cmake --install" ${CMAKE_COMMAND} --install ${HAMUX_BUILD_DIR} --prefix ${prefix})
foreach(f bin/hamux include/hamux/hamux.h include/hamux/aot/hamux_aot.h lib/cmake/hamux/hamuxConfig.cmake
          lib/cmake/hamux/hamuxConfigVersion.cmake)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "the install has no ${f}")
  endif()
endforeach()
# Only the public API is installed: no compiler-internal header.
file(GLOB_RECURSE headers RELATIVE ${prefix}/include ${prefix}/include/*)
list(SORT headers)
if(NOT headers STREQUAL "hamux/aot/hamux_aot.h;hamux/error.h;hamux/gradients.h;hamux/hamux.h;hamux/io.h;hamux/tensor.h;hamux/training.h")
  message(FATAL_ERROR "unexpected installed headers: ${headers}")
endif()

set(tools)
foreach(t CMAKE_GENERATOR CMAKE_C_COMPILER CMAKE_CXX_COMPILER)
  if(DEFINED ${t})
    list(APPEND tools -D${t}=${${t}})
  endif()
endforeach()
foreach(consumer jit_consumer aot_consumer)
  set(build ${WORK_DIR}/${consumer})
  step("configure ${consumer}" ${CMAKE_COMMAND} -S ${HAMUX_SOURCE_DIR}/tests/package/${consumer} -B ${build}
       -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${prefix} -DHAMUX_MODELS_DIR=${HAMUX_SOURCE_DIR}/examples/models
       ${tools})
  step("build ${consumer}" ${CMAKE_COMMAND} --build ${build} -j2)
endforeach()
step("run jit_consumer" ${WORK_DIR}/jit_consumer/jit_consumer ${HAMUX_SOURCE_DIR}/examples/models)
message(STATUS "${step_output}")
step("run aot_consumer" ${WORK_DIR}/aot_consumer/aot_consumer)
message(STATUS "${step_output}")
step("run aot_consumer_kernels" ${WORK_DIR}/aot_consumer/aot_consumer_kernels)
message(STATUS "${step_output}")
file(REMOVE_RECURSE ${WORK_DIR})
