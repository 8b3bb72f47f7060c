# ---------------------------------------------------------------------------
# aarch64 (arm64) cores analysed on this x86_64 machine (label "arm64").
#
# arm64.setup (FIXTURES_SETUP arm64) runs scripts/setup_arm64.sh into
# CH_ARM64_DIR: Debian bookworm's arm64 python3.11 with python3.11-dbg, libc6
# (+ libc6-dbg) and the few libraries it loads, downloaded with a private apt
# configuration and unpacked into a sysroot, run by qemu-user (Debian package
# qemu-user). SKIPPED (77), and so is every test below, with the reason, when
# qemu-aarch64 is missing or nothing can be downloaded. Cached: a second run
# is offline and takes about two seconds.
#
# arm64.fixture runs fixtures/scenario_heap.py --maps on it under qemu-user:
# qemu writes the guest's aarch64 core itself (qemu_*_PID.core, picked by
# tests/make_fixture_core.sh) and the recorder child copies its own
# /proc/self/maps (the guest's mappings, inherited from the dumped parent).
# qemu's cores have no NT_FILE note; arm64.fixture.nt-file adds the one the
# kernel would have written (tests/add_nt_file.py, from those maps), which is
# the core an arm64 Linux machine writes. On that core:
#  - arm64.truth: `info`/`types` against the truth (tests/check_truth.py);
#  - arm64.check: what differs on aarch64 (tests/check_arm64.py): the
#    machine, Python and native stacks unwound from the aarch64 registers,
#    the stack mapping found by the stack pointer, and the "not exact"
#    verdict (no tp_traverse emulation of aarch64 code).
# And fixtures/scenario_threads.py --maps (seven threads blocked at known
# places; qemu writes one NT_PRSTATUS per thread), with its NT_FILE added:
#  - arm64.stacks: every thread's Python stack and locals against the truth
#    (tests/check_stacks.py);
#  - arm64.native: every thread's C frames unwound from its own aarch64
#    registers, the Python frames interleaved, the known blocking calls
#    (tests/check_native.py).
set(CH_ARM64_DIR "${CMAKE_BINARY_DIR}/arm64" CACHE PATH
    "where scripts/setup_arm64.sh keeps the arm64 python3.11 sysroot (shareable between build trees)")

add_test(NAME arm64.setup COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/setup_arm64.sh ${CH_ARM64_DIR})
# Not RUN_SERIAL: a download into its own folder through a private apt
# configuration (the system's dpkg state untouched); other tests run meanwhile.
set_tests_properties(arm64.setup PROPERTIES
  FIXTURES_SETUP arm64 LABELS arm64 SKIP_RETURN_CODE 77 TIMEOUT 900)

if(Python3_Interpreter_FOUND)
  set(ch_arm64_py ${Python3_EXECUTABLE})
else()
  set(ch_arm64_py false)  # never reached: distro_run.sh skips first (no setup)
endif()
set(ch_arm64_fx "arm64-3.11")
set(ch_arm64_out "${CMAKE_BINARY_DIR}/fixtures-arm64")
set(ch_arm64_core "${ch_arm64_out}/core.${ch_arm64_fx}")
set(ch_arm64_truth "${ch_arm64_out}/truth.${ch_arm64_fx}.json")

# ch_arm64_test(<test name> <fixtures required> <fixtures set up> COMMAND...):
# COMMAND through tests/distro_run.sh (@PYTHON@, @COREHEAP@, ... of the setup).
function(ch_arm64_test tname required setup)
  add_test(NAME ${tname}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/distro_run.sh ${CH_ARM64_DIR} ${ch_arm64_fx} ${ch_arm64_out}
                   $<TARGET_FILE:coreheap> -- ${ARGN})
  set_tests_properties(${tname} PROPERTIES
    FIXTURES_REQUIRED "${required}" LABELS arm64 SKIP_RETURN_CODE 77 TIMEOUT 600)
  if(setup)
    set_tests_properties(${tname} PROPERTIES FIXTURES_SETUP "${setup}")
  endif()
endfunction()

ch_arm64_test(arm64.fixture arm64 arm64.core
  bash ${CMAKE_CURRENT_SOURCE_DIR}/make_fixture_core.sh @PYTHON@ ${PROJECT_SOURCE_DIR}/fixtures/scenario_heap.py
  ${ch_arm64_out} ${ch_arm64_fx} --gc enabled --freeze --maps)
ch_arm64_test(arm64.fixture.nt-file "arm64;arm64.core" arm64.nt-file
  ${ch_arm64_py} ${CMAKE_CURRENT_SOURCE_DIR}/add_nt_file.py ${ch_arm64_core} ${ch_arm64_truth}.maps
  ${ch_arm64_core}-nt-file)
ch_arm64_test(arm64.truth "arm64;arm64.core;arm64.nt-file" ""
  ${ch_arm64_py} ${CMAKE_CURRENT_SOURCE_DIR}/check_truth.py --python @PYTHON@ --coreheap @COREHEAP@
  --core ${ch_arm64_core}-nt-file --truth ${ch_arm64_truth})
ch_arm64_test(arm64.check "arm64;arm64.core;arm64.nt-file" ""
  ${ch_arm64_py} ${CMAKE_CURRENT_SOURCE_DIR}/check_arm64.py --python @PYTHON@ --coreheap @COREHEAP@
  --core ${ch_arm64_core}-nt-file --truth ${ch_arm64_truth} --maps ${ch_arm64_truth}.maps)

# The core exactly as qemu wrote it: no NT_FILE note, and none of the pages
# holding an ELF header (qemu skips them), so the link map is found from the
# executable file's own program headers and its libraries under --sysroot.
# Its own work folder: the wrapper there adds --sysroot and --exe (qemu
# records the host path it was given) for every command.
add_test(NAME arm64.truth.raw
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/distro_run.sh ${CH_ARM64_DIR} ${ch_arm64_fx} ${ch_arm64_out}/raw
                 $<TARGET_FILE:coreheap> --with --sysroot --with @SYSROOT@ --with --exe --with @EXE@ --
                 ${ch_arm64_py} ${CMAKE_CURRENT_SOURCE_DIR}/check_truth.py --python @PYTHON@ --coreheap @COREHEAP@
                 --core ${ch_arm64_core} --truth ${ch_arm64_truth})
set_tests_properties(arm64.truth.raw PROPERTIES
  FIXTURES_REQUIRED "arm64;arm64.core" LABELS arm64 SKIP_RETURN_CODE 77 TIMEOUT 600)

set(ch_arm64_tcore "${ch_arm64_out}/core.${ch_arm64_fx}-threads")
set(ch_arm64_ttruth "${ch_arm64_out}/truth.${ch_arm64_fx}-threads.json")
ch_arm64_test(arm64.fixture.threads arm64 arm64.threads
  bash ${CMAKE_CURRENT_SOURCE_DIR}/make_fixture_core.sh @PYTHON@ ${PROJECT_SOURCE_DIR}/fixtures/scenario_threads.py
  ${ch_arm64_out} ${ch_arm64_fx}-threads --maps)
ch_arm64_test(arm64.fixture.threads.nt-file "arm64;arm64.threads" arm64.threads.nt-file
  ${ch_arm64_py} ${CMAKE_CURRENT_SOURCE_DIR}/add_nt_file.py ${ch_arm64_tcore} ${ch_arm64_ttruth}.maps
  ${ch_arm64_tcore}-nt-file)
foreach(kind stacks native)
  ch_arm64_test(arm64.${kind} "arm64;arm64.threads;arm64.threads.nt-file" ""
    ${ch_arm64_py} ${CMAKE_CURRENT_SOURCE_DIR}/check_${kind}.py --python @PYTHON@ --coreheap @COREHEAP@
    --core ${ch_arm64_tcore}-nt-file --truth ${ch_arm64_ttruth})
endforeach()
