# ---------------------------------------------------------------------------
# Distro interpreters and separate debug info (label "distro").
#
# distro.setup (FIXTURES_SETUP distro) runs scripts/setup_interpreters.sh
# into CH_INTERPRETERS_DIR: Debian bookworm's stripped /usr/bin/python3.11
# (libpython linked into the executable) with python3.11-dbg's separate debug
# file, and Debian unstable's python3.13 + python3.13-dbg unpacked into the
# build tree and run through its own loader. It is SKIPPED (77) when an
# interpreter could not be had, and so are that interpreter's tests, each
# printing the setup's reason (tests/distro_run.sh). Downloads are cached
# there: a second run is offline and takes well under a second.
#
# For every interpreter NAME the ground-truth suite runs as for the pyenv
# builds: distro.truth.NAME-<variant> and distro.cycles.NAME-<variant> over
# fixtures/scenario_heap.py cores (the three variants of ch_truth_variants),
# distro.refs.NAME, distro.referrers.NAME, distro.stacks.NAME,
# distro.show.NAME, distro.top_path.NAME and
# distro.anomalies-clean/anomalies-leak.NAME, with
# `coreheap ... --debug-dir <the interpreter's debug root>`;
# distro.debug-source.NAME checks that `info` reports the build-id debug file
# and that a wrong file at that path is refused naming both build-ids
# (tests/check_debug_source.py).
if(TARGET test_debug_file)
  # It finds the DWARF of its own stripped copies: needs -g whatever the build type.
  target_compile_options(test_debug_file PRIVATE -g)
  set_tests_properties(unit.test_debug_file PROPERTIES SKIP_RETURN_CODE 77 LABELS "unit;distro")
endif()

set(CH_INTERPRETERS_DIR "${CMAKE_BINARY_DIR}/interpreters" CACHE PATH
    "where scripts/setup_interpreters.sh keeps the distro interpreters (shareable between build trees)")
set(CH_DISTRO_INTERPRETERS "bookworm-3.11;sid-3.13;sid-3.14;sid-3.15" CACHE STRING
    "distro interpreters the distro tests run against (names of scripts/setup_interpreters.sh)")
# Interpreters with a built-in layout table made from their -dbg files
# (scripts/gen_layouts.sh): distro.layout.* tests check it.
set(CH_DISTRO_TABLES "bookworm-3.11;sid-3.13;sid-3.14;sid-3.15" CACHE STRING
    "distro interpreters whose built-in layout tables the distro.layout tests check")

string(REPLACE ";" "," ch_distro_only "${CH_DISTRO_INTERPRETERS}")
add_test(NAME distro.setup
         COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/setup_interpreters.sh --only ${ch_distro_only}
                 ${CH_INTERPRETERS_DIR})
# Not RUN_SERIAL: the first run is mostly a download (about a minute) that
# leaves the CPUs free for the tests that need no distro interpreter; it
# touches the system only to install python3.11-dbg when missing, which
# scripts/install_deps.sh installs beforehand.
set_tests_properties(distro.setup PROPERTIES
  FIXTURES_SETUP distro LABELS distro SKIP_RETURN_CODE 77 TIMEOUT 900)

if(Python3_Interpreter_FOUND)
  set(ch_distro_py ${Python3_EXECUTABLE})
else()
  set(ch_distro_py false)  # never reached: distro_run.sh skips first (no interpreter -> no setup)
endif()

# ch_distro_test(<test name> <interpreter> <workdir> <fixtures required> <labels> COMMAND...)
function(ch_distro_test tname name work fixtures labels)
  add_test(NAME ${tname}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/distro_run.sh ${CH_INTERPRETERS_DIR} ${name} ${work}
                   $<TARGET_FILE:coreheap> -- ${ARGN})
  set_tests_properties(${tname} PROPERTIES
    FIXTURES_REQUIRED "${fixtures}" LABELS "${labels}" SKIP_RETURN_CODE 77 TIMEOUT 600)
endfunction()

# A scenario core for a distro interpreter (FIXTURES_SETUP distro.<fx>).
function(ch_distro_fixture name fx scenario dir)
  add_test(NAME distro.fixture.${fx}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/distro_run.sh ${CH_INTERPRETERS_DIR} ${name} ${dir}
                   $<TARGET_FILE:coreheap> --
                   bash ${CMAKE_CURRENT_SOURCE_DIR}/make_fixture_core.sh @PYTHON@
                   ${PROJECT_SOURCE_DIR}/fixtures/${scenario} ${dir} ${fx} ${ARGN})
  set_tests_properties(distro.fixture.${fx} PROPERTIES
    FIXTURES_SETUP distro.${fx} FIXTURES_REQUIRED distro LABELS distro SKIP_RETURN_CODE 77 TIMEOUT 300)
endfunction()

set(ch_tests ${CMAKE_CURRENT_SOURCE_DIR})
foreach(name ${CH_DISTRO_INTERPRETERS})
  foreach(variant ${ch_truth_variants})
    string(REPLACE "|" ";" vlist "${variant}")
    list(GET vlist 0 vname)
    list(REMOVE_AT vlist 0)
    set(fx "${name}-${vname}")
    set(dir "${CMAKE_BINARY_DIR}/fixtures-distro/${fx}")
    ch_distro_fixture(${name} ${fx} scenario_heap.py ${dir} ${vlist})
    ch_distro_test(distro.truth.${fx} ${name} ${dir} "distro;distro.${fx}" "distro;truth"
      ${ch_distro_py} ${ch_tests}/check_truth.py --python @PYTHON@ --coreheap @COREHEAP@
      --core ${dir}/core.${fx} --truth ${dir}/truth.${fx}.json)
    ch_distro_test(distro.cycles.${fx} ${name} ${dir} "distro;distro.${fx}" "distro;cycles"
      ${ch_distro_py} ${ch_tests}/check_cycles.py --coreheap @COREHEAP@
      --core ${dir}/core.${fx} --truth ${dir}/truth.${fx}.json)
  endforeach()

  set(fx "${name}-disabled")
  set(dir "${CMAKE_BINARY_DIR}/fixtures-distro/${fx}")
  ch_distro_test(distro.debug-source.${name} ${name} ${dir} "distro;distro.${fx}" distro
    ${ch_distro_py} ${ch_tests}/check_debug_source.py --coreheap $<TARGET_FILE:coreheap>
    --core ${dir}/core.${fx} --debug-dir @DEBUG_DIR@ --work ${dir})

  foreach(kind refs referrers stacks)
    set(fx "${name}-${kind}")
    set(dir "${CMAKE_BINARY_DIR}/fixtures-distro/${fx}")
    if(kind STREQUAL "stacks")
      set(scenario scenario_threads.py)
    else()
      set(scenario scenario_${kind}.py)
    endif()
    ch_distro_fixture(${name} ${fx} ${scenario} ${dir})
    ch_distro_test(distro.${kind}.${name} ${name} ${dir} "distro;distro.${fx}" "distro;${kind}"
      ${ch_distro_py} ${ch_tests}/check_${kind}.py --python @PYTHON@ --coreheap @COREHEAP@
      --core ${dir}/core.${fx} --truth ${dir}/truth.${fx}.json)
    if(kind STREQUAL "stacks")
      # native frames of the same core (tests/cmake/native.cmake)
      ch_distro_test(distro.native.${name} ${name} ${dir} "distro;distro.${fx}" "distro;native"
        ${ch_distro_py} ${ch_tests}/check_native.py --python @PYTHON@ --coreheap @COREHEAP@
        --core ${dir}/core.${fx} --truth ${dir}/truth.${fx}.json)
    endif()
  endforeach()

  # show, path/top and anomalies scenarios (as tests/cmake/show.cmake,
  # top_path.cmake and anomalies.cmake run them for the pyenv builds).
  foreach(kind show top_path anomalies-clean anomalies-leak)
    set(fx "${name}-${kind}")
    set(dir "${CMAKE_BINARY_DIR}/fixtures-distro/${fx}")
    string(REGEX REPLACE "-.*" "" scen "${kind}")
    string(REGEX MATCH "(clean|leak)$" mode "${kind}")
    ch_distro_fixture(${name} ${fx} scenario_${scen}.py ${dir} ${mode})
    if(scen STREQUAL "show" AND name STREQUAL "bookworm-3.11")
      # Debian's python3-numpy is built for this interpreter: the ndarray
      # renderings must be checked, never skipped (scripts/install_deps.sh)
      set(pyarg --expect-numpy)
    elseif(scen STREQUAL "show")
      set(pyarg "")
    else()
      set(pyarg --python @PYTHON@)
    endif()
    ch_distro_test(distro.${kind}.${name} ${name} ${dir} "distro;distro.${fx}" "distro;${scen}"
      ${ch_distro_py} ${ch_tests}/check_${scen}.py ${pyarg} --coreheap @COREHEAP@
      --core ${dir}/core.${fx} --truth ${dir}/truth.${fx}.json)
  endforeach()
endforeach()

# Built-in tables of distro interpreters (readers/cpython/layouts/<version>.layout,
# made by scripts/gen_layouts.sh from the -dbg debug files):
#  - distro.layout.regen.NAME: the committed table is what `layout --dump`
#    of the build-id debug file makes (tests/check_layout.py regen);
#  - distro.layout.same.NAME: `info` from the table equals `info` from DWARF;
#  - distro.layout.truth/cycles.NAME-<variant>: the ground-truth suite with
#    DWARF deliberately unused (CH_LAYOUT_SOURCE=builtin).
foreach(name ${CH_DISTRO_TABLES})
  if(NOT name IN_LIST CH_DISTRO_INTERPRETERS)
    continue()
  endif()
  string(REGEX REPLACE "^[a-z]+-" "" mm "${name}")
  ch_distro_test(distro.layout.regen.${name} ${name} "${CMAKE_BINARY_DIR}/fixtures-distro/${name}-layout" distro "distro;layout"
    ${ch_distro_py} ${ch_tests}/check_layout.py regen --coreheap $<TARGET_FILE:coreheap> --version @VERSION@
    --debug-of @DEBUG_DIR@/../../bin/python${mm} --debug-root @DEBUG_DIR@
    --table ${PROJECT_SOURCE_DIR}/readers/cpython/layouts/@VERSION@.layout)
  set(fx "${name}-disabled")
  set(dir "${CMAKE_BINARY_DIR}/fixtures-distro/${fx}")
  ch_distro_test(distro.layout.same.${name} ${name} ${dir} "distro;distro.${fx}" "distro;layout"
    ${ch_distro_py} ${ch_tests}/check_layout.py same --coreheap @COREHEAP@ --version @VERSION@
    --core ${dir}/core.${fx})
  foreach(variant ${ch_truth_variants})
    string(REPLACE "|" ";" vlist "${variant}")
    list(GET vlist 0 vname)
    set(fx "${name}-${vname}")
    set(dir "${CMAKE_BINARY_DIR}/fixtures-distro/${fx}")
    ch_distro_test(distro.layout.truth.${fx} ${name} ${dir} "distro;distro.${fx}" "distro;layout;truth"
      ${ch_distro_py} ${ch_tests}/check_truth.py --python @PYTHON@ --coreheap @COREHEAP@
      --core ${dir}/core.${fx} --truth ${dir}/truth.${fx}.json)
    ch_distro_test(distro.layout.cycles.${fx} ${name} ${dir} "distro;distro.${fx}" "distro;layout;cycles"
      ${ch_distro_py} ${ch_tests}/check_cycles.py --coreheap @COREHEAP@
      --core ${dir}/core.${fx} --truth ${dir}/truth.${fx}.json)
    set_tests_properties(distro.layout.truth.${fx} distro.layout.cycles.${fx} PROPERTIES
      ENVIRONMENT CH_LAYOUT_SOURCE=builtin)
  endforeach()
  # The graph tests without debug info too: references, referrers, stacks.
  foreach(kind refs referrers stacks)
    set(fx "${name}-${kind}")
    set(dir "${CMAKE_BINARY_DIR}/fixtures-distro/${fx}")
    ch_distro_test(distro.layout.${kind}.${name} ${name} ${dir} "distro;distro.${fx}" "distro;layout;${kind}"
      ${ch_distro_py} ${ch_tests}/check_${kind}.py --python @PYTHON@ --coreheap @COREHEAP@
      --core ${dir}/core.${fx} --truth ${dir}/truth.${fx}.json)
    set_tests_properties(distro.layout.${kind}.${name} PROPERTIES ENVIRONMENT CH_LAYOUT_SOURCE=builtin)
  endforeach()
endforeach()
