# Warnings for orderly's own targets only: PRIVATE, never forced on a host.
function(orderly_set_warnings target)
    if(NOT ORDERLY_WARNINGS)
        return()
    endif()
    if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
        target_compile_options(${target} PRIVATE
            -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
            -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual
            -Wnull-dereference -Wimplicit-fallthrough)
        if(ORDERLY_WARNINGS_AS_ERRORS)
            target_compile_options(${target} PRIVATE -Werror)
        endif()
    elseif(MSVC)
        target_compile_options(${target} PRIVATE /W4 $<$<BOOL:${ORDERLY_WARNINGS_AS_ERRORS}>:/WX>)
    endif()
endfunction()
