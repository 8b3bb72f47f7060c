# ---------------------------------------------------------------------------
# asyncio tasks tests (label "tasks"). For each CPython version a
# fixture-setup test runs fixtures/scenario_tasks.py (an event loop stopped
# with tasks suspended at known awaits: a two-coroutine chain, a task
# awaiting a task, a pure-Python _PyTask, a gather(), two tasks awaiting
# each other, done tasks kept in a list with unretrieved exceptions, an
# orphaned pending task; a forked child records every Task and Future,
# asyncio.all_tasks(), get_stack() and the cr_await chains) into
# ${CMAKE_BINARY_DIR}/fixtures-tasks/<version>/; tasks.<version> compares
# `coreheap tasks --json`, `--all` and `--tree` with it (tests/check_tasks.py
# documents the rules). The same runs for the distro interpreters
# (tasks.distro.<name>, also labelled "distro"), with their separate debug
# files for the _asyncio extension. A missing interpreter skips (77).
foreach(ver ${CH_TRUTH_PYTHON_VERSIONS})
  set(dir "${CMAKE_BINARY_DIR}/fixtures-tasks/${ver}")
  ch_scenario_fixture(tasks ${ver} ${ver} scenario_tasks.py ${dir})
  set(py "${ch_py}")
  if(Python3_Interpreter_FOUND)
    add_test(NAME tasks.${ver}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_tasks.py
                     --python ${py} --coreheap $<TARGET_FILE:coreheap>
                     --core ${dir}/core.${ver} --truth ${dir}/truth.${ver}.json)
  else()
    add_test(NAME tasks.${ver} COMMAND sh -c "echo 'check_tasks: SKIP: no Python 3 found when configuring' && exit 77")
  endif()
  set_tests_properties(tasks.${ver} PROPERTIES
    FIXTURES_REQUIRED tasks.${ver} SKIP_RETURN_CODE 77 LABELS tasks TIMEOUT 600)
endforeach()

if(COMMAND ch_distro_fixture)
  foreach(name ${CH_DISTRO_INTERPRETERS})
    set(fx "${name}-tasks")
    set(dir "${CMAKE_BINARY_DIR}/fixtures-distro/${fx}")
    ch_distro_fixture(${name} ${fx} scenario_tasks.py ${dir})
    set_tests_properties(distro.fixture.${fx} PROPERTIES LABELS "distro;tasks")
    ch_distro_test(tasks.distro.${name} ${name} ${dir} "distro;distro.${fx}" "distro;tasks"
      ${ch_distro_py} ${ch_tests}/check_tasks.py --python @PYTHON@ --coreheap @COREHEAP@
      --core ${dir}/core.${fx} --truth ${dir}/truth.${fx}.json)
  endforeach()
endif()

# Labels in Python terms (label "tasks" too, issue 13): fixtures/scenario_labels.py
# builds dict keys of many types and a traceback that keeps a frame's
# locals; labels.<version> / labels.distro.<name> compare `path`,
# `referrers`, `referents` and `show` with the chains the process walked
# (tests/check_labels.py).
foreach(ver ${CH_TRUTH_PYTHON_VERSIONS})
  set(dir "${CMAKE_BINARY_DIR}/fixtures-labels/${ver}")
  ch_scenario_fixture(labels ${ver} ${ver} scenario_labels.py ${dir})
  set(py "${ch_py}")
  if(Python3_Interpreter_FOUND)
    add_test(NAME labels.${ver}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_labels.py
                     --python ${py} --coreheap $<TARGET_FILE:coreheap>
                     --core ${dir}/core.${ver} --truth ${dir}/truth.${ver}.json)
  else()
    add_test(NAME labels.${ver} COMMAND sh -c "echo 'check_labels: SKIP: no Python 3 found when configuring' && exit 77")
  endif()
  set_tests_properties(labels.fixture.${ver} PROPERTIES LABELS "tasks;labels")
  set_tests_properties(labels.${ver} PROPERTIES
    FIXTURES_REQUIRED labels.${ver} SKIP_RETURN_CODE 77 LABELS "tasks;labels" TIMEOUT 600)
endforeach()

if(COMMAND ch_distro_fixture)
  foreach(name ${CH_DISTRO_INTERPRETERS})
    set(fx "${name}-labels")
    set(dir "${CMAKE_BINARY_DIR}/fixtures-distro/${fx}")
    ch_distro_fixture(${name} ${fx} scenario_labels.py ${dir})
    set_tests_properties(distro.fixture.${fx} PROPERTIES LABELS "distro;tasks;labels")
    ch_distro_test(labels.distro.${name} ${name} ${dir} "distro;distro.${fx}" "distro;tasks;labels"
      ${ch_distro_py} ${ch_tests}/check_labels.py --python @PYTHON@ --coreheap @COREHEAP@
      --core ${dir}/core.${fx} --truth ${dir}/truth.${fx}.json)
  endforeach()
endif()
