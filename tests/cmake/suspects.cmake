# ---------------------------------------------------------------------------
# Leak suspect tests (label "suspects"). For each CPython version two
# fixture cores of fixtures/scenario_suspects.py: "leak" (a module `app`
# leaking five ways: a cache dict keyed by ids, closures on a callback
# list, stored tracebacks with a big local, a garbage cycle retaining a
# tree, a suspended generator holding a buffer) and "clean" (the same
# containers, small). The forked child records what each leak alone keeps
# alive; tests/check_suspects.py checks that each leak is among the first
# five suspects with the right path and kind, and a retained size equal to
# coreheap's own sizes of exactly those objects, and that the clean heap
# has no accumulation suspect, and that `top --format folded` adds up to
# the reachable bytes; suspects.report.<version> opens `coreheap report`'s
# page in headless chromium; suspects.growth.<version> diffs the leaking
# core against a "grow" one (the cache twice as big) and wants the cache
# named first. A missing interpreter or browser skips (77).
foreach(ver ${CH_TRUTH_PYTHON_VERSIONS})
  # The later dump of a growing program (cache twice as big), for diff.
  ch_scenario_fixture(suspects ${ver}-grow ${ver} scenario_suspects.py
                      "${CMAKE_BINARY_DIR}/fixtures-suspects/${ver}-grow" --grow)
  foreach(variant leak clean)
    set(name "${ver}-${variant}")
    set(dir "${CMAKE_BINARY_DIR}/fixtures-suspects/${name}")
    if(variant STREQUAL "clean")
      ch_scenario_fixture(suspects ${name} ${ver} scenario_suspects.py ${dir} --clean)
    else()
      ch_scenario_fixture(suspects ${name} ${ver} scenario_suspects.py ${dir})
    endif()
    set(py "${ch_py}")
    if(Python3_Interpreter_FOUND)
      add_test(NAME suspects.${name}
               COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_suspects.py
                       --python ${py} --coreheap $<TARGET_FILE:coreheap>
                       --core ${dir}/core.${name} --truth ${dir}/truth.${name}.json)
    else()
      add_test(NAME suspects.${name} COMMAND sh -c "echo 'check_suspects: SKIP: no Python 3 found when configuring' && exit 77")
    endif()
    set_tests_properties(suspects.${name} PROPERTIES
      FIXTURES_REQUIRED suspects.${name} SKIP_RETURN_CODE 77 LABELS suspects TIMEOUT 600)
  endforeach()
  # The HTML report of the leaking core in headless chromium
  # (tests/check_report_html.py; SKIPPED with the reason when chromium is
  # not installed: scripts/install_deps.sh installs it).
  set(name "${ver}-leak")
  set(dir "${CMAKE_BINARY_DIR}/fixtures-suspects/${name}")
  if(Python3_Interpreter_FOUND)
    add_test(NAME suspects.report.${ver}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_report_html.py
                     --python ${py} --coreheap $<TARGET_FILE:coreheap>
                     --core ${dir}/core.${name} --truth ${dir}/truth.${name}.json)
  else()
    add_test(NAME suspects.report.${ver} COMMAND sh -c "echo 'check_report_html: SKIP: no Python 3 found when configuring' && exit 77")
  endif()
  set_tests_properties(suspects.report.${ver} PROPERTIES
    FIXTURES_REQUIRED suspects.${name} SKIP_RETURN_CODE 77 LABELS "suspects;report" TIMEOUT 600)
  # diff's growth suspects: leak (A) against grow (B), cores and a snapshot.
  set(gdir "${CMAKE_BINARY_DIR}/fixtures-suspects/${ver}-grow")
  if(Python3_Interpreter_FOUND)
    add_test(NAME suspects.growth.${ver}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_growth.py
                     --python ${py} --coreheap $<TARGET_FILE:coreheap>
                     --core ${dir}/core.${name} --truth ${dir}/truth.${name}.json
                     --core-b ${gdir}/core.${ver}-grow --truth-b ${gdir}/truth.${ver}-grow.json)
  else()
    add_test(NAME suspects.growth.${ver} COMMAND sh -c "echo 'check_growth: SKIP: no Python 3 found when configuring' && exit 77")
  endif()
  set_tests_properties(suspects.growth.${ver} PROPERTIES
    FIXTURES_REQUIRED "suspects.${name};suspects.${ver}-grow" SKIP_RETURN_CODE 77 LABELS "suspects;diff" TIMEOUT 600)
endforeach()
# The same two scenarios on every distro interpreter (Debian's stripped
# bookworm python3.11 with its -dbg file, unstable's 3.13-3.15 through their
# own loader; tests/cmake/distro.cmake): suspects.distro-leak.<name> and
# suspects.distro-clean.<name>, labelled "distro" too; skipped (77, reason
# printed) when the setup could not prepare the interpreter.
if(COMMAND ch_distro_fixture)
  foreach(name ${CH_DISTRO_INTERPRETERS})
    foreach(variant leak clean)
      set(fx "${name}-suspects-${variant}")
      set(dir "${CMAKE_BINARY_DIR}/fixtures-distro/${fx}")
      if(variant STREQUAL "clean")
        ch_distro_fixture(${name} ${fx} scenario_suspects.py ${dir} --clean)
      else()
        ch_distro_fixture(${name} ${fx} scenario_suspects.py ${dir})
      endif()
      set_tests_properties(distro.fixture.${fx} PROPERTIES LABELS "distro;suspects")
      ch_distro_test(suspects.distro-${variant}.${name} ${name} ${dir} "distro;distro.${fx}" "distro;suspects"
        ${ch_distro_py} ${ch_tests}/check_suspects.py --python @PYTHON@ --coreheap @COREHEAP@
        --core ${dir}/core.${fx} --truth ${dir}/truth.${fx}.json)
    endforeach()
  endforeach()
endif()
