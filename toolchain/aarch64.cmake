# CMake toolchain: aarch64-linux-gnu (Debian cross compiler gcc-aarch64-linux-gnu with multiarch libraries,
# e.g. libmbedtls-dev:arm64). Use:
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=toolchain/aarch64.cmake -DMOTE_STATIC=ON
# toolchain/cross.sh drives this for `make cross`.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(MOTE_CROSS_TRIPLE aarch64-linux-gnu)
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
find_program(MOTE_QEMU qemu-aarch64-static)
if(MOTE_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${MOTE_QEMU})
endif()
