# JSON core tests (cmocka): grammar, paths and iteration, value reading, writer; plus the
# `mote json` command tests (Python, MOTE_BIN).
find_library(CMOCKA_LIB cmocka)
if(NOT CMOCKA_LIB)
  message(WARNING "cmocka not found: JSON unit tests skipped")
else()
  set(json_tests grammar path values)
  if(MOTE_JSON_DOUBLE)
    list(APPEND json_tests writer) # writes doubles throughout
  endif()
  foreach(t ${json_tests})
    if(EXISTS ${PROJECT_SOURCE_DIR}/Tests/json/test_json_${t}.c)
      add_executable(test_json_${t} ${PROJECT_SOURCE_DIR}/Tests/json/test_json_${t}.c)
      target_link_libraries(test_json_${t} PRIVATE mote ${CMOCKA_LIB} m)
      target_compile_options(test_json_${t} PRIVATE ${MOTE_WARNINGS} -Wno-missing-prototypes)
      add_test(NAME json_${t} COMMAND test_json_${t})
    endif()
  endforeach()
endif()

# -DMOTE_JSON_DOUBLE=0 (no double conversions): the JSON files still build warning-free and
# the grammar, path and value tests (integers, strings, literals) pass without them.
if(CMOCKA_LIB)
  file(GLOB MOTE_JSON_NODOUBLE_SOURCES ${PROJECT_SOURCE_DIR}/CSources/mote/src/json*.c
       ${PROJECT_SOURCE_DIR}/CSources/mote/src/error.c)
  add_library(mote_json_nodouble STATIC ${MOTE_JSON_NODOUBLE_SOURCES})
  target_include_directories(mote_json_nodouble PUBLIC ${PROJECT_SOURCE_DIR}/CSources/mote/include)
  target_compile_definitions(mote_json_nodouble PUBLIC MOTE_JSON_DOUBLE=0)
  target_compile_options(mote_json_nodouble PRIVATE ${MOTE_WARNINGS})
  foreach(t grammar path values)
    add_executable(test_json_${t}_nodouble ${PROJECT_SOURCE_DIR}/Tests/json/test_json_${t}.c)
    target_link_libraries(test_json_${t}_nodouble PRIVATE mote_json_nodouble ${CMOCKA_LIB} m)
    target_compile_options(test_json_${t}_nodouble PRIVATE ${MOTE_WARNINGS} -Wno-missing-prototypes)
    add_test(NAME json_${t}_nodouble COMMAND test_json_${t}_nodouble)
  endforeach()
endif()

find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET mote-cli)
  add_test(NAME json_cli COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/Tests/json/test_json_cli.py)
  set_tests_properties(json_cli PROPERTIES ENVIRONMENT MOTE_BIN=${PROJECT_BINARY_DIR}/bin/mote)
endif()
