# ---------------------------------------------------------------------------
# Sub-interpreters (label "subinterp"): tests/check_subinterp.py runs
# fixtures/scenario_subinterp.py (the main interpreter and two
# sub-interpreters, each recording its own gc.get_objects() histogram and
# DEBUG_SAVEALL garbage and its sys._debugmallocstats() just before the
# abort) and compares types, cycles and summary, interpreter by interpreter,
# and memory's pymalloc figures with those truths; plus a core
# without sub-interpreters. subinterp.truth.VERSION for pyenv's 3.10-3.13,
# distro.subinterp.NAME for the distro interpreters (an interpreter without
# a sub-interpreter module is SKIPPED, 77). Not 3.9: each interpreter has its
# own collector there too, but gc.garbage in a 3.9 sub-interpreter is the
# main interpreter's list (the gc module's dict is copied), so the scenario
# cannot record its DEBUG_SAVEALL garbage; ≤3.8 have one collector for all.
foreach(ver 3.10.13 3.11.7 3.12.1 3.13.0)
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" ver_mm "${ver}")
  if(Python3_Interpreter_FOUND)
    add_test(NAME subinterp.truth.${ver}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_subinterp.py
                     --python ${ch_pyenv_root}/versions/${ver}/bin/python${ver_mm} --coreheap $<TARGET_FILE:coreheap>
                     --out ${CMAKE_BINARY_DIR}/fixtures-subinterp/${ver})
  else()
    add_test(NAME subinterp.truth.${ver}
             COMMAND sh -c "echo 'check_subinterp: SKIP: no Python 3 found when configuring' && exit 77")
  endif()
  set_tests_properties(subinterp.truth.${ver} PROPERTIES SKIP_RETURN_CODE 77 LABELS subinterp TIMEOUT 300)
endforeach()

if(Python3_Interpreter_FOUND)
  foreach(name ${CH_DISTRO_INTERPRETERS})
    set(dir "${CMAKE_BINARY_DIR}/fixtures-distro/${name}-subinterp")
    ch_distro_test(distro.subinterp.${name} ${name} ${dir} distro "distro;subinterp"
      ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_subinterp.py --python @PYTHON@
      --coreheap @COREHEAP@ --out ${dir})
  endforeach()
endif()
