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
