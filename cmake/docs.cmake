# The man page, the shell completions and docs/commands.md, rendered by
# scripts/gen_docs.py from the built coreheap's --help texts: those texts
# (cli/cmd_*.c, cli/options.c, cli/main.c) are the one source of command and
# option text. Generated into ${CH_DOCS_DIR} on every build where coreheap
# changed (target ch_docs, in ALL so that `cmake --install` finds them).
# `update-docs` copies commands.md over the committed docs/commands.md; the
# test docs.commands_md fails while the two differ.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
set(CH_DOCS_DIR ${CMAKE_BINARY_DIR}/docs)
set(CH_DOCS_OUTPUTS ${CH_DOCS_DIR}/commands.md ${CH_DOCS_DIR}/coreheap.1 ${CH_DOCS_DIR}/coreheap.1.gz
    ${CH_DOCS_DIR}/coreheap.bash ${CH_DOCS_DIR}/_coreheap)
add_custom_command(OUTPUT ${CH_DOCS_OUTPUTS}
  COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/gen_docs.py
          --coreheap $<TARGET_FILE:coreheap> --out-dir ${CH_DOCS_DIR}
  DEPENDS coreheap ${PROJECT_SOURCE_DIR}/scripts/gen_docs.py ${PROJECT_SOURCE_DIR}/scripts/docs_help.py
          ${PROJECT_SOURCE_DIR}/scripts/docs_completion.py
  COMMENT "Generating the man page, completions and commands.md from coreheap --help"
  VERBATIM)
add_custom_target(ch_docs ALL DEPENDS ${CH_DOCS_OUTPUTS})
add_custom_target(update-docs
  COMMAND ${CMAKE_COMMAND} -E copy_if_different ${CH_DOCS_DIR}/commands.md ${PROJECT_SOURCE_DIR}/docs/commands.md
  DEPENDS ${CH_DOCS_DIR}/commands.md
  COMMENT "Updating docs/commands.md from coreheap --help"
  VERBATIM)
