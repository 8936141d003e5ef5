# CMake toolchain: Cortex-M4 bare metal (arm-none-eabi-gcc from Debian's gcc-arm-none-eabi,
# newlib-nano from libnewlib-arm-none-eabi). Use:
#   cmake -S examples/cortex-m4 -B build/cm4 -DCMAKE_TOOLCHAIN_FILE=$PWD/toolchain/cortex-m4.cmake
# Code is compiled for size with one section per function/object so that the firmware link
# (-Wl,--gc-sections) keeps only what is reachable. The ABI is the default soft-float one;
# a firmware with an FPU adds -mfloat-abi=hard -mfpu=fpv4-sp-d16 to MOTE_CM4_FLAGS.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_AR arm-none-eabi-ar CACHE FILEPATH "")
set(CMAKE_RANLIB arm-none-eabi-ranlib CACHE FILEPATH "")
set(CMAKE_OBJCOPY arm-none-eabi-objcopy CACHE FILEPATH "")
set(CMAKE_SIZE arm-none-eabi-size CACHE FILEPATH "")
# No OS to run a test program on: compiler checks build a static library instead.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(MOTE_CM4_FLAGS "-mcpu=cortex-m4 -mthumb" CACHE STRING "CPU/ABI flags for Cortex-M4")
set(CMAKE_C_FLAGS_INIT "${MOTE_CM4_FLAGS} -ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_MINSIZEREL_INIT "-Os -DNDEBUG")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${MOTE_CM4_FLAGS} --specs=nano.specs -Wl,--gc-sections")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
