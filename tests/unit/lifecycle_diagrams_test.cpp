// The state diagrams in docs/diagrams/ are generated from the machines'
// transition tables; this test fails when a committed file differs from what
// the table generates now, so the docs cannot silently drift from the code.
//
// To regenerate the files after changing a table, run this test with
// ORDERLY_UPDATE_DIAGRAMS=1 in the environment, e.g.
//     ORDERLY_UPDATE_DIAGRAMS=1 ./build/dev/tests/unit/lifecycle_diagrams_test
// It then writes docs/diagrams/{order,payment,reservation,shipment,tracking,
// transfer,ticket,case}.{dot,mmd} instead of comparing; review and commit the
// diff. (docs/diagrams/README.md says the same.)
#include <orderly/aftersales/ticket_machine.hpp>
#include <orderly/fulfilment/shipment_machine.hpp>
#include <orderly/inventory/reservation_machine.hpp>
#include <orderly/inventory/transfer_machine.hpp>
#include <orderly/logistics/tracking_machine.hpp>
#include <orderly/ops/case_machine.hpp>
#include <orderly/order/order_machine.hpp>
#include <orderly/payment/payment_machine.hpp>

#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace {

std::string diagram_path(std::string_view file_name) {
    return std::string(ORDERLY_SOURCE_DIR) + "/docs/diagrams/" + std::string(file_name);
}

bool updating() {
    const char* flag = std::getenv("ORDERLY_UPDATE_DIAGRAMS");  // NOLINT(concurrency-mt-unsafe)
    return flag != nullptr && std::string_view(flag) == "1";
}

// C stdio rather than istreambuf_iterator: GCC 12 at -O3 reports a false
// -Wnull-dereference inside <streambuf> for the latter.
std::optional<std::string> read_file(const std::string& path) {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) {
        return std::nullopt;
    }
    std::string text;
    std::array<char, 4096> chunk{};
    std::size_t got = 0;
    while ((got = std::fread(chunk.data(), 1, chunk.size(), file)) > 0) {
        text.append(chunk.data(), got);
    }
    const bool failed = std::ferror(file) != 0;
    std::fclose(file);
    if (failed) {
        return std::nullopt;
    }
    return text;
}

/// Compares the committed file with the generated text, or writes it when
/// regenerating.
void check_committed(std::string_view file_name, const std::string& generated) {
    const auto path = diagram_path(file_name);
    CAPTURE(path);
    if (updating()) {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        REQUIRE(out.good());
        out << generated;
        out.close();
        REQUIRE(out.good());
        MESSAGE("wrote " << path);
        return;
    }
    const auto committed = read_file(path);
    INFO("regenerate with ORDERLY_UPDATE_DIAGRAMS=1 (see docs/diagrams/README.md)");
    REQUIRE(committed.has_value());
    CHECK(*committed == generated);
}

std::size_t count_lines_containing(const std::string& text, std::string_view needle) {
    std::istringstream lines(text);
    std::size_t count = 0;
    for (std::string line; std::getline(lines, line);) {
        if (line.find(needle) != std::string::npos) {
            ++count;
        }
    }
    return count;
}

}  // namespace

TEST_CASE("committed diagrams match the transition tables") {
    check_committed("order.dot", orderly::order_machine_dot());
    check_committed("order.mmd", orderly::order_machine_mermaid());
    check_committed("payment.dot", orderly::payment_machine_dot());
    check_committed("payment.mmd", orderly::payment_machine_mermaid());
    check_committed("reservation.dot", orderly::reservation_machine_dot());
    check_committed("reservation.mmd", orderly::reservation_machine_mermaid());
    check_committed("shipment.dot", orderly::shipment_machine_dot());
    check_committed("shipment.mmd", orderly::shipment_machine_mermaid());
    check_committed("transfer.dot", orderly::transfer_machine_dot());
    check_committed("transfer.mmd", orderly::transfer_machine_mermaid());
    check_committed("tracking.dot", orderly::tracking_machine_dot());
    check_committed("tracking.mmd", orderly::tracking_machine_mermaid());
    check_committed("ticket.dot", orderly::ticket_machine_dot());
    check_committed("ticket.mmd", orderly::ticket_machine_mermaid());
    check_committed("case.dot", orderly::case_machine_dot());
    check_committed("case.mmd", orderly::case_machine_mermaid());
}

TEST_CASE("diagrams are deterministic") {
    CHECK(orderly::order_machine_dot() == orderly::order_machine_dot());
    CHECK(orderly::order_machine_mermaid() == orderly::order_machine_mermaid());
    CHECK(orderly::payment_machine_dot() == orderly::payment_machine_dot());
    CHECK(orderly::payment_machine_mermaid() == orderly::payment_machine_mermaid());
    CHECK(orderly::reservation_machine_dot() == orderly::reservation_machine_dot());
    CHECK(orderly::reservation_machine_mermaid() == orderly::reservation_machine_mermaid());
    CHECK(orderly::shipment_machine_dot() == orderly::shipment_machine_dot());
    CHECK(orderly::shipment_machine_mermaid() == orderly::shipment_machine_mermaid());
    CHECK(orderly::transfer_machine_dot() == orderly::transfer_machine_dot());
    CHECK(orderly::transfer_machine_mermaid() == orderly::transfer_machine_mermaid());
    CHECK(orderly::tracking_machine_dot() == orderly::tracking_machine_dot());
    CHECK(orderly::tracking_machine_mermaid() == orderly::tracking_machine_mermaid());
    CHECK(orderly::ticket_machine_dot() == orderly::ticket_machine_dot());
    CHECK(orderly::ticket_machine_mermaid() == orderly::ticket_machine_mermaid());
    CHECK(orderly::case_machine_dot() == orderly::case_machine_dot());
    CHECK(orderly::case_machine_mermaid() == orderly::case_machine_mermaid());
}

TEST_CASE("the order Mermaid diagram starts, ends and labels as documented") {
    const auto text = orderly::order_machine_mermaid();
    CHECK(text.starts_with("stateDiagram-v2\n    [*] --> pending_review\n"));
    CHECK(count_lines_containing(text, " --> [*]") == 2);
    CHECK(text.find("    closed --> [*]\n") != std::string::npos);
    CHECK(text.find("    cancelled --> [*]\n") != std::string::npos);
    CHECK(text.find("    pending_review --> awaiting_payment : review_approved "
                    "[not cash_on_delivery]\n") != std::string::npos);
    CHECK(text.find("    on_hold --> paid : released [held_from == paid]\n") != std::string::npos);
    CHECK(text.find("    paid --> allocating : allocated\n") != std::string::npos);
    // One transition line per row, plus the start and the two ends.
    CHECK(count_lines_containing(text, " --> ") == orderly::order_machine_rows().size() + 3);
}

TEST_CASE("the payment Mermaid diagram starts, ends and labels as documented") {
    const auto text = orderly::payment_machine_mermaid();
    CHECK(text.starts_with("stateDiagram-v2\n    [*] --> pending\n"));
    // Every settled or failed payment is an end, though a refund or a late
    // capture may still move it.
    CHECK(count_lines_containing(text, " --> [*]") == 5);
    CHECK(text.find("    captured --> [*]\n") != std::string::npos);
    CHECK(text.find("    refunded --> [*]\n") != std::string::npos);
    CHECK(text.find("    failed --> [*]\n") != std::string::npos);
    CHECK(text.find("    voided --> [*]\n") != std::string::npos);
    CHECK(text.find("    pending --> [*]\n") == std::string::npos);
    CHECK(text.find("    captured --> partially_refunded : refund_issued "
                    "[not refunds_everything]\n") != std::string::npos);
    CHECK(text.find("    voided --> captured : capture_succeeded\n") != std::string::npos);
    CHECK(count_lines_containing(text, " --> ") == orderly::payment_machine_rows().size() + 6);
}

TEST_CASE("the tracking Mermaid diagram starts, ends and labels as documented") {
    const auto text = orderly::tracking_machine_mermaid();
    CHECK(text.starts_with("stateDiagram-v2\n    [*] --> label_created\n"));
    // lost is an end, though a found parcel leaves it again.
    CHECK(count_lines_containing(text, " --> [*]") == 3);
    CHECK(text.find("    delivered --> [*]\n") != std::string::npos);
    CHECK(text.find("    returned_to_sender --> [*]\n") != std::string::npos);
    CHECK(text.find("    lost --> [*]\n") != std::string::npos);
    CHECK(text.find("    label_created --> lost : declared_lost\n") != std::string::npos);
    CHECK(text.find("    delivery_failed --> out_for_delivery : sent_out_for_delivery\n") !=
          std::string::npos);
    CHECK(text.find("    lost --> delivered : delivered\n") != std::string::npos);
    CHECK(count_lines_containing(text, " --> ") == orderly::tracking_machine_rows().size() + 4);
}

TEST_CASE("the ticket Mermaid diagram starts, ends and labels as documented") {
    const auto text = orderly::ticket_machine_mermaid();
    CHECK(text.starts_with("stateDiagram-v2\n    [*] --> submitted\n"));
    // escalated loops on a second deadline but is left again: only the three
    // final states end a life.
    CHECK(count_lines_containing(text, " --> [*]") == 3);
    CHECK(text.find("    withdrawn --> [*]\n") != std::string::npos);
    CHECK(text.find("    rejected --> [*]\n") != std::string::npos);
    CHECK(text.find("    closed --> [*]\n") != std::string::npos);
    CHECK(text.find("    escalated --> [*]\n") == std::string::npos);
    CHECK(text.find("    submitted --> awaiting_return : auto_approved [not refund_only]\n") !=
          std::string::npos);
    CHECK(text.find("    escalated --> replacement_shipped : replacement_shipped "
                    "[exchange and escalated_from == inspected]\n") != std::string::npos);
    CHECK(text.find("    escalated --> escalated : deadline_passed\n") != std::string::npos);
    CHECK(text.find("    awaiting_return --> closed : return_expired [not return_in_transit]\n") !=
          std::string::npos);
    CHECK(text.find("    inspected --> replacement_shipped : replacement_shipped "
                    "[repair and repair_failed]\n") != std::string::npos);
    CHECK(count_lines_containing(text, " --> ") == orderly::ticket_machine_rows().size() + 4);
}

TEST_CASE("the case Mermaid diagram starts, ends and labels as documented") {
    const auto text = orderly::case_machine_mermaid();
    CHECK(text.starts_with("stateDiagram-v2\n    [*] --> open\n"));
    // Only closed ends a life: resolved may be reopened.
    CHECK(count_lines_containing(text, " --> [*]") == 1);
    CHECK(text.find("    closed --> [*]\n") != std::string::npos);
    CHECK(text.find("    resolved --> open : reopened\n") != std::string::npos);
    CHECK(text.find("    escalated --> in_progress : work_started "
                    "[escalated_from == acknowledged]\n") != std::string::npos);
    CHECK(text.find("    escalated --> escalated : deadline_passed\n") != std::string::npos);
    CHECK(count_lines_containing(text, " --> ") == orderly::case_machine_rows().size() + 2);
}

TEST_CASE("the shipment, transfer and reservation Mermaid diagrams start and end as documented") {
    const auto shipment = orderly::shipment_machine_mermaid();
    CHECK(shipment.starts_with("stateDiagram-v2\n    [*] --> planned\n"));
    CHECK(count_lines_containing(shipment, " --> [*]") == 3);
    CHECK(shipment.find("    delivered --> [*]\n") != std::string::npos);
    CHECK(shipment.find("    cancelled --> [*]\n") != std::string::npos);
    CHECK(shipment.find("    resolved --> [*]\n") != std::string::npos);
    CHECK(shipment.find("    lost --> shipped : carrier_progress\n") != std::string::npos);
    CHECK(count_lines_containing(shipment, " --> ") == orderly::shipment_machine_rows().size() + 4);

    const auto transfer = orderly::transfer_machine_mermaid();
    CHECK(transfer ==
          "stateDiagram-v2\n"
          "    [*] --> in_transit\n"
          "    in_transit --> received : received\n"
          "    in_transit --> cancelled : cancelled\n"
          "    received --> [*]\n"
          "    cancelled --> [*]\n");

    const auto reservation = orderly::reservation_machine_mermaid();
    CHECK(reservation.starts_with("stateDiagram-v2\n    [*] --> held\n"));
    CHECK(reservation.find("    committed --> consumed : consumed\n") != std::string::npos);
    CHECK(reservation.ends_with("    consumed --> [*]\n    released --> [*]\n"));
}

TEST_CASE("the DOT digraphs have one labelled edge per row") {
    const auto order = orderly::order_machine_dot();
    CHECK(order.starts_with("digraph order {\n"));
    CHECK(order.ends_with("}\n"));
    CHECK(order.find("\"pending_review\" -> \"paid\" [label=\"review_approved "
                     "[cash_on_delivery]\"];") != std::string::npos);
    CHECK(count_lines_containing(order, "[label=") == orderly::order_machine_rows().size());
    CHECK(count_lines_containing(order, "[peripheries=2]") == 2);

    const auto payment = orderly::payment_machine_dot();
    CHECK(payment.starts_with("digraph payment {\n"));
    CHECK(payment.find("\"captured\" -> \"refunded\" [label=\"refund_issued "
                       "[refunds_everything]\"];") != std::string::npos);
    CHECK(count_lines_containing(payment, "[label=") == orderly::payment_machine_rows().size());
    CHECK(count_lines_containing(payment, "[peripheries=2]") == 5);

    const auto tracking = orderly::tracking_machine_dot();
    CHECK(tracking.starts_with("digraph tracking {\n"));
    CHECK(tracking.find("_initial -> \"label_created\";") != std::string::npos);
    CHECK(tracking.find("\"out_for_delivery\" -> \"delivery_failed\" "
                        "[label=\"delivery_attempt_failed\"];") != std::string::npos);
    CHECK(count_lines_containing(tracking, "[label=") == orderly::tracking_machine_rows().size());
    CHECK(count_lines_containing(tracking, "[peripheries=2]") == 3);

    const auto ticket = orderly::ticket_machine_dot();
    CHECK(ticket.starts_with("digraph ticket {\n"));
    CHECK(ticket.find("_initial -> \"submitted\";") != std::string::npos);
    CHECK(ticket.find("\"escalated\" -> \"inspected\" [label=\"inspected "
                      "[escalated_from == goods_received]\"];") != std::string::npos);
    CHECK(count_lines_containing(ticket, "[label=") == orderly::ticket_machine_rows().size());
    CHECK(count_lines_containing(ticket, "[peripheries=2]") == 3);

    const auto exception_case = orderly::case_machine_dot();
    CHECK(exception_case.starts_with("digraph case {\n"));
    CHECK(exception_case.find("_initial -> \"open\";") != std::string::npos);
    CHECK(exception_case.find("\"escalated\" -> \"acknowledged\" [label=\"acknowledged "
                              "[escalated_from == open]\"];") != std::string::npos);
    CHECK(exception_case.find("\"open\" -> \"resolved\" [label=\"cause_cleared\"];") !=
          std::string::npos);
    CHECK(count_lines_containing(exception_case, "[label=") == orderly::case_machine_rows().size());
    CHECK(count_lines_containing(exception_case, "[peripheries=2]") == 1);

    const auto shipment = orderly::shipment_machine_dot();
    CHECK(shipment.starts_with("digraph shipment {\n"));
    CHECK(shipment.find("_initial -> \"planned\";") != std::string::npos);
    CHECK(shipment.find("\"returned\" -> \"resolved\" [label=\"refunded\"];") != std::string::npos);
    CHECK(count_lines_containing(shipment, "[label=") == orderly::shipment_machine_rows().size());
    CHECK(count_lines_containing(shipment, "[peripheries=2]") == 3);

    const auto transfer = orderly::transfer_machine_dot();
    CHECK(transfer.starts_with("digraph transfer {\n"));
    CHECK(count_lines_containing(transfer, "[label=") == 2);
    CHECK(count_lines_containing(transfer, "[peripheries=2]") == 2);

    const auto reservation = orderly::reservation_machine_dot();
    CHECK(reservation.starts_with("digraph reservation {\n"));
    CHECK(reservation.find("\"consumed\" [peripheries=2];") != std::string::npos);
    CHECK(count_lines_containing(reservation, "[label=") == 4);
    CHECK(count_lines_containing(reservation, "[peripheries=2]") == 2);
}
