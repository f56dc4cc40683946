#pragma once
// The simulator's picture of the world, kept from the commit log: every
// order, shipment, ticket, case and transfer it has seen committed, by
// state, with what the invariants carry from one commit to the next
// (running reservation sums per stock row, the refunds finance was told of,
// each timeline's last state).

#include "commit_log.hpp"
#include "registry.hpp"

#include <orderly/orderly.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace orderly::sim {

using stock_key = std::pair<sku_id, warehouse_id>;

struct line_info {
    sku_id sku;
    std::int64_t units{0};
    std::int64_t price_minor{0};
};

struct order_info {
    order_state state{order_state::pending_review};
    order_state held_from{order_state::pending_review};
    customer_id customer;
    payment_method method{payment_method::card};
    std::int64_t total{0};
    std::vector<line_info> lines;
    std::vector<shipment_id> shipments;
    std::vector<ticket_id> tickets;
    timestamp placed_at{};
    timestamp updated_at{};
    std::optional<order_state> last_to;  // the timeline's last state
    std::vector<reservation> active;     // live reservations, as last committed
    std::int64_t refund_notes{0};        // refund_issued amounts enqueued, fen
    std::int64_t compensation_notes{0};  // compensation_issued amounts enqueued, fen
    bool rated{false};
    bool archived{false};
};

struct shipment_info {
    shipment_state state{shipment_state::planned};
    std::vector<order_id> orders;
    warehouse_id warehouse;
    std::vector<std::pair<sku_id, std::int64_t>> lines;  // units per SKU
    carrier_id carrier;
    std::optional<ticket_id> ticket;
    std::vector<std::size_t> open_exceptions;
    std::uint64_t wave{0};
    timestamp updated_at{};
    std::optional<timestamp> shipped_at;
};

struct ticket_info {
    ticket_state state{ticket_state::submitted};
    ticket_state escalated_from{ticket_state::submitted};
    order_id order;
    customer_id customer;
    ticket_type type{ticket_type::refund_only};
    std::vector<ticket_line> lines;
    bool parcel_reported{false};
    bool repair_failed{false};
    std::size_t timeline_size{0};
    std::optional<shipment_id> replacement;
    timestamp updated_at{};
};

struct case_info {
    case_state state{case_state::open};
    case_type type{case_type::other};
    std::size_t timeline_size{0};
    timestamp updated_at{};
};

struct transfer_info {
    transfer_state state{transfer_state::in_transit};
    sku_id sku;
    warehouse_id from;
    warehouse_id to;
    std::int64_t units{0};
    timestamp updated_at{};
};

// A state change the model saw, for the actors that react to it (a gateway
// paying an order that awaits payment, a carrier moving a shipped parcel).
struct seen_change {
    enum class kind : std::uint8_t { order, shipment, ticket };
    kind what{kind::order};
    std::uint64_t id{0};
    int from{-1};  // the old state's value, -1 for a new aggregate
    int to{0};
};

class model {
public:
    registry<order_id, order_info, order_state> orders;
    registry<shipment_id, shipment_info, shipment_state> shipments;
    registry<ticket_id, ticket_info, ticket_state> tickets;
    registry<case_id, case_info, case_state> cases;
    registry<transfer_id, transfer_info, transfer_state> transfers;

    // Units reserved per stock row by the live reservations of every order.
    [[nodiscard]] std::int64_t reserved(const stock_key& row) const {
        auto it = reserved_.find(row);
        return it == reserved_.end() ? 0 : it->second;
    }
    [[nodiscard]] const std::map<stock_key, std::int64_t>& reserved_rows() const {
        return reserved_;
    }

    // Per order and kind, for notifications that other changes may also
    // send (payment_result, shipped, delivered): how many changes owed one
    // and how many were enqueued, over the order's life.
    struct note_tally {
        int owed{0};
        int told{0};
    };
    std::unordered_map<order_id, std::map<notification_kind, note_tally>, id_hash> tallies;

    // Folds one commit in; appends the state changes it saw.
    void apply(const write_set& w, std::vector<seen_change>& changes);

private:
    void apply_order(const order& o, std::vector<seen_change>& changes);
    void apply_note(const notification& n);
    void apply_shipment(const shipment& s, std::vector<seen_change>& changes);
    void apply_ticket(const ticket& t, std::vector<seen_change>& changes);
    void move_reservations(const std::vector<reservation>& before,
                           const std::vector<reservation>& after);

    std::map<stock_key, std::int64_t> reserved_;
};

// The money amount a notification's "amount" detail names, in fen; 0 when none.
std::int64_t amount_detail(const notification& n);

}  // namespace orderly::sim
