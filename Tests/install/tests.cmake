# Consuming the core: installed package (find_package, pkg-config) and add_subdirectory.
# Not in sanitizer builds: the installed archive would then carry sanitizer instrumentation
# that the plain consumer builds cannot link (the unsanitized build runs this test).
if(NOT MOTE_SANITIZE)
  add_test(NAME install_consumers
    COMMAND bash ${PROJECT_SOURCE_DIR}/Tests/install/check_install.sh ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
endif()
