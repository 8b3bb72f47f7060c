# The layout cache (label "layout"; readers/cpython/py_layout_cache.h):
# tests/check_layout_cache.py runs `info`, `info --json` and `types` on a
# truth core with the cache off (DWARF), then on a cold and a warm cache,
# then over damaged cache files, an unwritable cache folder and
# CH_LAYOUT_CACHE=off, and requires the DWARF route's output every time.
# layout.cache.<ver> reads a pyenv libpython's embedded DWARF;
# distro.layout-cache.<name> a separate debug file found by build-id.
foreach(ver 3.12.1)
  set(core "${CMAKE_BINARY_DIR}/fixtures/${ver}-disabled/core.${ver}-disabled")
  add_test(NAME layout.cache.${ver}
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_layout_cache.py
                   --coreheap $<TARGET_FILE:coreheap> --core ${core}
                   --work ${CMAKE_BINARY_DIR}/layout-cache/${ver})
  set_tests_properties(layout.cache.${ver} PROPERTIES
    FIXTURES_REQUIRED truth.${ver}-disabled LABELS layout SKIP_RETURN_CODE 77 TIMEOUT 300)
endforeach()

foreach(name bookworm-3.11)
  if(NOT name IN_LIST CH_DISTRO_INTERPRETERS)
    continue()
  endif()
  set(fx "${name}-disabled")
  set(dir "${CMAKE_BINARY_DIR}/fixtures-distro/${fx}")
  ch_distro_test(distro.layout-cache.${name} ${name} ${dir} "distro;distro.${fx}" "distro;layout"
    ${ch_distro_py} ${CMAKE_CURRENT_SOURCE_DIR}/check_layout_cache.py --coreheap $<TARGET_FILE:coreheap>
    --core ${dir}/core.${fx} --debug-dir @DEBUG_DIR@ --work ${CMAKE_BINARY_DIR}/layout-cache/${name})
endforeach()
