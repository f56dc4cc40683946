#include <orderly/version.hpp>

#define ORDERLY_STRINGIFY_IMPL(x) #x
#define ORDERLY_STRINGIFY(x) ORDERLY_STRINGIFY_IMPL(x)

namespace orderly {

std::string_view version() noexcept {
    return ORDERLY_STRINGIFY(ORDERLY_VERSION_MAJOR) "." ORDERLY_STRINGIFY(
        ORDERLY_VERSION_MINOR) "." ORDERLY_STRINGIFY(ORDERLY_VERSION_PATCH);
}

}  // namespace orderly
