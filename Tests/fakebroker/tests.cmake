# Hostile-broker tests: a scripted fake broker (Python) feeds the mote tool malformed,
# lying, refusing and dripping servers; mote must exit non-zero with a message each time.
if(TARGET mote-cli)
  find_package(Python3 COMPONENTS Interpreter QUIET)
  if(Python3_FOUND)
    add_test(NAME fakebroker_hostile
      COMMAND ${Python3_EXECUTABLE} -m unittest -v test_hostile_broker
      WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/Tests/fakebroker)
    set_tests_properties(fakebroker_hostile PROPERTIES
      ENVIRONMENT "MOTE_BIN=${PROJECT_BINARY_DIR}/bin/mote"
      TIMEOUT 600)
  endif()
endif()
