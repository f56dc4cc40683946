#pragma once
/// \file
/// Everything a host needs, in one include. Include the single headers under
/// orderly/ instead when compile time matters.

#include <orderly/version.hpp>

#include <orderly/core/address.hpp>
#include <orderly/core/currency.hpp>
#include <orderly/core/error.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/money.hpp>
#include <orderly/core/order_number.hpp>
#include <orderly/core/quantity.hpp>
#include <orderly/core/rate.hpp>
