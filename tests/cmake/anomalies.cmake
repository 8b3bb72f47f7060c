# Anomaly tests (label "anomalies"): for each CPython version, two cores of
# fixtures/scenario_anomalies.py: `clean` (an ordinary heap: nothing may be
# reported) and `leak` (a reference leak and a refcounting bug planted with
# ctypes.pythonapi Py_IncRef / Py_DecRef); tests/check_anomalies.py
# compares `coreheap anomalies --json` with what the process recorded.
foreach(ver ${CH_TRUTH_PYTHON_VERSIONS})
  foreach(mode clean leak)
    set(name "${ver}-${mode}")
    set(dir "${CMAKE_BINARY_DIR}/fixtures-anomalies/${name}")
    ch_scenario_fixture(anomalies ${name} ${ver} scenario_anomalies.py ${dir} ${mode})
    set(py "${ch_py}")
    if(Python3_Interpreter_FOUND)
      add_test(NAME anomalies.${name}
               COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_anomalies.py
                       --python ${py} --coreheap $<TARGET_FILE:coreheap>
                       --core ${dir}/core.${name} --truth ${dir}/truth.${name}.json)
    else()
      add_test(NAME anomalies.${name} COMMAND sh -c "echo 'check_anomalies: SKIP: no Python 3 found when configuring' && exit 77")
    endif()
    set_tests_properties(anomalies.${name} PROPERTIES
      FIXTURES_REQUIRED anomalies.${name} SKIP_RETURN_CODE 77 LABELS anomalies TIMEOUT 600)
  endforeach()
endforeach()
