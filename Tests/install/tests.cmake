# Consuming the core: installed package (find_package, pkg-config) and add_subdirectory.
add_test(NAME install_consumers
  COMMAND bash ${PROJECT_SOURCE_DIR}/Tests/install/check_install.sh ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
