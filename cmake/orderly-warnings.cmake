# Warnings for orderly's own targets only: PRIVATE, never forced on a host.
function(orderly_set_warnings target)
    if(NOT ORDERLY_WARNINGS)
        return()
    endif()
    if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
        target_compile_options(${target} PRIVATE
            -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
            -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual
            -Wimplicit-fallthrough)
        # -Wnull-dereference stays off: with GCC 12 at -O2 it reports paths
        # the optimiser invents inside std::optional, std::unique_ptr and
        # Boost.Variant2 (false positives), and a warning we must ignore
        # trains everyone to ignore warnings.
        if(ORDERLY_WARNINGS_AS_ERRORS)
            target_compile_options(${target} PRIVATE -Werror)
        endif()
    elseif(MSVC)
        target_compile_options(${target} PRIVATE /W4 $<$<BOOL:${ORDERLY_WARNINGS_AS_ERRORS}>:/WX>)
    endif()
endfunction()
