# CMake toolchain: arm-linux-gnueabihf (Debian cross compiler gcc-arm-linux-gnueabihf with multiarch libraries,
# e.g. libmbedtls-dev:armhf). Use:
#   cmake -S . -B build/armhf -DCMAKE_TOOLCHAIN_FILE=toolchain/armhf.cmake -DMOTE_STATIC=ON
# toolchain/cross.sh drives this for `make cross`.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(MOTE_CROSS_TRIPLE arm-linux-gnueabihf)
set(CMAKE_C_COMPILER ${MOTE_CROSS_TRIPLE}-gcc)
set(CMAKE_AR ${MOTE_CROSS_TRIPLE}-ar CACHE FILEPATH "")
set(CMAKE_RANLIB ${MOTE_CROSS_TRIPLE}-ranlib CACHE FILEPATH "")
set(CMAKE_STRIP ${MOTE_CROSS_TRIPLE}-strip CACHE FILEPATH "")
# Debian multiarch: target libraries live in /usr/lib/${MOTE_CROSS_TRIPLE}, the C library in
# /usr/${MOTE_CROSS_TRIPLE}; headers such as mbedtls/ are shared in /usr/include.
set(CMAKE_LIBRARY_ARCHITECTURE ${MOTE_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH /usr/${MOTE_CROSS_TRIPLE} /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Run target programs (try_run, tests) under qemu-user.
find_program(MOTE_QEMU qemu-arm-static)
if(MOTE_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${MOTE_QEMU})
endif()
