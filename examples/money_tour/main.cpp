// money_tour: orderly's foundation in one short program a host can copy from.
// An order of three lines with a coupon, tax and a split payment, computed to
// the cent with no floating point; then the ways bad input is refused.
#include <orderly/orderly.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <utility>
#include <vector>

namespace {

// An example may stop at the first error; a host shows it to the user instead.
template <class T>
T must(orderly::result<T> r) {
    if (!r) {
        fmt::print(stderr, "unexpected error: {}\n", r.error());
        std::exit(EXIT_FAILURE);
    }
    return std::move(*r);
}

struct line {
    std::string_view name;
    orderly::money unit_price;
    orderly::quantity units;
};

void show_order() {
    using orderly::money;
    using orderly::quantity;
    const std::array<line, 3> lines{{
        {"green tea 250 g", must(money::parse("12.50 CNY")), must(quantity::of(3))},
        {"celadon cup", must(money::parse("39.90 CNY")), must(quantity::of(2))},
        {"clay teapot", must(money::parse("128.00 CNY")), must(quantity::of(1))},
    }};

    // Line totals, and the weights a coupon is shared by (the line totals).
    std::vector<money> totals;
    std::vector<std::int64_t> weights;
    money subtotal = money::zero(orderly::currencies::CNY);
    for (const line& l : lines) {
        totals.push_back(must(l.unit_price.times(l.units)));
        weights.push_back(must(totals.back().amount_minor_int64()));
        subtotal = must(subtotal + totals.back());
    }

    // A 10.00 coupon shared over the lines by largest remainder: the shares
    // add up to exactly 10.00, which matters when one line is refunded later.
    const money coupon = must(money::parse("10.00 CNY"));
    const std::vector<money> coupon_shares = must(coupon.allocate(weights));
    const orderly::rate vat = must(orderly::rate::percent("6"));

    fmt::print("{:<18}{:>12}{:>12}{:>12}{:>12}\n", "line", "total", "coupon", "net", "VAT 6%");
    money vat_total = money::zero(orderly::currencies::CNY);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const money net = must(totals[i] - coupon_shares[i]);
        const money vat_part = must(net.times(vat, orderly::rounding::half_even));
        vat_total = must(vat_total + vat_part);
        fmt::print("{:<18}{:>12}{:>12}{:>12}{:>12}\n", lines[i].name, totals[i], coupon_shares[i],
                   net, vat_part);
    }
    const money due = must(must(subtotal - coupon) + vat_total);
    fmt::print("{:<18}{:>12}{:>12}{:>12}{:>12}\n", "order", subtotal, coupon,
               must(subtotal - coupon), vat_total);
    fmt::print("amount due: {}\n", due);

    // Paid in four instalments: the parts differ by at most one fen and sum to the whole.
    const std::vector<money> instalments = must(due.split(4));
    fmt::print("4 instalments: {}\n\n", fmt::join(instalments, " + "));
}

void show_rounding() {
    using orderly::rounding;
    // 2.5% of 1.00 USD is 0.025 USD exactly: the rounding is named at each use.
    const orderly::money one_dollar = must(orderly::money::parse("1.00 USD"));
    const orderly::rate fee = must(orderly::rate::percent("2.5"));
    fmt::print("2.5% of {} (exact 0.025 USD), rounded by the mode named at the call:\n",
               one_dollar);
    for (const auto& [name, mode] : std::array<std::pair<std::string_view, rounding>, 4>{{
             {"half_even", rounding::half_even},
             {"half_up", rounding::half_up},
             {"toward_zero", rounding::toward_zero},
             {"away_from_zero", rounding::away_from_zero},
         }}) {
        fmt::print("  {:<15}{}\n", name, must(one_dollar.times(fee, mode)));
    }
    fmt::print("minor digits: {} {}, {} {}, {} {}\n\n", must(orderly::money::parse("1000 JPY")),
               orderly::currencies::JPY.minor_digits(), must(orderly::money::parse("1.250 KWD")),
               orderly::currencies::KWD.minor_digits(), must(orderly::money::parse("9.99 EUR")),
               orderly::currencies::EUR.minor_digits());
}

void show_refusals() {
    // Bad input is an error value naming the field, never a wrap or a guess.
    const orderly::money yuan = must(orderly::money::parse("1.00 CNY"));
    const orderly::money dollar = must(orderly::money::parse("1.00 USD"));
    fmt::print("refused: 1.00 CNY + 1.00 USD -> {}\n", (yuan + dollar).error());
    fmt::print("refused: parse(\"1.234 USD\") -> {}\n", orderly::money::parse("1.234 USD").error());
    fmt::print("refused: parse(\"12.50 XYZ\") -> {}\n", orderly::money::parse("12.50 XYZ").error());

    orderly::address ship_to{.recipient = "王小明",
                             .phone = "138-1234-567",
                             .country = "CN",
                             .province = "浙江省",
                             .city = "杭州市",
                             .district = "西湖区",
                             .street = "文三路 90 号",
                             .postcode = "310012"};
    if (auto valid = orderly::validate(ship_to); !valid) {
        fmt::print("refused: {}\n", valid.error().within("ship_to"));
    }
    ship_to.phone = "13812345678";
    fmt::print("accepted: {}\n", ship_to);

    auto generator = must(orderly::order_number_generator::create(7));
    const orderly::order_number number = must(generator.next(std::chrono::system_clock::now()));
    std::string mistyped = number.to_string();
    std::swap(mistyped[17], mistyped[18]);
    if (mistyped == number.to_string()) {
        mistyped[18] = mistyped[18] == '9' ? '0' : static_cast<char>(mistyped[18] + 1);
    }
    fmt::print("order number {} (node {}); mistyped {} -> {}\n", number, number.node(), mistyped,
               orderly::order_number::parse(mistyped).error());
}

}  // namespace

int main() {
    fmt::print("orderly {}: exact money\n\n", orderly::version());
    show_order();
    show_rounding();
    show_refusals();
    return EXIT_SUCCESS;
}
