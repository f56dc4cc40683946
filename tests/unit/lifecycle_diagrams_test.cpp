// The state diagrams in docs/diagrams/ are generated from the machines'
// transition tables; this test fails when a committed file differs from what
// the table generates now, so the docs cannot silently drift from the code.
//
// To regenerate the files after changing a table, run this test with
// ORDERLY_UPDATE_DIAGRAMS=1 in the environment, e.g.
//     ORDERLY_UPDATE_DIAGRAMS=1 ./build/dev/tests/unit/lifecycle_diagrams_test
// It then writes docs/diagrams/{order,payment,tracking,ticket,case}.{dot,mmd}
// instead of comparing; review and commit the diff. (docs/diagrams/README.md
// says the same.)
#include <orderly/aftersales/ticket_machine.hpp>
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
    CHECK(count_lines_containing(text, " --> [*]") == 3);
    CHECK(text.find("    refunded --> [*]\n") != std::string::npos);
    CHECK(text.find("    failed --> [*]\n") != std::string::npos);
    CHECK(text.find("    voided --> [*]\n") != std::string::npos);
    CHECK(text.find("    captured --> partially_refunded : refund_issued "
                    "[not refunds_everything]\n") != std::string::npos);
    CHECK(count_lines_containing(text, " --> ") == orderly::payment_machine_rows().size() + 4);
}

TEST_CASE("the tracking Mermaid diagram starts, ends and labels as documented") {
    const auto text = orderly::tracking_machine_mermaid();
    CHECK(text.starts_with("stateDiagram-v2\n    [*] --> label_created\n"));
    // lost is left again (a parcel can be found), so only two states end a life.
    CHECK(count_lines_containing(text, " --> [*]") == 2);
    CHECK(text.find("    delivered --> [*]\n") != std::string::npos);
    CHECK(text.find("    returned_to_sender --> [*]\n") != std::string::npos);
    CHECK(text.find("    lost --> [*]\n") == std::string::npos);
    CHECK(text.find("    delivery_failed --> out_for_delivery : sent_out_for_delivery\n") !=
          std::string::npos);
    CHECK(text.find("    lost --> delivered : delivered\n") != std::string::npos);
    CHECK(count_lines_containing(text, " --> ") == orderly::tracking_machine_rows().size() + 3);
}

TEST_CASE("the ticket Mermaid diagram starts, ends and labels as documented") {
    const auto text = orderly::ticket_machine_mermaid();
    CHECK(text.starts_with("stateDiagram-v2\n    [*] --> submitted\n"));
    // escalated loops on a second deadline but is left again, so only the
    // three final states end a life.
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
    CHECK(count_lines_containing(text, " --> ") == orderly::ticket_machine_rows().size() + 4);
}

TEST_CASE("the case Mermaid diagram starts, ends and labels as documented") {
    const auto text = orderly::case_machine_mermaid();
    CHECK(text.starts_with("stateDiagram-v2\n    [*] --> open\n"));
    // resolved is left again (reopened) and escalated loops but is left
    // again, so only closed ends a life.
    CHECK(count_lines_containing(text, " --> [*]") == 1);
    CHECK(text.find("    closed --> [*]\n") != std::string::npos);
    CHECK(text.find("    resolved --> open : reopened\n") != std::string::npos);
    CHECK(text.find("    escalated --> in_progress : work_started "
                    "[escalated_from == acknowledged]\n") != std::string::npos);
    CHECK(text.find("    escalated --> escalated : deadline_passed\n") != std::string::npos);
    CHECK(count_lines_containing(text, " --> ") == orderly::case_machine_rows().size() + 2);
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
    CHECK(count_lines_containing(payment, "[peripheries=2]") == 3);

    const auto tracking = orderly::tracking_machine_dot();
    CHECK(tracking.starts_with("digraph tracking {\n"));
    CHECK(tracking.find("_initial -> \"label_created\";") != std::string::npos);
    CHECK(tracking.find("\"out_for_delivery\" -> \"delivery_failed\" "
                        "[label=\"delivery_attempt_failed\"];") != std::string::npos);
    CHECK(count_lines_containing(tracking, "[label=") == orderly::tracking_machine_rows().size());
    CHECK(count_lines_containing(tracking, "[peripheries=2]") == 2);

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
}
