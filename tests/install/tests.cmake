# tests/install, included by tests/integration/CMakeLists.txt so as to share its `env` (the
# binaries, the port base): what `cmake --install` and the .deb put in place (label install),
# and the man pages and bash completion kept in step with the programs' --help (label unit).
set(install_env ${env}
  "DHTLAB_BIN=$<TARGET_FILE:dhtlab>"
  "DHT_BUILD_DIR=${CMAKE_BINARY_DIR}")
foreach(spec install:120 deb:180)
  string(REPLACE ":" ";" spec ${spec})
  list(GET spec 0 name)
  list(GET spec 1 timeout)
  math(EXPR limit "${timeout} - 20")
  add_test(NAME install_${name} COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/${name}.sh)
  set_tests_properties(install_${name} PROPERTIES
    LABELS install TIMEOUT ${timeout} ENVIRONMENT "${install_env};DHT_IT_LIMIT=${limit}")
endforeach()

add_test(NAME manpages COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/check-manpages.sh
         ${PROJECT_SOURCE_DIR})
set_tests_properties(manpages PROPERTIES LABELS unit TIMEOUT 60 ENVIRONMENT "${install_env}")
