# SocklabPackaging.cmake - CPack: a Debian package of the installed files (cpack -G DEB)
# and a source tarball (cpack --config CPackSourceConfig.cmake). Included once, at the end
# of the top-level CMakeLists.txt, after every install() rule.

set(SOCKLAB_PACKAGE_MAINTAINER "socklab developers <socklab@example.org>"
    CACHE STRING "Name <email> of whoever answers for the packages cpack builds")

find_program(SOCKLAB_DPKG_DEB dpkg-deb)
find_program(SOCKLAB_DPKG_SHLIBDEPS dpkg-shlibdeps)
mark_as_advanced(SOCKLAB_DPKG_DEB SOCKLAB_DPKG_SHLIBDEPS)

set(CPACK_PACKAGE_NAME socklab)
set(CPACK_PACKAGE_VENDOR socklab)
set(CPACK_PACKAGE_CONTACT "${SOCKLAB_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_INSTALL_DIRECTORY socklab)
set(CPACK_STRIP_FILES ON)

# Binary packages: a .deb where dpkg is at hand, a plain tarball elsewhere.
if(SOCKLAB_DPKG_DEB)
  set(CPACK_GENERATOR DEB)
else()
  set(CPACK_GENERATOR TGZ)
endif()

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${SOCKLAB_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# CPack puts the summary above this text, as Debian's two-part description wants.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "tcp-echo and udp-echo are twin echo servers and clients, one per
protocol, with the same options and the same output, so that changing
one word shows only what the protocol changes. The clients also measure
round-trip time, loss and throughput, like ping and iperf3. ladder draws
a capture as a ladder diagram, TCP beside UDP. Numbered lessons with
packet-capture labs are installed in /usr/share/socklab.")
# Captures and the lab helpers use these; the programs run without them.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS
  "tshark | tcpdump, iproute2, nftables, mininet, bridge-utils, conntrack")
if(SOCKLAB_DPKG_SHLIBDEPS)
  # let dpkg-shlibdeps work out which libc (and other libraries) the programs need
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6, libpcap0.8, libssl3, liburing2")
endif()

# The source tarball: the tree as it is, less build trees, version control and editor
# leftovers.
string(REGEX REPLACE "([][+.*()^$?|\\\\])" "\\\\\\1" socklab_src_re "${PROJECT_SOURCE_DIR}")
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_PACKAGE_FILE_NAME "socklab-${PROJECT_VERSION}")
set(CPACK_SOURCE_IGNORE_FILES
  "^${socklab_src_re}/build/"
  "^${socklab_src_re}/_CPack_Packages/"
  "/\\.git/"
  "/\\.git$"
  "/\\.cache/"
  "\\.swp$"
  "~$"
  "\\.pcapng\\.tmp$")

include(CPack)
