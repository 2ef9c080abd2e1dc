# Installs headers, libraries, a CMake package (find_package(Stella) -> stella::client)
# and a pkg-config file (stella.pc).
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/common/include/ ${PROJECT_SOURCE_DIR}/client/include/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS stella_common stella_client EXPORT StellaTargets
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
configure_file(${PROJECT_SOURCE_DIR}/cmake/stella.pc.in ${PROJECT_BINARY_DIR}/stella.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/stella.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
