#pragma once
/// \file
/// Everything a host needs, in one include. Include the single headers under
/// orderly/ instead when compile time matters.

#include <orderly/version.hpp>

#include <orderly/core/actor.hpp>
#include <orderly/core/address.hpp>
#include <orderly/core/currency.hpp>
#include <orderly/core/error.hpp>
#include <orderly/core/id.hpp>
#include <orderly/core/money.hpp>
#include <orderly/core/order_number.hpp>
#include <orderly/core/quantity.hpp>
#include <orderly/core/rate.hpp>
#include <orderly/core/time.hpp>

#include <orderly/aftersales/refund.hpp>
#include <orderly/aftersales/ticket.hpp>
#include <orderly/aftersales/ticket_machine.hpp>
#include <orderly/catalog/sku.hpp>
#include <orderly/fulfilment/goods_traits.hpp>
#include <orderly/fulfilment/packing.hpp>
#include <orderly/fulfilment/pick_wave.hpp>
#include <orderly/fulfilment/shipment_machine.hpp>
#include <orderly/fulfilment/warehouse.hpp>
#include <orderly/inventory/reservation_machine.hpp>
#include <orderly/inventory/stock.hpp>
#include <orderly/inventory/transfer_machine.hpp>
#include <orderly/lifecycle/machines.hpp>
#include <orderly/logistics/carrier.hpp>
#include <orderly/logistics/tracking.hpp>
#include <orderly/logistics/tracking_machine.hpp>
#include <orderly/ops/case_library.hpp>
#include <orderly/ops/case_machine.hpp>
#include <orderly/ops/exception_case.hpp>
#include <orderly/ops/settlement.hpp>
#include <orderly/ops/status_board.hpp>
#include <orderly/order/order.hpp>
#include <orderly/order/order_machine.hpp>
#include <orderly/payment/payment.hpp>
#include <orderly/payment/payment_machine.hpp>

#include <orderly/ports/access_policy.hpp>
#include <orderly/ports/carrier_directory.hpp>
#include <orderly/ports/clock.hpp>
#include <orderly/ports/notifier.hpp>
#include <orderly/ports/store.hpp>

#include <orderly/engine/after_sales.hpp>
#include <orderly/engine/engine.hpp>
#include <orderly/engine/operations.hpp>
#include <orderly/engine/outcome.hpp>
#include <orderly/engine/settings.hpp>
#include <orderly/engine/settings_file.hpp>
#include <orderly/storage/memory_store.hpp>
