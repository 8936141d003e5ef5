# MQTT client state machine and session over a scripted transport (cmocka).
find_library(CMOCKA_LIB cmocka)
if(CMOCKA_LIB)
  add_library(mote_test_scripted STATIC ${CMAKE_CURRENT_LIST_DIR}/scripted.c)
  target_link_libraries(mote_test_scripted PUBLIC mote)
  target_include_directories(mote_test_scripted PUBLIC ${CMAKE_CURRENT_LIST_DIR})
  target_compile_options(mote_test_scripted PRIVATE ${MOTE_WARNINGS})
  # (client_broker_v5: MQTT 5 only, not built against the 3.1.1-only core below)
  foreach(name client_flows client_session client_limits client_broker_v5)
    add_executable(test_mqtt_${name} ${CMAKE_CURRENT_LIST_DIR}/test_${name}.c)
    target_link_libraries(test_mqtt_${name} PRIVATE mote_test_scripted mote ${CMOCKA_LIB})
    target_compile_options(test_mqtt_${name} PRIVATE ${MOTE_WARNINGS})
    add_test(NAME mqtt_${name} COMMAND test_mqtt_${name})
  endforeach()

  # The 3.1.1-only client (the build the footprint figures are measured on): the whole core
  # compiled with MQTT 5 left out, and the same test sources against it; their v5-only parts
  # are compiled out with #if MOTE_MQTT_V5, every 3.1.1 check still runs.
  file(GLOB MOTE_CLIENT_V311ONLY_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/CSources/mote/src/*.c)
  add_library(mote_client_v311only STATIC ${MOTE_CLIENT_V311ONLY_SOURCES})
  target_include_directories(mote_client_v311only PUBLIC ${PROJECT_SOURCE_DIR}/CSources/mote/include)
  target_compile_definitions(mote_client_v311only PUBLIC
    MOTE_MQTT_V5=0 MOTE_MQTT_V311=1
    MOTE_JSON_MAX_DEPTH=${MOTE_JSON_MAX_DEPTH}
    MOTE_MQTT_MAX_PENDING_SUBS=${MOTE_MQTT_MAX_PENDING_SUBS}
    MOTE_JSON_DOUBLE=$<BOOL:${MOTE_JSON_DOUBLE}>)
  target_compile_options(mote_client_v311only PRIVATE ${MOTE_WARNINGS})
  add_library(mote_test_scripted_v311only STATIC ${CMAKE_CURRENT_LIST_DIR}/scripted.c)
  target_link_libraries(mote_test_scripted_v311only PUBLIC mote_client_v311only)
  target_include_directories(mote_test_scripted_v311only PUBLIC ${CMAKE_CURRENT_LIST_DIR})
  target_compile_options(mote_test_scripted_v311only PRIVATE ${MOTE_WARNINGS})
  foreach(name client_flows client_session client_limits)
    add_executable(test_mqtt_${name}_v311only ${CMAKE_CURRENT_LIST_DIR}/test_${name}.c)
    target_link_libraries(test_mqtt_${name}_v311only PRIVATE
      mote_test_scripted_v311only mote_client_v311only ${CMOCKA_LIB})
    target_compile_options(test_mqtt_${name}_v311only PRIVATE ${MOTE_WARNINGS})
    add_test(NAME mqtt_${name}_v311only COMMAND test_mqtt_${name}_v311only)
  endforeach()
else()
  message(STATUS "MQTT client tests skipped: cmocka missing")
endif()
