# ---------------------------------------------------------------------------
# asyncio tasks and labels in Python terms (label "tasks", issue 13).
#
# tasks: fixtures/scenario_tasks.py stops an event loop with tasks suspended
# at known awaits (a two-coroutine chain, a task awaiting a task, a
# pure-Python _PyTask, a gather(), two tasks awaiting each other, done
# tasks kept in a list with unretrieved exceptions, an orphaned pending
# task); a forked child records every Task and Future, asyncio.all_tasks(),
# get_stack() and the cr_await chains; tests/check_tasks.py compares
# `coreheap tasks --json`, `--all` and `--tree` with it. tasks-clean: the
# same scenario with --clean (healthy tasks only): no finding at all.
#
# labels: fixtures/scenario_labels.py builds dict keys of many types and a
# traceback that keeps a frame's locals; tests/check_labels.py compares
# `path`, `referrers`, `referents` and `show` with the chains the process
# walked.
#
# Each runs for every pyenv version (<group>.<version>, fixtures in
# ${CMAKE_BINARY_DIR}/fixtures-<group>/<version>/) and every distro
# interpreter (<group>.distro.<name>, also labelled "distro", with their
# separate debug files). A missing interpreter skips (77).
# ch_tasks_group(<group> <scenario> <check> [scenario arguments...])
function(ch_tasks_group group scenario check)
  foreach(ver ${ch_versions_38})
    set(dir "${CMAKE_BINARY_DIR}/fixtures-${group}/${ver}")
    ch_scenario_fixture(${group} ${ver} ${ver} ${scenario} ${dir} ${ARGN})
    if(Python3_Interpreter_FOUND)
      add_test(NAME ${group}.${ver}
               COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/${check}
                       --python ${ch_py} --coreheap $<TARGET_FILE:coreheap>
                       --core ${dir}/core.${ver} --truth ${dir}/truth.${ver}.json)
    else()
      add_test(NAME ${group}.${ver} COMMAND sh -c "echo '${check}: SKIP: no Python 3 found when configuring' && exit 77")
    endif()
    set_tests_properties(${group}.fixture.${ver} PROPERTIES LABELS "tasks;${group}")
    set_tests_properties(${group}.${ver} PROPERTIES
      FIXTURES_REQUIRED ${group}.${ver} SKIP_RETURN_CODE 77 LABELS "tasks;${group}" TIMEOUT 600)
  endforeach()
  if(COMMAND ch_distro_fixture)
    foreach(name ${CH_DISTRO_INTERPRETERS})
      set(fx "${name}-${group}")
      set(dir "${CMAKE_BINARY_DIR}/fixtures-distro/${fx}")
      ch_distro_fixture(${name} ${fx} ${scenario} ${dir} ${ARGN})
      set_tests_properties(distro.fixture.${fx} PROPERTIES LABELS "distro;tasks;${group}")
      ch_distro_test(${group}.distro.${name} ${name} ${dir} "distro;distro.${fx}" "distro;tasks;${group}"
        ${ch_distro_py} ${ch_tests}/${check} --python @PYTHON@ --coreheap @COREHEAP@
        --core ${dir}/core.${fx} --truth ${dir}/truth.${fx}.json)
    endforeach()
  endif()
endfunction()

ch_tasks_group(tasks scenario_tasks.py check_tasks.py)
ch_tasks_group(tasks-clean scenario_tasks.py check_tasks.py --clean)
ch_tasks_group(labels scenario_labels.py check_labels.py)
