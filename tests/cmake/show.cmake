# `show` and --redact tests (label "show"). For each CPython version a
# fixture-setup test runs fixtures/scenario_show.py (values of every kind
# show renders, secrets for --redact; a forked child records id(), repr(),
# len(), items and attributes) into ${CMAKE_BINARY_DIR}/fixtures-show/<version>/;
# show.<version> compares `coreheap show --json` with it and checks that
# --redact removes every secret from show, referrers, referents and
# stacks --locals (tests/check_show.py documents the exact rules).
foreach(ver ${CH_TRUTH_PYTHON_VERSIONS})
  set(dir "${CMAKE_BINARY_DIR}/fixtures-show/${ver}")
  ch_scenario_fixture(show ${ver} ${ver} scenario_show.py ${dir})
  if(Python3_Interpreter_FOUND)
    add_test(NAME show.${ver}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_show.py
                     --coreheap $<TARGET_FILE:coreheap>
                     --core ${dir}/core.${ver} --truth ${dir}/truth.${ver}.json)
  else()
    add_test(NAME show.${ver} COMMAND sh -c "echo 'check_show: SKIP: no Python 3 found when configuring' && exit 77")
  endif()
  set_tests_properties(show.${ver} PROPERTIES
    FIXTURES_REQUIRED show.${ver} SKIP_RETURN_CODE 77 LABELS show TIMEOUT 600)
endforeach()
