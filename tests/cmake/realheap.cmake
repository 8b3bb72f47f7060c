# ---------------------------------------------------------------------------
# Real-heap tests (label "realheap"): programs and packages nobody here wrote,
# with garbage cycles through their C types (tests/check_realheap.py: every
# sampled object's traversed references == gc.get_referents, unreachable by
# type == gc.collect() under DEBUG_SAVEALL, "exact"/"conservative_types"
# stated and honest). Scenarios (fixtures/scenario_realheap_*.py, recorder
# fixtures/realheap_record.py):
#  - asyncio: an asyncio service and the stdlib's C types (_asyncio, _io, re,
#    functools, itertools, ctypes, _collections, contextvars), on every pyenv
#    CPython (realheap.asyncio.<version>) and distro interpreter
#    (realheap.asyncio.<name>);
#  - mypy (a real mypy run, mypyc-compiled, dumped mid-check) and packages
#    (lxml, PyYAML's CLoader, SQLAlchemy, numpy object arrays), with the
#    distribution's own packages: on the interpreters of
#    CH_REALHEAP_PACKAGE_INTERPRETERS (Debian's python3.11 and
#    python3-mypy/-lxml/-yaml/-numpy/-sqlalchemy, scripts/install_deps.sh).
# Each distro check runs twice: with the interpreter's debug files
# (realheap.<scenario>.<name>) and with them hidden (...nodebug: coreheap
# gets an empty --debug-dir and falls back to its built-in table), for the
# interpreters of CH_DISTRO_TABLES.
# A missing interpreter or package is a SKIP (77) with the reason. Each check
# leaves its per-type figures in report.<fixture>[.nodebug].json beside the core.
set(CH_REALHEAP_PACKAGE_INTERPRETERS "bookworm-3.11" CACHE STRING
    "distro interpreters whose own distribution packages the mypy/packages realheap scenarios use")

# The checker's own verdicts on made-up answers (exact, honest lower bound,
# and each way of being wrong): tests/check_realheap_selftest.py.
if(Python3_Interpreter_FOUND)
  add_test(NAME realheap.checker COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_realheap_selftest.py)
else()
  add_test(NAME realheap.checker COMMAND ${ch_truth_skip_no_python})
endif()
set_tests_properties(realheap.checker PROPERTIES LABELS realheap SKIP_RETURN_CODE 77 TIMEOUT 120)

function(ch_realheap_label test)
  set_property(TEST ${test} APPEND PROPERTY LABELS realheap)
endfunction()

foreach(ver ${ch_versions_38})
  set(name "asyncio-${ver}")
  set(dir "${CMAKE_BINARY_DIR}/fixtures-realheap/${name}")
  ch_scenario_fixture(realheap ${name} ${ver} scenario_realheap_asyncio.py ${dir})
  if(Python3_Interpreter_FOUND)
    add_test(NAME realheap.asyncio.${ver}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_realheap.py
                     --python ${ch_py} --coreheap $<TARGET_FILE:coreheap>
                     --core ${dir}/core.${name} --truth ${dir}/truth.${name}.json
                     --report ${dir}/report.${name}.json)
  else()
    add_test(NAME realheap.asyncio.${ver} COMMAND ${ch_truth_skip_no_python})
  endif()
  set_tests_properties(realheap.asyncio.${ver} PROPERTIES
    FIXTURES_REQUIRED realheap.${name} SKIP_RETURN_CODE 77 LABELS realheap TIMEOUT 300)
endforeach()

foreach(name ${CH_DISTRO_INTERPRETERS})
  set(scenarios asyncio)
  if(name IN_LIST CH_REALHEAP_PACKAGE_INTERPRETERS)
    list(APPEND scenarios mypy packages)
  endif()
  foreach(scen ${scenarios})
    set(fx "${name}-realheap-${scen}")
    set(dir "${CMAKE_BINARY_DIR}/fixtures-distro/${fx}")
    ch_distro_fixture(${name} ${fx} scenario_realheap_${scen}.py ${dir})
    ch_realheap_label(distro.fixture.${fx})
    set(args --core ${dir}/core.${fx} --truth ${dir}/truth.${fx}.json)
    ch_distro_test(realheap.${scen}.${name} ${name} ${dir} "distro;distro.${fx}" "distro;realheap"
      ${ch_distro_py} ${ch_tests}/check_realheap.py --python @PYTHON@ --coreheap @COREHEAP@ ${args}
      --report ${dir}/report.${fx}.json)
    if(name IN_LIST CH_DISTRO_TABLES)
      ch_distro_test(realheap.${scen}.${name}.nodebug ${name} ${dir} "distro;distro.${fx}" "distro;realheap"
        ${ch_distro_py} ${ch_tests}/check_realheap.py --python @PYTHON@ --coreheap $<TARGET_FILE:coreheap>
        --debug-dir ${dir}/no-debug-files ${args} --report ${dir}/report.${fx}.nodebug.json)
    endif()
  endforeach()
endforeach()

# The packages scenario claiming a numpy coreheap has no layout for
# (--claim-numpy 2.0.0): the arrays are not read and the verdict says why.
foreach(name ${CH_REALHEAP_PACKAGE_INTERPRETERS})
  set(fx "${name}-realheap-numpy2")
  set(dir "${CMAKE_BINARY_DIR}/fixtures-distro/${fx}")
  ch_distro_fixture(${name} ${fx} scenario_realheap_packages.py ${dir} --claim-numpy 2.0.0)
  ch_realheap_label(distro.fixture.${fx})
  ch_distro_test(realheap.numpy2.${name} ${name} ${dir} "distro;distro.${fx}" "distro;realheap"
    ${ch_distro_py} ${ch_tests}/check_realheap.py --python @PYTHON@ --coreheap @COREHEAP@
    --core ${dir}/core.${fx} --truth ${dir}/truth.${fx}.json --report ${dir}/report.${fx}.json)
endforeach()

# The generated numpy layout (readers/cpython/py_numpy_layout.h) against
# what the numpy headers of the package interpreters give.
foreach(name ${CH_REALHEAP_PACKAGE_INTERPRETERS})
  ch_distro_test(source.numpy_layout.${name} ${name} ${CMAKE_BINARY_DIR}/numpy-layout-${name} "distro" "distro;source"
    bash ${ch_tests}/check_numpy_layout.sh @PYTHON@ ${PROJECT_SOURCE_DIR}/readers/cpython/py_numpy_layout.h
    ${CMAKE_BINARY_DIR}/numpy-layout-${name})
endforeach()
