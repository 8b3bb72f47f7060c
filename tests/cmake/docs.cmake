# Documentation: every relative link in README.md and docs/*.md resolves to
# a file and, with a #fragment, to a heading (tests/check_doc_links.py).
if(Python3_Interpreter_FOUND)
  add_test(NAME docs.links
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_doc_links.py ${PROJECT_SOURCE_DIR})
else()
  add_test(NAME docs.links COMMAND sh -c "echo 'check_doc_links: SKIP: no Python 3 found when configuring' && exit 77")
endif()
set_tests_properties(docs.links PROPERTIES LABELS docs SKIP_RETURN_CODE 77 TIMEOUT 60)
