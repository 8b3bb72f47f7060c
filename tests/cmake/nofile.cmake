# Cores without an NT_FILE note (label "nofile"): the mapped files come from
# the dynamic linker's r_debug link map (readers/process/link_map.c).
#  nofile.fixture.qemu-<ver>  fixtures/scenario_heap.py run under qemu-user
#                             (CH_CORE_LAUNCHER=qemu-x86_64: qemu writes the
#                             guest's core itself, without NT_FILE or
#                             NT_SIGINFO), truth recorded by the guest;
#  nofile.qemu.<ver>          tests/check_no_nt_file.py --qemu: the core really
#                             has no NT_FILE, info names the link map, the
#                             executable, version, pid and signal;
#  nofile.truth.<ver>         check_truth.py on that core: the type histogram
#                             per generation equals the truth;
#  nofile.cycles.<ver>        check_cycles.py: the garbage equals gc.collect()'s;
#  nofile.strip.<ver>         check_no_nt_file.py --strip on the ordinary truth
#                             core: NT_FILE removed gives the same results,
#                             a looping link map warns, no auxv either fails
#                             with the documented message.
foreach(ver ${CH_TRUTH_PYTHON_VERSIONS})
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" ver_mm "${ver}")
  set(py "${ch_pyenv_root}/versions/${ver}/bin/python${ver_mm}")
  set(dir "${CMAKE_BINARY_DIR}/fixtures-nofile/${ver}")
  set(variant --gc enabled --freeze)
  set(kernel_core "${ver}-enabled-freeze")
  if(ver VERSION_LESS 3.7)  # gc.freeze() is 3.7+
    set(variant --gc disabled --no-freeze)
    set(kernel_core "${ver}-disabled")
  endif()
  ch_scenario_fixture(nofile qemu-${ver} ${ver} scenario_heap.py ${dir} ${variant})
  set_tests_properties(nofile.fixture.qemu-${ver} PROPERTIES ENVIRONMENT CH_CORE_LAUNCHER=qemu-x86_64)
  set(core ${dir}/core.qemu-${ver})
  set(truth ${dir}/truth.qemu-${ver}.json)
  set(args --python ${py} --coreheap $<TARGET_FILE:coreheap>)
  add_test(NAME nofile.qemu.${ver}
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_no_nt_file.py --qemu ${args}
                   --core ${core} --truth ${truth})
  add_test(NAME nofile.truth.${ver}
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_truth.py ${args}
                   --core ${core} --truth ${truth})
  add_test(NAME nofile.cycles.${ver}
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_cycles.py
                   --coreheap $<TARGET_FILE:coreheap> --core ${core} --truth ${truth})
  set_tests_properties(nofile.qemu.${ver} nofile.truth.${ver} nofile.cycles.${ver} PROPERTIES
    FIXTURES_REQUIRED nofile.qemu-${ver} SKIP_RETURN_CODE 77 LABELS nofile TIMEOUT 900)
  set(kdir "${CMAKE_BINARY_DIR}/fixtures/${kernel_core}")
  add_test(NAME nofile.strip.${ver}
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_no_nt_file.py --strip ${args}
                   --core ${kdir}/core.${kernel_core} --truth ${kdir}/truth.${kernel_core}.json
                   --out ${CMAKE_BINARY_DIR}/fixtures-nofile/strip-${ver})
  set_tests_properties(nofile.strip.${ver} PROPERTIES
    FIXTURES_REQUIRED truth.${kernel_core} SKIP_RETURN_CODE 77 LABELS nofile TIMEOUT 900)
endforeach()

# Threads under qemu-user (qemu writes one NT_PRSTATUS per guest thread):
# fixtures/scenario_threads.py's stacks (check_stacks.py) and native frames
# (check_native.py) from a core without NT_FILE, on three versions whose
# frame layouts differ (a core is ~85 MB: seven 8 MiB thread stacks). 3.7
# tells OS threads from Python thread states by pthread_self(), the fs_base
# qemu writes as 0 (readers/process/thread_pointer.c finds it again).
set(CH_NOFILE_STACKS_VERSIONS 3.7.16 3.12.1 3.13.0
    CACHE STRING "pyenv CPython versions whose thread scenario also runs under qemu-user")
foreach(ver ${CH_NOFILE_STACKS_VERSIONS})
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" ver_mm "${ver}")
  set(py "${ch_pyenv_root}/versions/${ver}/bin/python${ver_mm}")
  set(dir "${CMAKE_BINARY_DIR}/fixtures-nofile/threads-${ver}")
  ch_scenario_fixture(nofile threads-${ver} ${ver} scenario_threads.py ${dir})
  set_tests_properties(nofile.fixture.threads-${ver} PROPERTIES ENVIRONMENT CH_CORE_LAUNCHER=qemu-x86_64)
  foreach(check stacks native)
    add_test(NAME nofile.${check}.${ver}
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_${check}.py
                     --python ${py} --coreheap $<TARGET_FILE:coreheap>
                     --core ${dir}/core.threads-${ver} --truth ${dir}/truth.threads-${ver}.json)
    set_tests_properties(nofile.${check}.${ver} PROPERTIES
      FIXTURES_REQUIRED nofile.threads-${ver} SKIP_RETURN_CODE 77 LABELS "nofile;${check}" TIMEOUT 600)
  endforeach()
endforeach()
