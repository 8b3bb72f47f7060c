# Python 2 cores (label "oldpy"): tests/check_python2.py makes a core with
# pyenv's 2.7.18 at test time and expects every command to refuse it as
# "Python 2.7 is not supported" with exit 4. Without that interpreter the
# test is SKIPPED (77, reason printed).
set(ch_py2 "${ch_pyenv_root}/versions/2.7.18/bin/python2.7")
if(Python3_Interpreter_FOUND)
  add_test(NAME oldpy.python2
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_python2.py
                   --python ${ch_py2} --coreheap $<TARGET_FILE:coreheap>
                   --out ${CMAKE_BINARY_DIR}/fixtures-python2)
else()
  add_test(NAME oldpy.python2 COMMAND sh -c "echo 'check_python2: SKIP: no Python 3 found when configuring' && exit 77")
endif()
set_tests_properties(oldpy.python2 PROPERTIES SKIP_RETURN_CODE 77 LABELS oldpy TIMEOUT 120)

# Sub-interpreters (label "subinterp"): tests/check_subinterp.py makes two
# cores with pyenv's 3.12.1 at test time, one with two sub-interpreters
# (_xxsubinterpreters) and one without, and expects the warning that only
# the main interpreter's GC lists are read exactly for the first.
set(ch_py312 "${ch_pyenv_root}/versions/3.12.1/bin/python3.12")
if(Python3_Interpreter_FOUND)
  add_test(NAME subinterp.warning
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_subinterp.py
                   --python ${ch_py312} --coreheap $<TARGET_FILE:coreheap>
                   --out ${CMAKE_BINARY_DIR}/fixtures-subinterp)
else()
  add_test(NAME subinterp.warning COMMAND sh -c "echo 'check_subinterp: SKIP: no Python 3 found when configuring' && exit 77")
endif()
set_tests_properties(subinterp.warning PROPERTIES SKIP_RETURN_CODE 77 LABELS subinterp TIMEOUT 120)
