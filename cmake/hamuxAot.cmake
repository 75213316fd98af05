# hamuxAot.cmake - hamux_aot_compile(): AOT kernels of a model, built with the installed
# `hamux compile` (part of the hamux CMake package; docs/install.md).
#
#   hamux_aot_compile(<var> MODEL <model.json> PREFIX <name> [OUTPUT_DIR <dir>] [ARGS <more args>...])
#
# Runs `hamux compile <model.json> -o <dir> --prefix <name> <args>` when the model changes
# (default dir: ${CMAKE_CURRENT_BINARY_DIR}/hamux_aot/<name>) and sets <var> to the object
# file <dir>/<name>.o, to add to a target's sources; <var>_DIR is <dir>, which holds
# <name>.h and hamux_aot.h (add it to the target's include directories). With
# `ARGS --kernels library` the object calls the kernels library: link hamux::kernels too.
function(hamux_aot_compile var)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "MODEL;PREFIX;OUTPUT_DIR" "ARGS")
  if(NOT arg_MODEL OR NOT arg_PREFIX)
    message(FATAL_ERROR "hamux_aot_compile: MODEL and PREFIX are required")
  endif()
  if(NOT arg_OUTPUT_DIR)
    set(arg_OUTPUT_DIR ${CMAKE_CURRENT_BINARY_DIR}/hamux_aot/${arg_PREFIX})
  endif()
  get_filename_component(model ${arg_MODEL} ABSOLUTE)
  add_custom_command(
    OUTPUT ${arg_OUTPUT_DIR}/${arg_PREFIX}.o ${arg_OUTPUT_DIR}/${arg_PREFIX}.h
    COMMAND hamux::cli compile ${model} -o ${arg_OUTPUT_DIR} --prefix ${arg_PREFIX} ${arg_ARGS}
    DEPENDS ${model}
    COMMENT "hamux compile ${arg_MODEL}"
    VERBATIM)
  set(${var} ${arg_OUTPUT_DIR}/${arg_PREFIX}.o PARENT_SCOPE)
  set(${var}_DIR ${arg_OUTPUT_DIR} PARENT_SCOPE)
endfunction()
