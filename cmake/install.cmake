# What `cmake --install` puts where (GNU layout under the prefix), and the
# Debian package CPack builds from the same rules (`cpack -G DEB` in the
# build tree; the test package.deb checks it).
include(GNUInstallDirs)
install(TARGETS coreheap RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# Compressed as Debian ships man pages (gzip -n, reproducible).
install(FILES ${CH_DOCS_DIR}/coreheap.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${CH_DOCS_DIR}/coreheap.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME coreheap)
# zsh: Debian's zsh reads packaged completions from
# /usr/share/zsh/vendor-completions and local ones from
# /usr/local/share/zsh/site-functions (not /usr/share/zsh/site-functions),
# so the directory follows the prefix at install time (CPack stages the
# package with the prefix /usr).
install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\" OR CMAKE_INSTALL_PREFIX STREQUAL \"/usr/\")
    set(ch_zsh_dir vendor-completions)
  else()
    set(ch_zsh_dir site-functions)
  endif()
  file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATADIR}/zsh/\${ch_zsh_dir}\"
       TYPE FILE FILES \"${CH_DOCS_DIR}/_coreheap\")
")
install(FILES README.md CHANGELOG.md LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})
# docs/ keeps its name so that README's relative links still resolve.
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs FILES_MATCHING PATTERN "*.md")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME coreheap)
set(CPACK_PACKAGE_VENDOR "the coreheap authors")
set(CPACK_PACKAGE_CONTACT "the coreheap authors")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
# dpkg-shlibdeps computes Depends from the binary's libraries (libc6,
# libelf1, libdwarf1, libjansson4, libzstd1, zlib1g on bookworm).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libdw.so.1 (stacks --native) is loaded with dlmopen, which
# dpkg-shlibdeps cannot see: recommended, since everything else works
# without it.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libdw1")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"heap analysis of CPython core dumps, without a debugger
coreheap reads the ELF core dump of a CPython 3.6-3.13, 3.14.5+ or 3.15
process (x86_64 Linux) and answers heap questions: objects and bytes per
type and garbage collector generation, unreachable reference cycles, roots
and reference paths, retained sizes, thread stacks, refcount anomalies, and
the differences between two dumps. It needs no debugger and runs no Python;
struct layouts come from the interpreter's DWARF debug info or from built-in
tables.")
include(CPack)
