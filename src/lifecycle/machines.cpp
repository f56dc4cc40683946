// Every lifecycle machine's description in one list, for the checks over
// every table (tests/unit/lifecycle_machines_test.cpp) and anything else that
// walks them all. Includes only the facades: no MSM is compiled here.
#include <orderly/lifecycle/machines.hpp>

#include <orderly/aftersales/ticket_machine.hpp>
#include <orderly/fulfilment/shipment_machine.hpp>
#include <orderly/inventory/reservation_machine.hpp>
#include <orderly/inventory/transfer_machine.hpp>
#include <orderly/logistics/tracking_machine.hpp>
#include <orderly/ops/case_machine.hpp>
#include <orderly/order/order_machine.hpp>
#include <orderly/payment/payment_machine.hpp>

namespace orderly {

std::vector<machine_description> lifecycle_machines() {
    return {order_machine_description(),       payment_machine_description(),
            reservation_machine_description(), shipment_machine_description(),
            tracking_machine_description(),    transfer_machine_description(),
            ticket_machine_description(),      case_machine_description()};
}

}  // namespace orderly
