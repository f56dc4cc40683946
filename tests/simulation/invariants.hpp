#pragma once
// The safety invariants, checked after every command from the commits it
// made (the fault store's commit log), against the model of what was
// committed before. Each failure names the invariant, the aggregate and
// its state.

#include "commit_log.hpp"
#include "model.hpp"
#include "simulation.hpp"

#include <set>

namespace orderly::sim {

struct invariants {
    // A refused command commits nothing, except what its refusal records by
    // design (a packing mismatch, a stock shortage case).
    static void refusal_wrote_nothing(simulation& s, const commit_log& log, const char* name,
                                      const error& why, allowed_writes allowed);
    // Before the model takes the commit in: every state change follows its
    // machine and continues the last one; notifying changes have their
    // notification in the same commit.
    static void before_commit(simulation& s, const write_set& w);
    // After: the money of every order the commit wrote.
    static void after_commit(simulation& s, const write_set& w);
    // Every stock row the command touched: counts not negative, reserved
    // equal to the live reservations of all orders.
    static void stock_rows(simulation& s, const std::set<stock_key>& rows);

    // Parts, one file each.
    static void order_timelines(simulation& s, const write_set& w);
    static void order_notifications(simulation& s, const write_set& w);
    static void ticket_and_case_timelines(simulation& s, const write_set& w);
    static void shipment_and_transfer_states(simulation& s, const write_set& w);
    static void order_money(simulation& s, const order& o);
    static void sealed_as_planned(simulation& s, const shipment& sh);
};

// "3 orders, 1 shipment, ...": what a commit wrote, for messages.
std::string describe(const write_set& w);

}  // namespace orderly::sim
