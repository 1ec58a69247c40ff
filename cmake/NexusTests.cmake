# nexus_add_suites(PREFIX LIBRARY ENVIRONMENT): every tests/test_*.c of the
# calling directory is one cmocka suite, an executable PREFIX_test_x linked
# with LIBRARY and registered with ctest, run with ENVIRONMENT (a list of
# NAME=VALUE; process tests find the binaries there).
function(nexus_add_suites prefix library environment)
  file(GLOB suites CONFIGURE_DEPENDS
    ${CMAKE_CURRENT_SOURCE_DIR}/tests/test_*.c)
  foreach(src ${suites})
    get_filename_component(name ${src} NAME_WE)
    add_executable(${prefix}_${name} ${src})
    target_link_libraries(${prefix}_${name} PRIVATE ${library})
    add_test(NAME ${prefix}_${name} COMMAND ${prefix}_${name})
    set_tests_properties(${prefix}_${name} PROPERTIES
      ENVIRONMENT "${environment}" TIMEOUT 120)
  endforeach()
endfunction()
