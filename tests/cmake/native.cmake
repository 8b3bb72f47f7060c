# Native frame tests (label "native"): tests/check_native.py reads the
# fixtures/scenario_threads.py core each pyenv version's stacks test makes
# (FIXTURES_REQUIRED stacks.<version>) with `stacks --native` and `summary`:
# every thread's C frames unwound, the Python frames interleaved equal to
# what `stacks` prints and what the process recorded, and the C functions
# where the threads are known to block (abort/raise, the lock wait, the
# sleep). The Debian interpreters run it from tests/cmake/distro.cmake.
foreach(ver ${CH_TRUTH_PYTHON_VERSIONS})
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" ver_mm "${ver}")
  set(py "${ch_pyenv_root}/versions/${ver}/bin/python${ver_mm}")
  set(dir "${CMAKE_BINARY_DIR}/fixtures-stacks/${ver}")
  add_test(NAME native.${ver}
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_native.py
                   --python ${py} --coreheap $<TARGET_FILE:coreheap>
                   --core ${dir}/core.${ver} --truth ${dir}/truth.${ver}.json)
  set_tests_properties(native.${ver} PROPERTIES
    FIXTURES_REQUIRED stacks.${ver} SKIP_RETURN_CODE 77 LABELS "native;stacks" TIMEOUT 600)
  # The same from the built-in layout table (the Python frames' entry flags
  # come from the table then; libdwfl still reads the files' own DWARF).
  add_test(NAME layout.native.${ver}
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_native.py
                   --python ${py} --coreheap $<TARGET_FILE:coreheap>
                   --core ${dir}/core.${ver} --truth ${dir}/truth.${ver}.json)
  set_tests_properties(layout.native.${ver} PROPERTIES
    ENVIRONMENT CH_LAYOUT_SOURCE=builtin
    FIXTURES_REQUIRED stacks.${ver} SKIP_RETURN_CODE 77 LABELS "native;layout" TIMEOUT 600)
endforeach()
