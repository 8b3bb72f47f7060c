# Generated documentation, install and package tests (label "package", with
# "docs" or "install"); seconds each.
#  - docs.commands_md: the committed docs/commands.md is what
#    scripts/gen_docs.py renders from the current coreheap's --help texts
#    (on failure it prints the diff and `cmake --build ... --target update-docs`).
#  - docs.man: the generated man page renders with groff -wall and man -l
#    without a warning and holds every command, option and exit code.
#  - docs.completion.bash / docs.completion.zsh: the completions, run in bash
#    and in an interactive zsh, offer what the --help texts list (zsh: SKIP
#    without zsh).
#  - docs.versions: CHANGELOG.md's newest version is the project's, and
#    docs/versioning.md states the current snapshot schema.
#  - docs.readme: README.md is at most 300 lines and its command table has a
#    row for every command of `coreheap --help`, and no other.
#  - install.version: --version and cmake/git_describe.cmake.
#  - install.prefix: `cmake --install --prefix` into a scratch directory.
#  - package.deb: `cpack -G DEB` from the build tree, checked with dpkg-deb,
#    unpacked with dpkg -x and run from there. RUN_SERIAL: cpack first
#    brings the build tree up to date, which must not relink coreheap under
#    another test.
set(ch_docs_check ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_docs.py)
set(ch_install_check ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/check_install.py
    --build-dir ${CMAKE_BINARY_DIR} --source-dir ${PROJECT_SOURCE_DIR}
    --coreheap $<TARGET_FILE:coreheap> --version ${PROJECT_VERSION})

add_test(NAME docs.commands_md
         COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/gen_docs.py --coreheap $<TARGET_FILE:coreheap>
                 --check ${PROJECT_SOURCE_DIR}/docs/commands.md --build-dir ${CMAKE_BINARY_DIR})
add_test(NAME docs.man COMMAND ${ch_docs_check} man --coreheap $<TARGET_FILE:coreheap> --page ${CH_DOCS_DIR}/coreheap.1)
add_test(NAME docs.completion.bash
         COMMAND ${ch_docs_check} bash --coreheap $<TARGET_FILE:coreheap> --script ${CH_DOCS_DIR}/coreheap.bash)
add_test(NAME docs.completion.zsh
         COMMAND ${ch_docs_check} zsh --coreheap $<TARGET_FILE:coreheap> --script ${CH_DOCS_DIR}/_coreheap)
add_test(NAME docs.versions
         COMMAND ${ch_docs_check} versions --coreheap $<TARGET_FILE:coreheap>
                 --source-dir ${PROJECT_SOURCE_DIR} --version ${PROJECT_VERSION})
add_test(NAME docs.readme
         COMMAND ${ch_docs_check} readme --coreheap $<TARGET_FILE:coreheap> --source-dir ${PROJECT_SOURCE_DIR})
set_tests_properties(docs.commands_md docs.man docs.completion.bash docs.completion.zsh docs.versions docs.readme
                     PROPERTIES LABELS "package;docs" SKIP_RETURN_CODE 77 TIMEOUT 120)

add_test(NAME install.version COMMAND ${ch_install_check} version)
add_test(NAME install.prefix COMMAND ${ch_install_check} prefix)
set_tests_properties(install.version install.prefix PROPERTIES LABELS "package;install" TIMEOUT 120)
add_test(NAME package.deb COMMAND ${ch_install_check} deb)
set_tests_properties(package.deb PROPERTIES LABELS package TIMEOUT 300 RUN_SERIAL TRUE)
