# Installs headers, libraries, a CMake package (find_package(Stella) -> stella::stella, the
# shared library, and stella::client, the static one) and pkg-config files (stella.pc for
# the C++ API, stella-c.pc for the C API), all relocatable: nothing installed names the
# install prefix, so the tree works wherever it is unpacked (tests/install moves it).
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/common/include/ ${PROJECT_SOURCE_DIR}/client/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(_stella_installed_libraries stella_common stella_client)
if(TARGET stella_shared)
  list(APPEND _stella_installed_libraries stella_shared)
endif()
install(TARGETS ${_stella_installed_libraries} EXPORT StellaTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT StellaTargets NAMESPACE stella:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Stella)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/StellaConfig.cmake.in
  ${PROJECT_BINARY_DIR}/StellaConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Stella)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/StellaConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/StellaConfig.cmake ${PROJECT_BINARY_DIR}/StellaConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/Stella)

# pkg-config: prefix is found from the .pc file's own place (${pcfiledir}), one ".." per
# component of <libdir>/pkgconfig, so the same file serves /usr, /opt/stella or a scratch root.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  message(FATAL_ERROR "Stella's pkg-config files need CMAKE_INSTALL_LIBDIR and CMAKE_INSTALL_INCLUDEDIR relative to the prefix")
endif()
file(RELATIVE_PATH STELLA_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" STELLA_PC_TO_PREFIX "${STELLA_PC_TO_PREFIX}")
set(STELLA_PC_PREFIX "\${pcfiledir}/${STELLA_PC_TO_PREFIX}")
foreach(pc stella stella-c)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in ${PROJECT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
