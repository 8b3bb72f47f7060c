# Distro interpreters and separate debug info (label "distro").
if(TARGET test_debug_file)
  # It finds the DWARF of its own stripped copies: needs -g whatever the build type.
  target_compile_options(test_debug_file PRIVATE -g)
  set_tests_properties(unit.test_debug_file PROPERTIES SKIP_RETURN_CODE 77 LABELS "unit;distro")
endif()
