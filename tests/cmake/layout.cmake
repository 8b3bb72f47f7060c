# Layout tests (label "layout"), issue 6: built-in layout tables and the
# layout checks. tests/check_layout.py documents each check.
#  - layout.regen.<ver>: the committed readers/cpython/layouts/<ver>.layout is
#    byte-identical to a fresh `coreheap layout --dump` of that pyenv
#    libpython and to the table compiled into coreheap; layout.regen.3.11.2
#    does the same from Debian's python3.11-dbg debug file (SKIPPED without it).
#  - layout.same.<ver>: `info` from the built-in table (CH_LAYOUT_SOURCE=builtin)
#    equals `info` from DWARF, with no warning.
#  - layout.truth.<name> / layout.cycles.<name>: the ground-truth suite
#    (check_truth.py, check_cycles.py) on the truth cores with DWARF
#    deliberately unused (CH_LAYOUT_SOURCE=builtin).
#  - layout.no-table / wrong-table / near-table: copies of truth cores whose
#    version text is rewritten: a minor with no table fails with exit 4 and
#    what would make it work; another minor's table is caught by the
#    self-checks (exit 4); another micro uses the nearest table with a warning.
#  - layout.debug-offsets: a 3.13 core with one _Py_DebugOffsets member
#    altered gives the disagreement warning, and the runtime's value wins.
set(ch_layout_check ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_layout.py)
set(ch_layout_dir "${CMAKE_BINARY_DIR}/layout")
file(MAKE_DIRECTORY "${ch_layout_dir}")

function(ch_layout_test name fixture)
  add_test(NAME layout.${name} COMMAND ${ch_layout_check} ${ARGN} --coreheap $<TARGET_FILE:coreheap>)
  set_tests_properties(layout.${name} PROPERTIES LABELS layout SKIP_RETURN_CODE 77 TIMEOUT 900)
  if(fixture)
    set_tests_properties(layout.${name} PROPERTIES FIXTURES_REQUIRED ${fixture})
  endif()
endfunction()

foreach(ver ${CH_TRUTH_PYTHON_VERSIONS})
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" ver_mm "${ver}")
  set(py "${ch_pyenv_root}/versions/${ver}/bin/python${ver_mm}")
  set(abi "")
  if(ver VERSION_LESS 3.8)
    set(abi "m") # libpython3.6m.so.1.0, libpython3.7m.so.1.0
  endif()
  ch_layout_test(regen.${ver} "" regen --version ${ver}
                 --lib ${ch_pyenv_root}/versions/${ver}/lib/libpython${ver_mm}${abi}.so.1.0
                 --table ${PROJECT_SOURCE_DIR}/readers/cpython/layouts/${ver}.layout)
  set(core "${CMAKE_BINARY_DIR}/fixtures/${ver}-disabled/core.${ver}-disabled")
  ch_layout_test(same.${ver} truth.${ver}-disabled same --version ${ver} --core ${core})
  ch_truth_variants_for(${ver} variants)
  foreach(variant ${variants})
    string(REPLACE "|" ";" vlist "${variant}")
    list(GET vlist 0 vname)
    set(name "${ver}-${vname}")
    set(dir "${CMAKE_BINARY_DIR}/fixtures/${name}")
    add_test(NAME layout.truth.${name}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_truth.py
                     --python ${py} --coreheap $<TARGET_FILE:coreheap>
                     --core ${dir}/core.${name} --truth ${dir}/truth.${name}.json)
    add_test(NAME layout.cycles.${name}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_cycles.py
                     --coreheap $<TARGET_FILE:coreheap>
                     --core ${dir}/core.${name} --truth ${dir}/truth.${name}.json)
    set_tests_properties(layout.truth.${name} layout.cycles.${name} PROPERTIES
      ENVIRONMENT CH_LAYOUT_SOURCE=builtin
      FIXTURES_REQUIRED truth.${name} SKIP_RETURN_CODE 77 LABELS "layout;truth" TIMEOUT 900)
  endforeach()
endforeach()

ch_layout_test(regen.3.11.2 "" regen --version 3.11.2 --debug-of /usr/bin/python3.11
               --table ${PROJECT_SOURCE_DIR}/readers/cpython/layouts/3.11.2.layout)
ch_layout_test(no-table truth.3.10.13-disabled no-table
               --core ${CMAKE_BINARY_DIR}/fixtures/3.10.13-disabled/core.3.10.13-disabled
               --from "3.10.13 (" --to "3.16.13 (" --out ${ch_layout_dir}/core.no-table)
ch_layout_test(wrong-table truth.3.9.18-disabled wrong-table --table 3.8.18
               --core ${CMAKE_BINARY_DIR}/fixtures/3.9.18-disabled/core.3.9.18-disabled
               --from "3.9.18 (" --to "3.8.18 (" --out ${ch_layout_dir}/core.wrong-table)
ch_layout_test(near-table truth.3.10.13-disabled near-table --table 3.10.13
               --core ${CMAKE_BINARY_DIR}/fixtures/3.10.13-disabled/core.3.10.13-disabled
               --from "3.10.13 (" --to "3.10.11 (" --out ${ch_layout_dir}/core.near-table)
ch_layout_test(debug-offsets truth.3.13.0-disabled debug-offsets --version 3.13.0
               --core ${CMAKE_BINARY_DIR}/fixtures/3.13.0-disabled/core.3.13.0-disabled
               --out ${ch_layout_dir}/core.debug-offsets)

# A distro interpreter with its DWARF out of reach: Debian bookworm's
# statically linked /usr/bin/python3.11 (3.11.2). Its core is analysed from
# the built-in 3.11.2 table (CH_LAYOUT_SOURCE=builtin stands in for a
# machine without python3.11-dbg) by the truth and cycle checks. SKIPPED
# (77) when /usr/bin/python3.11 is absent.
set(ch_layout_deb_dir "${CMAKE_BINARY_DIR}/fixtures-layout/debian-3.11")
add_test(NAME layout.fixture.debian-3.11
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/make_fixture_core.sh /usr/bin/python3.11
                 ${PROJECT_SOURCE_DIR}/fixtures/scenario_heap.py ${ch_layout_deb_dir} debian-3.11
                 --gc enabled --freeze)
set_tests_properties(layout.fixture.debian-3.11 PROPERTIES
  FIXTURES_SETUP layout.debian-3.11 SKIP_RETURN_CODE 77 LABELS layout TIMEOUT 300)
add_test(NAME layout.truth.debian-3.11
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_truth.py
                 --python /usr/bin/python3.11 --coreheap $<TARGET_FILE:coreheap>
                 --core ${ch_layout_deb_dir}/core.debian-3.11 --truth ${ch_layout_deb_dir}/truth.debian-3.11.json)
add_test(NAME layout.cycles.debian-3.11
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_cycles.py
                 --coreheap $<TARGET_FILE:coreheap>
                 --core ${ch_layout_deb_dir}/core.debian-3.11 --truth ${ch_layout_deb_dir}/truth.debian-3.11.json)
set_tests_properties(layout.truth.debian-3.11 layout.cycles.debian-3.11 PROPERTIES
  ENVIRONMENT CH_LAYOUT_SOURCE=builtin
  FIXTURES_REQUIRED layout.debian-3.11 SKIP_RETURN_CODE 77 LABELS layout TIMEOUT 900)

# layout.zstd: the 3.12 libpython with its debug sections recompressed with
# zstd (objcopy, binutils 2.40+) dumps to exactly the committed table, so a
# zstd-compressed debug file reads as the plain one (readers/process/elf_inflate.c).
set(ch_zstd_lib "${ch_pyenv_root}/versions/3.12.1/lib/libpython3.12.so.1.0")
set(ch_zstd_dir "${ch_layout_dir}/zstd")
add_test(NAME layout.zstd
         COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/layout_zstd.sh ${ch_zstd_lib} ${ch_zstd_dir}
                 ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_layout.py
                 ${PROJECT_SOURCE_DIR}/readers/cpython/layouts/3.12.1.layout $<TARGET_FILE:coreheap> 3.12.1)
set_tests_properties(layout.zstd PROPERTIES LABELS layout SKIP_RETURN_CODE 77 TIMEOUT 300)

# The graph and stack tests from the built-in tables too (DWARF unused).
foreach(ver ${CH_TRUTH_PYTHON_VERSIONS})
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" ver_mm "${ver}")
  set(py "${ch_pyenv_root}/versions/${ver}/bin/python${ver_mm}")
  foreach(kind refs referrers stacks)
    set(dir "${CMAKE_BINARY_DIR}/fixtures-${kind}/${ver}")
    add_test(NAME layout.${kind}.${ver}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_${kind}.py
                     --python ${py} --coreheap $<TARGET_FILE:coreheap>
                     --core ${dir}/core.${ver} --truth ${dir}/truth.${ver}.json)
    set_tests_properties(layout.${kind}.${ver} PROPERTIES
      ENVIRONMENT CH_LAYOUT_SOURCE=builtin
      FIXTURES_REQUIRED ${kind}.${ver} SKIP_RETURN_CODE 77 LABELS "layout;${kind}" TIMEOUT 600)
  endforeach()
endforeach()
