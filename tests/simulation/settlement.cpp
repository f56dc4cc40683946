// Settlement, every few thousand commands and at the end: the next period
// from where the last ended, reconciled with every period before it, and
// each settled order's money against its payment records.

#include "simulation.hpp"
#include "world.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>

namespace orderly::sim {

using namespace std::chrono_literals;

namespace {

std::int64_t gross_less_refunds(const settlement_input& in) {
    std::int64_t sum = minor_of(in.shipping);
    for (const auto& l : in.lines) {
        sum += minor_of(l.paid);
    }
    for (const auto& r : in.refunds) {
        sum -= minor_of(r.refund.total);
    }
    for (const auto& c : in.compensations) {
        sum -= minor_of(c.amount);
    }
    return sum;
}

std::int64_t kept_by_shop(const order& o) {
    std::int64_t sum = 0;
    for (const auto& p : o.payments) {
        sum += minor_of(p.captured) - minor_of(p.refunded);
    }
    for (const auto& r : o.refunds) {
        if (r.source == refund_source::compensation) {
            sum -= minor_of(r.amount);
        }
    }
    return sum;
}

}  // namespace

void simulation::settle_and_reconcile() {
    // Ends 10 s before the latest time seen: the clock steps back at most
    // 5 s, so nothing later can be stamped inside a period already settled.
    const timestamp to = high_water_ - 10s;
    if (to <= settled_until_) {
        return;
    }
    begin_command();
    current_.name = "settle_period";
    current_.read_only = true;
    const settlement_period period{settled_until_, to};
    auto settled = engine_->settle_period(actors().finance, period);
    ++commands_run_["settle_period"];
    if (!settled) {
        violation("settlement", fmt::format("settle_period [{}, {}) was refused: {}", period.from,
                                            period.to, to_string(settled.error())));
        end_command();
        return;
    }
    periods_.push_back(settled->statements);
    settled_until_ = to;
    auto differences = reconcile(settings_.settlement, settled->inputs, periods_);
    if (!differences) {
        violation("settlement",
                  fmt::format("reconcile refused its inputs: {}", to_string(differences.error())));
    } else if (!differences->empty()) {
        const auto& d = differences->front();
        violation("settlement",
                  fmt::format("{} difference(s) over {} period(s); first {}: {}",
                              differences->size(), periods_.size(), d.field, d.message));
    }
    for (const auto& in : settled->inputs) {
        auto o = engine_->get_order(actors().admin, in.order);
        if (!o) {
            continue;
        }
        const std::int64_t settled_money = gross_less_refunds(in);
        const std::int64_t kept = kept_by_shop(*o);
        if (settled_money != kept) {
            violation("settled_order_money",
                      fmt::format("order {} ({}): settlement sees gross - refunds - compensations "
                                  "= {}, its payments and ledger say captured - refunded - "
                                  "compensations = {}",
                                  o->id, o->state, cny(settled_money).to_string(),
                                  cny(kept).to_string()));
            break;
        }
    }
    end_command();
}

}  // namespace orderly::sim
