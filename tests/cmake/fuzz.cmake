# ---------------------------------------------------------------------------
# Fuzzing (label "fuzz"; only in a clang build configured with -DCH_FUZZ=ON,
# see tests/fuzz/README.md). One libFuzzer executable per parser of untrusted
# bytes (tests/fuzz/fuzz_<name>.c), each through the project's real API.
#   fuzz.seeds        makes the seed corpora in ${CMAKE_BINARY_DIR}/fuzz/seeds
#                     from a fixture core, the fixture interpreter's files, a
#                     compiled seed object and coreheap's own snapshots
#                     (tests/fuzz/make_seeds.py; nothing binary is committed).
#   fuzz.<name>       runs the target for CH_FUZZ_SECONDS over a corpus in
#                     ${CMAKE_BINARY_DIR}/fuzz/corpus/<name> (kept between
#                     runs); a crash, leak, timeout or sanitizer report fails
#                     and leaves the reproducer in ${CMAKE_BINARY_DIR}/fuzz/artifacts.
#   fuzz.mutate       the whole-pipeline mutation test (tests/fuzz/mutate_cores.py)
#                     over fixture cores of three CPython versions, bounded by
#                     CH_FUZZ_MUTANTS mutants and CH_FUZZ_MUTATE_SECONDS.
if(NOT CH_FUZZ)
  return()
endif()

# The walkers of synthetic memory (glibc malloc, pymalloc, the traverse
# sandbox) and the heap index checks run for CH_FUZZ_SHORT_SECONDS: their inputs are small and
# their code is reached in seconds, and ctest -L fuzz stays about two
# minutes on two cores.
set(CH_FUZZ_TARGETS core elf dwarf inflate snapshot gate glibc pymalloc emu index cache)
set(CH_FUZZ_SHORT_TARGETS glibc pymalloc emu index cache)
set(CH_FUZZ_SECONDS 20 CACHE STRING "seconds each libFuzzer target runs in ctest -L fuzz")
set(CH_FUZZ_SHORT_SECONDS 10 CACHE STRING "seconds each of CH_FUZZ_SHORT_TARGETS runs in ctest -L fuzz")
# fuzz_emu keeps one Unicorn engine for every input, whose translation
# cache grows without a matching free: libFuzzer's per-input leak check
# would then scan the whole heap after almost every input (most of the
# time went there). Leaks are still checked when the process exits.
set(ch_fuzz_options_emu -detect_leaks=0)
# A fixed seed: CI runs the same mutants and fuzzer paths each time, so a
# red run is reproducible, not luck; change it (or run tests/fuzz by hand)
# to explore further.
set(CH_FUZZ_SEED 1 CACHE STRING "random seed of the fuzz suite (mutation test and libFuzzer -seed)")
set(CH_FUZZ_MUTANTS 300 CACHE STRING "mutants the mutation test makes in ctest -L fuzz")
set(CH_FUZZ_MUTATE_SECONDS 170 CACHE STRING "time budget of the mutation test in ctest -L fuzz")
set(CH_FUZZ_VERSIONS 3.8.18 3.12.1 3.13.0 CACHE STRING "CPython versions whose fixture cores are fuzzed")
set(ch_fuzz_dir ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
set(ch_fuzz_out ${CMAKE_BINARY_DIR}/fuzz)

add_library(ch_fuzz_file OBJECT ${ch_fuzz_dir}/fuzz_file.c)
target_include_directories(ch_fuzz_file PRIVATE ${PROJECT_SOURCE_DIR})
foreach(t ${CH_FUZZ_TARGETS})
  add_executable(fuzz_${t} ${ch_fuzz_dir}/fuzz_${t}.c $<TARGET_OBJECTS:ch_fuzz_file>)
  target_link_libraries(fuzz_${t} PRIVATE coreheap_lib)
  target_include_directories(fuzz_${t} PRIVATE ${ch_fuzz_dir})
  target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
endforeach()

# What the fuzz suite of tests/run_all.sh builds: the targets and coreheap.
add_custom_target(fuzz_all)
foreach(t ${CH_FUZZ_TARGETS})
  add_dependencies(fuzz_all fuzz_${t})
endforeach()
add_dependencies(fuzz_all coreheap)

# The seed core: the smallest truth fixture of the middle version.
list(GET CH_FUZZ_VERSIONS 1 ch_fuzz_seed_ver)
set(ch_fuzz_seed_fixture truth.${ch_fuzz_seed_ver}-disabled)
set(ch_fuzz_seed_core ${CMAKE_BINARY_DIR}/fixtures/${ch_fuzz_seed_ver}-disabled/core.${ch_fuzz_seed_ver}-disabled)
string(REGEX MATCH "^[0-9]+\\.[0-9]+" ch_fuzz_seed_mm "${ch_fuzz_seed_ver}")

if(Python3_Interpreter_FOUND)
  add_test(NAME fuzz.seeds
           COMMAND ${Python3_EXECUTABLE} ${ch_fuzz_dir}/make_seeds.py
                   --coreheap $<TARGET_FILE:coreheap> --cc ${CMAKE_C_COMPILER}
                   --core ${ch_fuzz_seed_core}
                   --python ${ch_pyenv_root}/versions/${ch_fuzz_seed_ver}/bin/python${ch_fuzz_seed_mm}
                   --source ${PROJECT_SOURCE_DIR} --out ${ch_fuzz_out}/seeds)
else()
  add_test(NAME fuzz.seeds COMMAND sh -c "echo 'make_seeds: SKIP: no Python 3 found when configuring' && exit 77")
endif()
set_tests_properties(fuzz.seeds PROPERTIES FIXTURES_SETUP fuzz.seeds FIXTURES_REQUIRED ${ch_fuzz_seed_fixture}
                     LABELS fuzz SKIP_RETURN_CODE 77 TIMEOUT 300)

foreach(t ${CH_FUZZ_TARGETS})
  set(ch_fuzz_t_seconds ${CH_FUZZ_SECONDS})
  if(t IN_LIST CH_FUZZ_SHORT_TARGETS)
    set(ch_fuzz_t_seconds ${CH_FUZZ_SHORT_SECONDS})
  endif()
  add_test(NAME fuzz.${t}
           COMMAND bash ${ch_fuzz_dir}/run_fuzz.sh $<TARGET_FILE:fuzz_${t}> ${ch_fuzz_out} ${t} ${ch_fuzz_t_seconds} -seed=${CH_FUZZ_SEED}
                   ${ch_fuzz_options_${t}})
  math(EXPR ch_fuzz_timeout "${ch_fuzz_t_seconds} * 3 + 60")
  set_tests_properties(fuzz.${t} PROPERTIES FIXTURES_REQUIRED fuzz.seeds LABELS fuzz
                       TIMEOUT ${ch_fuzz_timeout})
endforeach()

set(ch_fuzz_cores "")
set(ch_fuzz_fixtures "")
foreach(ver ${CH_FUZZ_VERSIONS})
  list(APPEND ch_fuzz_cores --core ${CMAKE_BINARY_DIR}/fixtures/${ver}-disabled/core.${ver}-disabled)
  list(APPEND ch_fuzz_fixtures truth.${ver}-disabled)
endforeach()
if(Python3_Interpreter_FOUND)
  add_test(NAME fuzz.mutate
           COMMAND ${Python3_EXECUTABLE} ${ch_fuzz_dir}/mutate_cores.py
                   --coreheap $<TARGET_FILE:coreheap> ${ch_fuzz_cores}
                   --mutants ${CH_FUZZ_MUTANTS} --seconds ${CH_FUZZ_MUTATE_SECONDS} --seed ${CH_FUZZ_SEED}
                   --out ${ch_fuzz_out}/mutate)
else()
  add_test(NAME fuzz.mutate COMMAND sh -c "echo 'mutate_cores: SKIP: no Python 3 found when configuring' && exit 77")
endif()
math(EXPR ch_fuzz_mutate_timeout "${CH_FUZZ_MUTATE_SECONDS} * 2 + 120")
set_tests_properties(fuzz.mutate PROPERTIES FIXTURES_REQUIRED "${ch_fuzz_fixtures}" LABELS fuzz
                     SKIP_RETURN_CODE 77 TIMEOUT ${ch_fuzz_mutate_timeout})
