#include "fault_store.hpp"

#include <functional>
#include <utility>

namespace orderly::sim {
namespace {

error injected_failure(commit_fault fault) {
    return error{fault == commit_fault::fail_busy ? errc::busy : errc::conflict, "",
                 "injected fault: the commit failed before anything was written"};
}

bool fails_before(commit_fault fault) {
    return fault == commit_fault::fail_busy || fault == commit_fault::fail_conflict;
}

error lost_acknowledgement() {
    return error{errc::busy, "", "injected fault: committed, but the acknowledgement was lost"};
}

// Where a wrapped transaction's writes go when it commits: the store's log,
// or its batch's pending list until the batch commits.
using sink = std::function<void(write_set&&)>;

class fault_transaction final : public store_transaction {
public:
    fault_transaction(std::unique_ptr<store_transaction> inner, fault_store& owner, sink into,
                      bool allow_lost_ack)
        : inner_(std::move(inner)),
          owner_(owner),
          into_(std::move(into)),
          allow_lost_ack_(allow_lost_ack) {}

    result<std::optional<order>> find_order(order_id id) override { return inner_->find_order(id); }
    result<void> put_order(const order& o) override {
        return keep(inner_->put_order(o), writes_.orders, o);
    }
    result<void> append_timeline(order_id id, const timeline_entry& entry) override {
        return keep(inner_->append_timeline(id, entry), writes_.timeline, std::pair{id, entry});
    }
    result<std::optional<shipment>> find_shipment(shipment_id id) override {
        return inner_->find_shipment(id);
    }
    result<void> put_shipment(const shipment& s) override {
        return keep(inner_->put_shipment(s), writes_.shipments, s);
    }
    result<std::optional<stock_transfer>> find_transfer(transfer_id id) override {
        return inner_->find_transfer(id);
    }
    result<void> put_transfer(const stock_transfer& t) override {
        return keep(inner_->put_transfer(t), writes_.transfers, t);
    }
    result<std::optional<ticket>> find_ticket(ticket_id id) override {
        return inner_->find_ticket(id);
    }
    result<void> put_ticket(const ticket& t) override {
        return keep(inner_->put_ticket(t), writes_.tickets, t);
    }
    result<std::optional<exception_case>> find_case(case_id id) override {
        return inner_->find_case(id);
    }
    result<std::optional<exception_case>> find_live_case(std::string_view cause_key) override {
        return inner_->find_live_case(cause_key);
    }
    result<void> put_case(const exception_case& c) override {
        auto done = inner_->put_case(c);
        if (done) {
            case_write kept{c, c.timeline.size()};
            auto& t = kept.c.timeline;
            if (t.size() > case_write::kept_entries) {
                t.erase(t.begin(), t.end() - case_write::kept_entries);
            }
            writes_.cases.push_back(std::move(kept));
        }
        return done;
    }
    result<void> archive_order(order_id id, std::uint64_t version) override {
        return keep(inner_->archive_order(id, version), writes_.archived, std::pair{id, version});
    }
    result<std::optional<sku>> find_sku(const sku_id& id) override { return inner_->find_sku(id); }
    result<void> put_sku(const sku& s) override {
        return keep(inner_->put_sku(s), writes_.skus, s);
    }
    result<std::vector<stock_level>> find_stock(const sku_id& id) override {
        return inner_->find_stock(id);
    }
    result<void> change_stock(const stock_change& change) override {
        return keep(inner_->change_stock(change), writes_.stock, change);
    }
    result<void> enqueue(const notification& note) override {
        return keep(inner_->enqueue(note), writes_.notes, note);
    }
    result<std::optional<idempotency_record>> find_idempotency(std::string_view key) override {
        return inner_->find_idempotency(key);
    }
    result<void> put_idempotency(const idempotency_record& record) override {
        return keep(inner_->put_idempotency(record), writes_.keys, record);
    }

    result<void> commit() override {
        const commit_fault fault = owner_.decide(allow_lost_ack_);
        if (fails_before(fault)) {
            return injected_failure(fault);
        }
        if (auto r = inner_->commit(); !r) {
            return r;
        }
        into_(std::move(writes_));
        if (fault == commit_fault::lost_ack) {
            return lost_acknowledgement();
        }
        return {};
    }

private:
    template <class T>
    static result<void> keep(result<void> done, std::vector<T>& into, T value) {
        if (done) {
            into.push_back(std::move(value));
        }
        return done;
    }

    std::unique_ptr<store_transaction> inner_;
    fault_store& owner_;
    sink into_;
    bool allow_lost_ack_;
    write_set writes_;
};

// A grouping store's batch: its transactions' writes are logged when the
// batch commits, and the batch's commit can fail or lose its acknowledgement.
class fault_batch final : public store_batch {
public:
    fault_batch(std::unique_ptr<store_batch> inner, fault_store& owner)
        : inner_(std::move(inner)), owner_(owner) {}

    result<std::unique_ptr<store_transaction>> begin() override {
        auto tx = inner_->begin();
        if (!tx) {
            return std::move(tx).error();
        }
        sink into = [this](write_set&& w) { pending_.push_back(std::move(w)); };
        return std::unique_ptr<store_transaction>(
            std::make_unique<fault_transaction>(std::move(*tx), owner_, std::move(into), false));
    }

    result<void> commit() override {
        const commit_fault fault = owner_.decide(true);
        if (fails_before(fault)) {
            return error{errc::busy, "", "injected fault: the batch failed before its commit"};
        }
        if (auto r = inner_->commit(); !r) {
            return r;
        }
        for (auto& w : pending_) {
            owner_.record(std::move(w));
        }
        pending_.clear();
        if (fault == commit_fault::lost_ack) {
            return lost_acknowledgement();
        }
        return {};
    }

private:
    std::unique_ptr<store_batch> inner_;
    fault_store& owner_;
    std::vector<write_set> pending_;
};

}  // namespace

fault_store::fault_store(std::uint64_t seed, commit_log& log) : random_(seed), log_(log) {}

void fault_store::attach(store& inner, bool grouping) {
    inner_ = &inner;
    grouping_ = grouping;
}

commit_fault fault_store::decide(bool allow_lost_ack) {
    ++counts_.commits;
    // Both draws every time, so the stream does not depend on the rates.
    const bool fail = random_.chance(rates_.fail_before_commit);
    const bool lose = random_.chance(rates_.lost_ack);
    const bool busy = random_.chance(500);
    if (fail) {
        ++counts_.failed_before_commit;
        fault_seen_ = true;
        return busy ? commit_fault::fail_busy : commit_fault::fail_conflict;
    }
    if (lose && allow_lost_ack) {
        ++counts_.lost_acks;
        fault_seen_ = lost_ack_seen_ = true;
        return commit_fault::lost_ack;
    }
    return commit_fault::none;
}

void fault_store::record(write_set&& writes) {
    if (!writes.empty()) {
        log_.commits.push_back(std::move(writes));
    }
}

result<std::unique_ptr<store_transaction>> fault_store::begin() {
    auto tx = inner_->begin();
    if (!tx) {
        return std::move(tx).error();
    }
    sink into = [this](write_set&& w) { record(std::move(w)); };
    return std::unique_ptr<store_transaction>(
        std::make_unique<fault_transaction>(std::move(*tx), *this, std::move(into), true));
}

result<std::unique_ptr<store_batch>> fault_store::begin_batch() {
    if (!grouping_) {
        return store::begin_batch();  // each transaction commits through begin()
    }
    auto batch = inner_->begin_batch();
    if (!batch) {
        return std::move(batch).error();
    }
    return std::unique_ptr<store_batch>(std::make_unique<fault_batch>(std::move(*batch), *this));
}

result<void> fault_store::mark_delivered(std::uint64_t id) {
    if (random_.chance(rates_.mark_delivered)) {
        ++counts_.failed_marks;
        fault_seen_ = true;
        return error{errc::busy, "", "injected fault: the delivered mark was not written"};
    }
    return inner_->mark_delivered(id);
}

// --- plain delegation -----------------------------------------------------------

result<std::optional<order>> fault_store::load_order(order_id id) {
    return inner_->load_order(id);
}
result<std::vector<timeline_entry>> fault_store::timeline(order_id id) {
    return inner_->timeline(id);
}
result<std::vector<order_id>> fault_store::orders_in_state(order_state state, order_id after,
                                                           std::size_t limit) {
    return inner_->orders_in_state(state, after, limit);
}
result<std::vector<order_id>> fault_store::due_orders(timestamp now, std::size_t limit) {
    return inner_->due_orders(now, limit);
}
result<std::optional<shipment>> fault_store::load_shipment(shipment_id id) {
    return inner_->load_shipment(id);
}
result<std::vector<shipment_id>> fault_store::shipments_in_state(shipment_state state,
                                                                 shipment_id after,
                                                                 std::size_t limit) {
    return inner_->shipments_in_state(state, after, limit);
}
result<std::vector<shipment_id>> fault_store::due_shipments(timestamp now, std::size_t limit) {
    return inner_->due_shipments(now, limit);
}
result<std::optional<sku>> fault_store::load_sku(const sku_id& id) {
    return inner_->load_sku(id);
}
result<std::optional<stock_level>> fault_store::stock(const sku_id& sku,
                                                      const warehouse_id& warehouse) {
    return inner_->stock(sku, warehouse);
}
result<std::vector<stock_level>> fault_store::all_stock() {
    return inner_->all_stock();
}
result<std::vector<stock_movement>> fault_store::stock_movements(const sku_id& sku,
                                                                 const warehouse_id& warehouse,
                                                                 timestamp from, timestamp to) {
    return inner_->stock_movements(sku, warehouse, from, to);
}
result<std::optional<stock_transfer>> fault_store::load_transfer(transfer_id id) {
    return inner_->load_transfer(id);
}
result<std::vector<transfer_id>> fault_store::transfers_in_state(transfer_state state,
                                                                 transfer_id after,
                                                                 std::size_t limit) {
    return inner_->transfers_in_state(state, after, limit);
}
result<std::optional<ticket>> fault_store::load_ticket(ticket_id id) {
    return inner_->load_ticket(id);
}
result<std::vector<ticket_id>> fault_store::tickets_in_state(ticket_state state, ticket_id after,
                                                             std::size_t limit) {
    return inner_->tickets_in_state(state, after, limit);
}
result<std::vector<ticket_id>> fault_store::due_tickets(timestamp now, std::size_t limit) {
    return inner_->due_tickets(now, limit);
}
result<std::optional<exception_case>> fault_store::load_case(case_id id) {
    return inner_->load_case(id);
}
result<std::vector<case_id>> fault_store::cases_in_state(case_state state, case_id after,
                                                         std::size_t limit) {
    return inner_->cases_in_state(state, after, limit);
}
result<std::vector<case_id>> fault_store::due_cases(timestamp now, std::size_t limit) {
    return inner_->due_cases(now, limit);
}
result<std::vector<order_id>> fault_store::archived_orders(order_id after, std::size_t limit) {
    return inner_->archived_orders(after, limit);
}
result<std::vector<notification>> fault_store::claim_notifications(timestamp now, duration lease,
                                                                   std::size_t limit) {
    return inner_->claim_notifications(now, lease, limit);
}
result<void> fault_store::reschedule(std::uint64_t id, timestamp next_attempt_at,
                                     std::string_view last_error) {
    return inner_->reschedule(id, next_attempt_at, last_error);
}
result<std::vector<outbox_entry>> fault_store::outbox_of(order_id id) {
    return inner_->outbox_of(id);
}
result<std::size_t> fault_store::undelivered_count() {
    return inner_->undelivered_count();
}

}  // namespace orderly::sim
