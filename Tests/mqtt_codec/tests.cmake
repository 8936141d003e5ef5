# MQTT codec unit tests (cmocka): spec byte vectors, rejections, topics, properties.
find_library(CMOCKA_LIB cmocka)
if(NOT CMOCKA_LIB)
  message(WARNING "cmocka not found: MQTT codec tests skipped")
  return()
endif()

set(MOTE_CODEC_TEST_DIR ${PROJECT_SOURCE_DIR}/Tests/mqtt_codec)
set(MOTE_CODEC_SOURCES
  ${PROJECT_SOURCE_DIR}/CSources/mote/src/mqtt_codec.c
  ${PROJECT_SOURCE_DIR}/CSources/mote/src/mqtt_decode.c
  ${PROJECT_SOURCE_DIR}/CSources/mote/src/mqtt_props.c
  ${PROJECT_SOURCE_DIR}/CSources/mote/src/mqtt_topic.c
  ${PROJECT_SOURCE_DIR}/CSources/mote/src/mqtt_reason.c
  ${PROJECT_SOURCE_DIR}/CSources/mote/src/mqtt_utf8.c
  ${PROJECT_SOURCE_DIR}/CSources/mote/src/error.c)

# Tests against the full core library.
foreach(t packets reject topics)
  add_executable(test_mqtt_codec_${t} ${MOTE_CODEC_TEST_DIR}/test_mqtt_codec_${t}.c)
  target_link_libraries(test_mqtt_codec_${t} PRIVATE mote ${CMOCKA_LIB})
  target_compile_options(test_mqtt_codec_${t} PRIVATE ${MOTE_WARNINGS} -Wno-missing-prototypes)
  add_test(NAME mqtt_codec_${t} COMMAND test_mqtt_codec_${t})
endforeach()

# The single-version builds: the codec compiled with MQTT 5 or 3.1.1 left out must still
# build warning-free and pass the packet vectors of the version it keeps.
foreach(variant v311only v5only)
  if(variant STREQUAL v311only)
    set(defs MOTE_MQTT_V5=0 MOTE_MQTT_V311=1)
  else()
    set(defs MOTE_MQTT_V5=1 MOTE_MQTT_V311=0)
  endif()
  add_library(mote_codec_${variant} STATIC ${MOTE_CODEC_SOURCES})
  target_include_directories(mote_codec_${variant} PUBLIC ${PROJECT_SOURCE_DIR}/CSources/mote/include)
  target_compile_definitions(mote_codec_${variant} PUBLIC ${defs})
  target_compile_options(mote_codec_${variant} PRIVATE ${MOTE_WARNINGS})
  add_executable(test_mqtt_codec_packets_${variant} ${MOTE_CODEC_TEST_DIR}/test_mqtt_codec_packets.c)
  target_link_libraries(test_mqtt_codec_packets_${variant} PRIVATE mote_codec_${variant} ${CMOCKA_LIB})
  target_compile_options(test_mqtt_codec_packets_${variant} PRIVATE ${MOTE_WARNINGS} -Wno-missing-prototypes)
  add_test(NAME mqtt_codec_packets_${variant} COMMAND test_mqtt_codec_packets_${variant})
endforeach()

# The device configuration (no server-side packets, no reason names), as bare-metal builds
# get by default: it must keep compiling warning-free, for both protocol sets.
foreach(variant device device_v311only)
  set(defs MOTE_MQTT_SERVER=0 MOTE_MQTT_REASON_STRINGS=0)
  if(variant STREQUAL device_v311only)
    list(APPEND defs MOTE_MQTT_V5=0)
  endif()
  add_library(mote_codec_${variant} STATIC ${MOTE_CODEC_SOURCES})
  target_include_directories(mote_codec_${variant} PUBLIC ${PROJECT_SOURCE_DIR}/CSources/mote/include)
  target_compile_definitions(mote_codec_${variant} PUBLIC ${defs})
  target_compile_options(mote_codec_${variant} PRIVATE ${MOTE_WARNINGS})
endforeach()
