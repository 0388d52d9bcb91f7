# pybuild.cmake - what a distribution's static libpython lacks, compiled from
# that CPython's own source tree.
#
# CPython 3.12+ builds hashlib's HACL* code into libraries of their own
# (Modules/_hacl/libHacl_*.a) that the python3.X executable links but that
# Debian's and Ubuntu's libpython3.X.a leave out: 3.13's lacks SHA-2, 3.14's
# every HACL* object. omni_python_hacl() compiles the objects that the config
# Makefile names (LIBHACL_*_OBJS) and that the archive does not hold, from
# SOURCE/Modules/_hacl, with the flags that Makefile gives them, into one
# archive; it sets OUT to that archive's path, or to "" where nothing is
# missing or SOURCE has no Modules/_hacl.
function(omni_python_hacl out archive configdir source)
  set(${out} "" PARENT_SCOPE)
  if(NOT source OR NOT EXISTS "${source}/Modules/_hacl" OR NOT EXISTS "${configdir}/Makefile")
    return()
  endif()
  file(READ "${configdir}/Makefile" makefile)
  string(REPLACE "\\\n" " " makefile "${makefile}")
  string(REGEX MATCHALL "\nLIBHACL_[A-Z0-9_]*OBJS=[^\n]*" lists "${makefile}")
  string(REGEX MATCHALL "Modules/_hacl/[A-Za-z0-9_]+\\.o" wanted "${lists}")
  list(REMOVE_DUPLICATES wanted)
  execute_process(COMMAND ${CMAKE_AR} t ${archive} OUTPUT_VARIABLE members)
  string(REGEX REPLACE "\n" ";" members "${members}")
  # The SIMD variants' own flags, as the Makefile spells them.
  foreach(width 128 256)
    string(REGEX MATCH "LIBHACL_BLAKE2_SIMD${width}_CFLAGS=([^\n]*)" m "${makefile}")
    set(simd${width} "${CMAKE_MATCH_1}")
    separate_arguments(simd${width} UNIX_COMMAND "${simd${width}}")
  endforeach()
  set(dir ${CMAKE_BINARY_DIR}/hacl)
  file(MAKE_DIRECTORY ${dir})
  set(objects "")
  foreach(o ${wanted})
    get_filename_component(name ${o} NAME_WE)
    if("${name}.o" IN_LIST members OR NOT EXISTS "${source}/Modules/_hacl/${name}.c")
      continue()
    endif()
    set(flags -O2 -fno-pie -D_BSD_SOURCE -D_DEFAULT_SOURCE
              -I${source}/Modules/_hacl -I${source}/Modules/_hacl/include)
    if(name MATCHES "Simd128")
      list(APPEND flags ${simd128})
    elseif(name MATCHES "Simd256")
      list(APPEND flags ${simd256})
    endif()
    execute_process(COMMAND ${CMAKE_C_COMPILER} -c ${flags} ${PY_INCLUDES}
                            ${source}/Modules/_hacl/${name}.c -o ${dir}/${name}.o
                    RESULT_VARIABLE rc ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
      message(WARNING "cannot compile ${source}/Modules/_hacl/${name}.c: ${err}")
      return()
    endif()
    list(APPEND objects ${dir}/${name}.o)
  endforeach()
  if(NOT objects)
    return()
  endif()
  file(REMOVE ${dir}/libomni_hacl.a)
  execute_process(COMMAND ${CMAKE_AR} rcs ${dir}/libomni_hacl.a ${objects} RESULT_VARIABLE rc)
  if(rc EQUAL 0)
    list(LENGTH objects n)
    message(STATUS "compiled ${n} HACL* objects that ${archive} lacks, from ${source}")
    set(${out} ${dir}/libomni_hacl.a PARENT_SCOPE)
  endif()
endfunction()
