# ---------------------------------------------------------------------------
# path and top tests (label "top_path"). For each CPython version a
# fixture-setup test runs fixtures/scenario_top_path.py (a module `app` in
# sys.modules with a CACHE chain, a longer second chain and weak references
# to its end, a Holder owning a private subtree of payloads, a garbage
# cycle; a forked child records the chain's addresses and the subtree's
# objects, then the parent aborts) into ${CMAKE_BINARY_DIR}/fixtures-top-path/<version>/;
# top_path.<version> compares `coreheap path` (hops, --all, unreachable)
# and `coreheap top --by object|type` (the Holder's retained size is the
# sum of coreheap's own sizes of exactly the recorded subtree) with it
# (tests/check_top_path.py documents the rules). A missing interpreter
# skips both (77, reason printed).
foreach(ver ${CH_TRUTH_PYTHON_VERSIONS})
  set(dir "${CMAKE_BINARY_DIR}/fixtures-top-path/${ver}")
  ch_scenario_fixture(top_path ${ver} ${ver} scenario_top_path.py ${dir})
  set(py "${ch_py}")
  if(Python3_Interpreter_FOUND)
    add_test(NAME top_path.${ver}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_top_path.py
                     --python ${py} --coreheap $<TARGET_FILE:coreheap>
                     --core ${dir}/core.${ver} --truth ${dir}/truth.${ver}.json)
  else()
    add_test(NAME top_path.${ver} COMMAND sh -c "echo 'check_top_path: SKIP: no Python 3 found when configuring' && exit 77")
  endif()
  set_tests_properties(top_path.${ver} PROPERTIES
    FIXTURES_REQUIRED top_path.${ver} SKIP_RETURN_CODE 77 LABELS top_path TIMEOUT 600)
endforeach()
