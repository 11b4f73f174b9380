# tests/install, included by tests/integration/CMakeLists.txt so as to share its `env` (the
# binaries, the port base): what `cmake --install` and the .deb put in place (label install),
# and the man pages and bash completion kept in step with the programs' --help (label unit).
# The scripts' own watchdogs (DHT_IT_LIMIT) fire 20 s before ctest's TIMEOUT.
set(install_env ${env} "DHTLAB_BIN=$<TARGET_FILE:dhtlab>" "DHT_BUILD_DIR=${CMAKE_BINARY_DIR}")
add_test(NAME install_install COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/install.sh)
add_test(NAME install_deb COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/deb.sh)
set_tests_properties(install_install PROPERTIES LABELS install TIMEOUT 120
                     ENVIRONMENT "${install_env};DHT_IT_LIMIT=100")
set_tests_properties(install_deb PROPERTIES LABELS install TIMEOUT 180
                     ENVIRONMENT "${install_env};DHT_IT_LIMIT=160")

add_test(NAME manpages COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/check-manpages.sh
         ${PROJECT_SOURCE_DIR})
set_tests_properties(manpages PROPERTIES LABELS unit TIMEOUT 60 ENVIRONMENT "${install_env}")
