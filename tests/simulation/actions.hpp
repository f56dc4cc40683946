#pragma once
// The actors' commands. Each action picks a target the simulator knows in a
// state it works on, builds a request (mostly well-formed), and runs it
// through simulation::issue; it returns false when it found nothing to do.
// Reactions schedule what the outside world does later (a gateway paying,
// a carrier moving a parcel, a customer sending goods back).

#include "simulation.hpp"

namespace orderly::sim {

// --- the outside world: customers, gateways, carriers (outside.cpp, carriers.cpp) ---
bool place_order(simulation& s);
bool import_orders(simulation& s);
bool stray_payment(simulation& s);
bool customer_cancels(simulation& s);
bool customer_confirms(simulation& s);
bool customer_opens_ticket(simulation& s);
bool customer_withdraws(simulation& s);
bool customer_rates(simulation& s);
void plan_payment(simulation& s, order_id id);
void plan_after_delivery(simulation& s, order_id id);
void plan_carrier(simulation& s, shipment_id id);
void plan_whole_order_delivery(simulation& s, order_id id);
void plan_return(simulation& s, ticket_id id);
void plan_repair_shipment(simulation& s, ticket_id id);

// --- the shop's staff (staff.cpp, tickets.cpp, operations.cpp) ---
bool review_order(simulation& s);
bool hold_or_release(simulation& s);
bool plan_fulfilment(simulation& s);
bool merge_shipments(simulation& s);
bool plan_waves(simulation& s);
bool scan_packing(simulation& s);
bool finish_packing(simulation& s);
bool ship_shipment(simulation& s);
bool whole_order_step(simulation& s);
bool report_exception(simulation& s);
bool resolve_exception(simulation& s);
bool work_ticket(simulation& s);
bool work_case(simulation& s);
bool open_case(simulation& s);
bool stock_work(simulation& s);
bool transfer_work(simulation& s);
bool refund_payment(simulation& s);
bool staff_cancels(simulation& s);
bool close_completed(simulation& s);
bool run_due_work(simulation& s);
bool dispatch_notifications(simulation& s);
bool archive_orders(simulation& s);
bool read_something(simulation& s);

// --- mischief: malformed requests, wrong roles, other customers' orders (mischief.cpp) ---
bool malformed_command(simulation& s);
bool wrong_actor(simulation& s);

// Staff steps the liveness phase also uses (one target; true when it issued).
bool review_one(simulation& s, order_id id);
bool plan_one(simulation& s, order_id id);
bool pack_and_seal(simulation& s, shipment_id id);
bool ship_one(simulation& s, shipment_id id);
bool work_ticket_one(simulation& s, ticket_id id);
bool work_case_one(simulation& s, case_id id);
bool receive_transfer_one(simulation& s, transfer_id id);

}  // namespace orderly::sim
