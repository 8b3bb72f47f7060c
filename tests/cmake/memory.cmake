# Memory tests (label "memory"): for each CPython version, a core of
# fixtures/scenario_memory.py (fragmentation, planted native leaks, a chunk
# held by a ctypes pointer, an mmapped chunk, a thread with its own arena;
# the process records mallinfo2(), sys._debugmallocstats() and
# /proc/self/maps itself just before aborting). memory.<v> compares
# `coreheap memory --json` with those figures (tests/check_memory.py states
# each rule and the bound); memory.corrupt-header.<v> and
# memory.corrupt-bin.<v> patch a copy of the core (a chunk header that leaves
# its heap; a free chunk whose bk points at itself) and expect a warning,
# partial figures and exit 5, within a timeout. Debian bookworm's
# /usr/bin/python3.11 runs the same scenario (distro.memory.bookworm-3.11).
set(CH_MEMORY_PYTHON_VERSIONS ${CH_TRUTH_PYTHON_VERSIONS} CACHE STRING
    "pyenv CPython versions the memory tests run against")
foreach(ver ${CH_MEMORY_PYTHON_VERSIONS})
  set(dir "${CMAKE_BINARY_DIR}/fixtures-memory/${ver}")
  ch_scenario_fixture(memory ${ver} ${ver} scenario_memory.py ${dir})
  set(py "${ch_py}")
  set(args --python ${py} --coreheap $<TARGET_FILE:coreheap> --core ${dir}/core.${ver} --truth ${dir}/truth.${ver}.json)
  if(Python3_Interpreter_FOUND)
    add_test(NAME memory.${ver} COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_memory.py ${args}
                                        --expect-layout dwarf --expect-arena "debug info")
    # Without libc's debug file: the built-in table for its build-id.
    add_test(NAME memory.nodebug.${ver} COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_memory.py ${args}
                                                --debug-dir ${CMAKE_BINARY_DIR}/no-debug-files --expect-layout builtin
                                                --expect-arena table)
    # Without the debug file and without the table for this build
    # (CH_GLIBC_SOURCE=scan): main_arena, mp_ and the tcache slot by shape.
    add_test(NAME memory.scan.${ver} COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_memory.py ${args}
                                             --expect-layout builtin --expect-arena "shape scan")
    add_test(NAME memory.corrupt-arena.${ver}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_memory.py ${args}
                     --corrupt arena --out ${dir}/core.${ver}.corrupt-arena)
    set_tests_properties(memory.scan.${ver} PROPERTIES ENVIRONMENT CH_GLIBC_SOURCE=scan)
    foreach(kind header bin)
      add_test(NAME memory.corrupt-${kind}.${ver}
               COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_memory.py ${args}
                       --corrupt ${kind} --out ${dir}/core.${ver}.corrupt-${kind})
    endforeach()
  else()
    set(skip sh -c "echo 'check_memory: SKIP: no Python 3 found when configuring' && exit 77")
    add_test(NAME memory.${ver} COMMAND ${skip})
    add_test(NAME memory.nodebug.${ver} COMMAND ${skip})
    add_test(NAME memory.scan.${ver} COMMAND ${skip})
    add_test(NAME memory.corrupt-arena.${ver} COMMAND ${skip})
    foreach(kind header bin)
      add_test(NAME memory.corrupt-${kind}.${ver} COMMAND ${skip})
    endforeach()
  endif()
  set_tests_properties(memory.${ver} memory.nodebug.${ver} memory.scan.${ver} memory.corrupt-arena.${ver} memory.corrupt-header.${ver} memory.corrupt-bin.${ver} PROPERTIES
    FIXTURES_REQUIRED memory.${ver} SKIP_RETURN_CODE 77 LABELS memory TIMEOUT 600)
endforeach()

# Debian's own interpreter (its libpython in the executable, separate debug
# files): the scenario under /usr/bin/python3.11 (tests/cmake/distro.cmake
# defines ch_distro_fixture and ch_distro_test; it is included before this
# file, the groups being included in name order).
if(COMMAND ch_distro_fixture AND "bookworm-3.11" IN_LIST CH_DISTRO_INTERPRETERS)
  set(fx "bookworm-3.11-memory")
  set(dir "${CMAKE_BINARY_DIR}/fixtures-distro/${fx}")
  ch_distro_fixture(bookworm-3.11 ${fx} scenario_memory.py ${dir})
  set_property(TEST distro.fixture.${fx} APPEND PROPERTY LABELS memory)
  ch_distro_test(distro.memory.bookworm-3.11 bookworm-3.11 ${dir} "distro;distro.${fx}" "distro;memory"
    ${ch_distro_py} ${CMAKE_CURRENT_SOURCE_DIR}/check_memory.py --python @PYTHON@ --coreheap @COREHEAP@
    --core ${dir}/core.${fx} --truth ${dir}/truth.${fx}.json)
  # The same core with main_arena found by shape (and show's native bytes of
  # the numpy arrays on top of it).
  ch_distro_test(distro.memory-scan.bookworm-3.11 bookworm-3.11 ${dir} "distro;distro.${fx}" "distro;memory"
    ${ch_distro_py} ${CMAKE_CURRENT_SOURCE_DIR}/check_memory.py --python @PYTHON@ --coreheap @COREHEAP@
    --core ${dir}/core.${fx} --truth ${dir}/truth.${fx}.json --expect-layout builtin --expect-arena "shape scan")
  set_tests_properties(distro.memory-scan.bookworm-3.11 PROPERTIES ENVIRONMENT CH_GLIBC_SOURCE=scan)
endif()
# Debian unstable's interpreters on their own glibc (2.43), whose libc6-dbg the
# interpreter roots do not hold: glibc's layout comes from the built-in table
# generated for that libc build, and every figure is checked as everywhere.
foreach(name ${CH_DISTRO_INTERPRETERS})
  if(NOT name MATCHES "^sid-" OR NOT COMMAND ch_distro_fixture)
    continue()
  endif()
  set(fx "${name}-memory")
  set(dir "${CMAKE_BINARY_DIR}/fixtures-distro/${fx}")
  ch_distro_fixture(${name} ${fx} scenario_memory.py ${dir})
  set_property(TEST distro.fixture.${fx} APPEND PROPERTY LABELS memory)
  ch_distro_test(distro.memory.${name} ${name} ${dir} "distro;distro.${fx}" "distro;memory"
    ${ch_distro_py} ${CMAKE_CURRENT_SOURCE_DIR}/check_memory.py --python @PYTHON@ --coreheap @COREHEAP@
    --core ${dir}/core.${fx} --truth ${dir}/truth.${fx}.json --expect-layout builtin --expect-arena table)
  # glibc 2.43 by shape: the layout from the 2.43 table, not its addresses.
  ch_distro_test(distro.memory-scan.${name} ${name} ${dir} "distro;distro.${fx}" "distro;memory"
    ${ch_distro_py} ${CMAKE_CURRENT_SOURCE_DIR}/check_memory.py --python @PYTHON@ --coreheap @COREHEAP@
    --core ${dir}/core.${fx} --truth ${dir}/truth.${fx}.json --expect-layout builtin --expect-arena "shape scan")
  set_tests_properties(distro.memory-scan.${name} PROPERTIES ENVIRONMENT CH_GLIBC_SOURCE=scan)
endforeach()

# The committed glibc tables are exactly what scripts/gen_glibc_tables.sh's
# command makes from the libc debug files on this machine (those of other
# libcs, e.g. Debian unstable's 2.43 unless CH_GLIBC_DEBUG_ROOTS names where it
# was unpacked, are listed as not checked; SKIPPED when none is here).
set(CH_GLIBC_DEBUG_ROOTS "" CACHE STRING "extra debug roots (;-separated) holding libc debug files by build-id")
add_test(NAME memory.glibc-table.regen
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/check_glibc_tables.sh $<TARGET_FILE:coreheap>
                 ${PROJECT_SOURCE_DIR}/readers/allocators/glibc_tables ${CH_GLIBC_DEBUG_ROOTS})
set_tests_properties(memory.glibc-table.regen PROPERTIES LABELS memory SKIP_RETURN_CODE 77 TIMEOUT 120)
