# Configures, builds and runs one consumer project (MODE = fetchcontent or
# find_package) in a fresh work directory. Run by ctest with cmake -P.
foreach(var MODE ORDERLY_SOURCE_DIR ORDERLY_BUILD_DIR CONSUMER_SOURCE_ROOT WORK_ROOT GENERATOR)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "run_consumer.cmake: ${var} is not set")
    endif()
endforeach()

set(work ${WORK_ROOT}/${MODE})
file(REMOVE_RECURSE ${work})
file(MAKE_DIRECTORY ${work})

function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        list(JOIN ARGN " " command)
        message(FATAL_ERROR "consumer ${MODE}: `${command}` failed (${rc})")
    endif()
endfunction()

set(configure_args
    -G ${GENERATOR}
    -D CMAKE_BUILD_TYPE=${BUILD_TYPE}
    -D CMAKE_CXX_COMPILER=${CXX_COMPILER}
    -D CMAKE_CXX_COMPILER_LAUNCHER=${CXX_COMPILER_LAUNCHER}
    "-D CMAKE_CXX_FLAGS=${CXX_FLAGS}"
    "-D CMAKE_EXE_LINKER_FLAGS=${EXE_LINKER_FLAGS}")

if(MODE STREQUAL "fetchcontent")
    list(APPEND configure_args -D ORDERLY_SOURCE_DIR=${ORDERLY_SOURCE_DIR})
elseif(MODE STREQUAL "find_package")
    # Install the orderly just built into a private prefix, as a host would
    # install a packaged orderly, then find it there and nowhere else.
    run(${CMAKE_COMMAND} --install ${ORDERLY_BUILD_DIR} --prefix ${work}/prefix)
    list(APPEND configure_args -D CMAKE_PREFIX_PATH=${work}/prefix -D CMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON)
else()
    message(FATAL_ERROR "run_consumer.cmake: unknown MODE ${MODE}")
endif()

run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_ROOT}/${MODE} -B ${work}/build ${configure_args})
run(${CMAKE_COMMAND} --build ${work}/build)
run(${work}/build/my_shop ${work}/my_shop.db)
