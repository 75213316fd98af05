# cmake/install.cmake - `cmake --install`: libraries, public headers, the hamux command, the
# AOT support header and the CMake package (find_package(hamux); docs/install.md).
#
#   <prefix>/bin/hamux
#   <prefix>/include/hamux/{hamux,tensor,error,io}.h     the C++ API (JIT)
#   <prefix>/include/hamux/aot/hamux_aot.h               the C helpers of AOT kernels
#   <prefix>/lib/libhamux_*.a                            the compiler and runtime, one per stage,
#                                                        and libhamux_kernels.a (AOT --kernels library)
#   <prefix>/lib/cmake/hamux/                            hamuxConfig.cmake, version, targets
#
# Two export sets, so that AOT users need no LLVM: hamuxAotTargets (hamux::aot, hamux::cli,
# hamux::kernels) is always loaded; hamuxTargets (hamux::hamux and the stage libraries, which
# need LLVM 19, Eigen, nlohmann-json) only for the "jit" component (the default).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(HAMUX_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/hamux)
set(HAMUX_LIBRARIES hamux_support hamux_graph hamux_interp hamux_frontend hamux_passes hamux_autodiff hamux_codegen hamux_step hamux_runtime hamux_analysis)

install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/hamux DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
set_target_properties(hamux_core PROPERTIES EXPORT_NAME hamux)
install(TARGETS ${HAMUX_LIBRARIES} hamux_core EXPORT hamuxTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT hamuxTargets NAMESPACE hamux:: DESTINATION ${HAMUX_INSTALL_CMAKEDIR})

# hamux::aot: the header the kernels' own headers include (written by `hamux compile`; the
# copy the AOT example generates is installed) and libm, which the kernels call.
add_library(hamux_aot INTERFACE)
set_target_properties(hamux_aot PROPERTIES EXPORT_NAME aot)
target_include_directories(hamux_aot INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/hamux/aot>)
target_link_libraries(hamux_aot INTERFACE m)
if(TARGET hamux_aot_example)
  install(FILES ${CMAKE_BINARY_DIR}/examples/aot/kernels/hamux_aot.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/hamux/aot)
endif()
# hamux::kernels: what AOT objects compiled with `hamux compile --kernels library` call
# (the JIT's GEMM and convolution routines; needs no LLVM).
set_target_properties(hamux_kernels PROPERTIES EXPORT_NAME kernels)
set(HAMUX_AOT_EXPORTS hamux_aot hamux_kernels)
if(TARGET hamux)
  set_target_properties(hamux PROPERTIES EXPORT_NAME cli)
  list(APPEND HAMUX_AOT_EXPORTS hamux)
endif()
install(TARGETS ${HAMUX_AOT_EXPORTS} EXPORT hamuxAotTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT hamuxAotTargets NAMESPACE hamux:: DESTINATION ${HAMUX_INSTALL_CMAKEDIR})

# What the JIT libraries link besides themselves, found again by the consumer.
set(HAMUX_JIT_DEPENDENCIES "find_dependency(Eigen3 3.3 NO_MODULE)\nfind_dependency(nlohmann_json 3.9)\nfind_dependency(Threads)\n")
string(APPEND HAMUX_JIT_DEPENDENCIES "find_dependency(LLVM CONFIG PATHS \"${LLVM_DIR}\" NO_DEFAULT_PATH)\n")
if(TARGET ZLIB::ZLIB)
  string(APPEND HAMUX_JIT_DEPENDENCIES "find_dependency(ZLIB)\n")
endif()
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/hamuxConfig.cmake.in ${CMAKE_BINARY_DIR}/cmake/hamuxConfig.cmake
                              INSTALL_DESTINATION ${HAMUX_INSTALL_CMAKEDIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/cmake/hamuxConfigVersion.cmake VERSION ${PROJECT_VERSION}
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/cmake/hamuxConfig.cmake ${CMAKE_BINARY_DIR}/cmake/hamuxConfigVersion.cmake
              ${CMAKE_SOURCE_DIR}/cmake/hamuxAot.cmake
        DESTINATION ${HAMUX_INSTALL_CMAKEDIR})

# The test: install into a temporary prefix, build and run two consumer projects with
# find_package(hamux) - one on the JIT, one on an AOT object (tests/package/).
if(HAMUX_TESTS AND TARGET hamux AND TARGET hamux_aot_example)
  add_test(NAME package.InstallAndConsume
           COMMAND ${CMAKE_COMMAND} -DHAMUX_BUILD_DIR=${CMAKE_BINARY_DIR} -DHAMUX_SOURCE_DIR=${CMAKE_SOURCE_DIR}
                   -DWORK_DIR=${CMAKE_BINARY_DIR}/package-test -DCMAKE_GENERATOR=${CMAKE_GENERATOR}
                   -DCMAKE_C_COMPILER=${CMAKE_C_COMPILER} -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
                   -P ${CMAKE_SOURCE_DIR}/tests/package/install_and_consume.cmake)
  set_tests_properties(package.InstallAndConsume PROPERTIES TIMEOUT 600 RUN_SERIAL TRUE)
endif()
