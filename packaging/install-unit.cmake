# Run at install time (cmake --install, cpack), not at configure time: --prefix and CPack
# choose the prefix after configuration, and the unit names paths under it. Like
# GNUInstallDirs, the prefix /usr takes its config from /etc, any other from PREFIX/etc.
# Set by packaging/CMakeLists.txt: DHT_UNIT_IN, DHT_UNIT_OUT, DHT_CONF_EXAMPLE, DHT_BINDIR_REL.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(DHT_SYSCONFDIR "/etc")
else()
  set(DHT_SYSCONFDIR "${CMAKE_INSTALL_PREFIX}/etc")
endif()
set(DHT_BINDIR "${CMAKE_INSTALL_PREFIX}/${DHT_BINDIR_REL}")
# One file per destination, so that two installs at once (a test's and cpack's) never swap units.
string(MD5 dest "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
set(unit "${DHT_UNIT_OUT}/unit-${dest}/dhtnode@.service")
configure_file("${DHT_UNIT_IN}" "${unit}" @ONLY)
file(INSTALL "${unit}"
     DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
file(INSTALL "${DHT_CONF_EXAMPLE}" DESTINATION "${DHT_SYSCONFDIR}/dhtnode")
