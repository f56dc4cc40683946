# Install rules and the package config that makes
# find_package(orderly CONFIG REQUIRED) work after `cmake --install`.
include(CMakePackageConfigHelpers)

set(ORDERLY_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/orderly
    CACHE STRING "Where orderly's CMake package files are installed")

install(TARGETS orderly orderly_sqlite
    EXPORT orderlyTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/orderly
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT orderlyTargets
    NAMESPACE orderly::
    DESTINATION ${ORDERLY_CMAKE_INSTALL_DIR})

configure_package_config_file(
    ${PROJECT_SOURCE_DIR}/cmake/orderlyConfig.cmake.in
    ${PROJECT_BINARY_DIR}/orderlyConfig.cmake
    INSTALL_DESTINATION ${ORDERLY_CMAKE_INSTALL_DIR})
# 0.x: only the same minor version is compatible.
write_basic_package_version_file(
    ${PROJECT_BINARY_DIR}/orderlyConfigVersion.cmake
    COMPATIBILITY SameMinorVersion)
install(FILES
    ${PROJECT_BINARY_DIR}/orderlyConfig.cmake
    ${PROJECT_BINARY_DIR}/orderlyConfigVersion.cmake
    DESTINATION ${ORDERLY_CMAKE_INSTALL_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE
    DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/orderly)
