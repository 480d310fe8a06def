# Build rules shared by every Goethe target.

if(GOETHE_SANITIZER STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=address,undefined)
elseif(GOETHE_SANITIZER STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
  # ThreadSanitizer does not model std::atomic_thread_fence (GCC refuses it under -Werror=tsan).
  # Asio's fenced blocks order handler memory that its scheduler's mutex orders too: without them
  # TSan sees the ordering through that mutex.
  add_compile_definitions(BOOST_ASIO_DISABLE_FENCED_BLOCK)
elseif(NOT GOETHE_SANITIZER STREQUAL "")
  message(FATAL_ERROR "GOETHE_SANITIZER must be empty, 'address' or 'thread', not '${GOETHE_SANITIZER}'")
endif()
# Sanitizer builds exist to run the tests: -O1, as the sanitizers' documentation advises, and line
# tables only (-g1: reports still name the function, file and line) compile about 40 % faster than
# -O2 -g. Compile options follow CMAKE_CXX_FLAGS_<CONFIG> on the command line, so these win.
# (-O0 built the ASan tree in 14 min rather than about 19, but its tests then kept both cores busy,
# took 2 min longer and missed a time bound: not worth it. Only the test suites' own code is built at
# -O0 under ASan: tests/CMakeLists.txt, goethe_test.)
# RelWithDebInfo (the default) keeps line tables only as well: backtraces, perf and gdb still show
# functions, files and lines, and a file compiles in 14-33 % less time than with -g. Full debug
# info (local variables in gdb): configure with -DGOETHE_FULL_DEBUG_INFO=ON.
option(GOETHE_FULL_DEBUG_INFO "RelWithDebInfo with full debug info (-g) instead of line tables (-g1)" OFF)
if(NOT GOETHE_SANITIZER STREQUAL "")
  add_compile_options(-O1 -g1)
elseif(NOT GOETHE_FULL_DEBUG_INFO)
  add_compile_options($<$<CONFIG:RelWithDebInfo>:-g1>)
endif()

# Unity builds: each target's sources compiled a few to one translation unit, so the headers they share
# (gRPC, protobuf, CLI11, gtest) and the templates instantiated from them are compiled once per batch,
# not once per file. A clean build takes about a fifth less time (normal tree: 10.5 -> 8.0 min on 2
# cores). Editing one file recompiles its batch: configure with -DCMAKE_UNITY_BUILD=OFF for that.
# Two files of a target that define the same file-local name fail to compile once batched together
# (new files shift the batches): give the name one home in a shared header, or a name of its own.
if(NOT DEFINED CMAKE_UNITY_BUILD)
  set(CMAKE_UNITY_BUILD ON)
endif()

# Our own code builds warning-free; third-party headers come in as SYSTEM includes.
function(goethe_strict target)
  # Designated initializers that leave members at their defaults are intended, not a mistake.
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-missing-field-initializers)
endfunction()

# A backend plugin: a shared library in the build tree's plugin folder, installed beside the others,
# with every symbol resolved at link time so a missing dependency fails the build, not the load.
function(goethe_add_plugin target)
  add_library(${target} MODULE ${ARGN})
  goethe_strict(${target})
  target_link_libraries(${target} PRIVATE goethe::kv_api)
  # clang links the sanitizer runtimes into executables only, leaving a shared library's calls into
  # them for the program to resolve at load time; --no-undefined would refuse those. So clang
  # sanitizer builds (the fuzz build among them) skip the check; the other builds keep it.
  if(NOT (CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND NOT GOETHE_SANITIZER STREQUAL ""))
    target_link_options(${target} PRIVATE -Wl,--no-undefined)
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    LIBRARY_OUTPUT_DIRECTORY "${GOETHE_BUILD_PLUGIN_DIR}")
  install(TARGETS ${target} LIBRARY DESTINATION "${GOETHE_INSTALL_PLUGIN_DIR}")
endfunction()

# A static library of protoc's generated code. Never a unity build: every generated .pb.cc defines
# the same file-local tables (schemas, file_default_instances), which clash in one translation unit.
function(goethe_protobuf_library target)
  add_library(${target} STATIC ${ARGN})
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf gRPC::grpc++)
  set_target_properties(${target} PROPERTIES UNITY_BUILD OFF)
endfunction()
