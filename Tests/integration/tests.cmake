# Integration tests: the mote tool against a real mosquitto started on free loopback ports.
if(TARGET mote-cli)
  find_package(Python3 COMPONENTS Interpreter QUIET)
  find_program(MOSQUITTO_BIN mosquitto PATHS /usr/sbin /usr/local/sbin)
  if(Python3_FOUND AND MOSQUITTO_BIN)
    foreach(name mqtt_mosquitto slow_link sub_output)
      add_test(NAME integration_${name}
        COMMAND ${Python3_EXECUTABLE} -m unittest -v test_${name}
        WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/Tests/integration)
      set_tests_properties(integration_${name} PROPERTIES
        ENVIRONMENT "MOTE_BIN=${PROJECT_BINARY_DIR}/bin/mote;PATH=/usr/sbin:/usr/local/sbin:$ENV{PATH}"
        TIMEOUT 600)
    endforeach()
  else()
    message(STATUS "integration tests skipped: python3 or mosquitto missing")
  endif()
endif()
