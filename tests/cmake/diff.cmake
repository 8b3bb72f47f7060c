# ---------------------------------------------------------------------------
# Snapshot and diff tests (label "diff"). For each CPython version a
# fixture-setup test runs fixtures/scenario_diff.py, one program dumped
# twice: a forked child dumps at step 1 (moved to core1.<version>), the
# program then grows a cache, shrinks and drops other objects, leaks
# LeakA <-> LeakB cycles and changes the gc thresholds, and dumps at step 2
# (core.<version>); forked recorder children write what the process counted
# at each step (gc.get_objects() per class, gc.collect() garbage, thresholds)
# into ${CMAKE_BINARY_DIR}/fixtures-diff/<version>/. diff.<version> checks
# `diff`, `snapshot`, --fail-if, --format ndjson and snapshot schema
# handling against it (tests/check_diff.py). A missing interpreter skips
# both (77, reason printed). The --fail-if language itself (operators,
# malformed expressions, unknown names) and the validation of snapshot
# files do not depend on the interpreter: they are checked (--language) on
# the oldest and the newest pyenv version only, the figures every gate
# reads on every version.
list(GET CH_TRUTH_PYTHON_VERSIONS 0 ch_diff_language_first)
list(GET CH_TRUTH_PYTHON_VERSIONS -1 ch_diff_language_last)
foreach(ver ${CH_TRUTH_PYTHON_VERSIONS})
  set(dir "${CMAKE_BINARY_DIR}/fixtures-diff/${ver}")
  ch_scenario_fixture(diff ${ver} ${ver} scenario_diff.py ${dir} --step1-core ${dir}/core1.${ver})
  set(ch_diff_language "")
  if(ver STREQUAL ch_diff_language_first OR ver STREQUAL ch_diff_language_last)
    set(ch_diff_language --language)
  endif()
  if(Python3_Interpreter_FOUND)
    add_test(NAME diff.${ver}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_diff.py
                     --coreheap $<TARGET_FILE:coreheap>
                     --core1 ${dir}/core1.${ver} --core2 ${dir}/core.${ver}
                     --truth ${dir}/truth.${ver}.json --workdir ${dir}/check ${ch_diff_language})
  else()
    add_test(NAME diff.${ver} COMMAND sh -c "echo 'check_diff: SKIP: no Python 3 found when configuring' && exit 77")
  endif()
  set_tests_properties(diff.${ver} PROPERTIES
    FIXTURES_REQUIRED diff.${ver} SKIP_RETURN_CODE 77 LABELS diff TIMEOUT 600)
  # The text tables of every listing command on the same two cores: widths
  # at COLUMNS=80 and 200, thousands separators (tests/check_tables.py);
  # JSON unchanged by COLUMNS and --limit (--cli: the command line, not the
  # heap) on the oldest and the newest version only, as --language above.
  string(REPLACE "--language" "--cli" ch_tables_cli "${ch_diff_language}")
  if(Python3_Interpreter_FOUND)
    add_test(NAME tables.${ver}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_tables.py
                     --coreheap $<TARGET_FILE:coreheap> --core1 ${dir}/core1.${ver} --core2 ${dir}/core.${ver}
                     ${ch_tables_cli})
  else()
    add_test(NAME tables.${ver} COMMAND sh -c "echo 'check_tables: SKIP: no Python 3 found when configuring' && exit 77")
  endif()
  set_tests_properties(tables.${ver} PROPERTIES
    FIXTURES_REQUIRED diff.${ver} SKIP_RETURN_CODE 77 LABELS "diff;tables" TIMEOUT 600)
endforeach()
