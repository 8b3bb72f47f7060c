# Heap index tests (label "index"; tests/check_index.py, docs/index.md):
# every heap command gives the same answer from the index as from the core
# (--no-index), `diff` of the pair too, and a stale, damaged, truncated or
# foreign index is said and rebuilt. Two pairs of fixture cores: the truth scenario's (3.12 then 3.13
# at the same path), and the emulation scenario's hostile core (an inexact
# heap: conservative types and their reasons come from the index too) with
# the clean one.
if(NOT Python3_Interpreter_FOUND)
  return()
endif()
if("3.12.1" IN_LIST CH_TRUTH_PYTHON_VERSIONS AND "3.13.0" IN_LIST CH_TRUTH_PYTHON_VERSIONS)
  add_test(NAME index.heap
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_index.py
                   --coreheap $<TARGET_FILE:coreheap>
                   --core ${CMAKE_BINARY_DIR}/fixtures/3.12.1-enabled-freeze/core.3.12.1-enabled-freeze
                   --other ${CMAKE_BINARY_DIR}/fixtures/3.13.0-disabled/core.3.13.0-disabled)
  set_tests_properties(index.heap PROPERTIES
    FIXTURES_REQUIRED "truth.3.12.1-enabled-freeze;truth.3.13.0-disabled" SKIP_RETURN_CODE 77
    LABELS index TIMEOUT 900)
endif()
if("3.12.1" IN_LIST ch_versions_38)
  add_test(NAME index.emu
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_index.py
                   --coreheap $<TARGET_FILE:coreheap> --type dict
                   --core ${CMAKE_BINARY_DIR}/fixtures-emu/hostile-3.12.1/core.hostile-3.12.1
                   --other ${CMAKE_BINARY_DIR}/fixtures-emu/3.12.1/core.3.12.1)
  set_tests_properties(index.emu PROPERTIES
    FIXTURES_REQUIRED "emu.hostile-3.12.1;emu.3.12.1" SKIP_RETURN_CODE 77 LABELS index TIMEOUT 900)
endif()
# The memory scenario's cores (objects that own malloc chunks: ctypes
# buffers and pointers): show, summary and suspects from the index's memory
# figures match their --no-index output, show of an owner included.
if("3.12.1" IN_LIST CH_MEMORY_PYTHON_VERSIONS AND "3.13.0" IN_LIST CH_MEMORY_PYTHON_VERSIONS)
  add_test(NAME index.memory
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_index.py
                   --coreheap $<TARGET_FILE:coreheap> --type dict --owner-required
                   --core ${CMAKE_BINARY_DIR}/fixtures-memory/3.12.1/core.3.12.1
                   --other ${CMAKE_BINARY_DIR}/fixtures-memory/3.13.0/core.3.13.0)
  set_tests_properties(index.memory PROPERTIES
    FIXTURES_REQUIRED "memory.3.12.1;memory.3.13.0" SKIP_RETURN_CODE 77 LABELS index TIMEOUT 900)
endif()
