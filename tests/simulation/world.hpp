#pragma once
// The simulated shop: merchants, a catalogue with restricted, fragile and
// valuable goods, warehouses in three regions plus a store room outside the
// network, two carriers, customers across China, the actors who work it,
// and settings with short deadlines so every clock path fires often.

#include "random.hpp"

#include <orderly/orderly.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace orderly::sim {

struct catalogue_item {
    const char* sku;
    const char* merchant;
    const char* category;
    std::int64_t price_minor;  // CNY fen
    sku_traits traits;
    std::int64_t low_stock_below;  // 0: no alerts
    std::int64_t weight_g;
};

const std::vector<catalogue_item>& catalogue();
const catalogue_item& item_of(const sku_id& sku);

// Warehouses that ship (in the fulfilment network), and one that only holds stock.
const std::vector<warehouse_id>& network_warehouses();
const warehouse_id& store_room();
std::vector<warehouse_id> all_warehouses();

struct customer {
    customer_id id;
    address home;
};
const std::vector<customer>& customers();
// A customer the review rules block: every order waits for a reviewer.
const customer_id& blocked_customer();

money cny(std::int64_t minor);
std::int64_t minor_of(const money& m);
quantity units(std::int64_t n);

// The actors.
struct cast {
    actor admin{"sim-admin", role::admin};
    actor frontend{"shop-frontend", role::system};
    actor gateway{"pay-gateway", role::system};
    actor carrier_hook{"carrier-hook", role::system};
    actor scheduler{"scheduler", role::system};
    actor reviewer{"risk-desk", role::reviewer};
    actor keeper{"wh-team", role::warehouse};
    actor agent{"agent-a", role::customer_service};
    actor finance{"fin-desk", role::finance};
    actor operations{"ops-li", role::customer_service};
};
const cast& actors();
actor as_customer(const customer_id& id);

// Settings with short deadlines; `random` chooses the muted kinds.
settings sim_settings(prng& random);
carrier_tables sim_carriers();
fulfilment_setup sim_setup(carrier_directory& carriers);
sku sku_entry(const catalogue_item& item);

}  // namespace orderly::sim
