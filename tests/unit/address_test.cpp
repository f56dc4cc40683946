#include <orderly/core/address.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>
#include <vector>

using orderly::address;
using orderly::errc;
using orderly::error;

namespace {

/// A complete, valid address in Shanghai, written in Chinese.
address shanghai() {
    return address{
        .recipient = "张三",
        .phone = "13812345678",
        .country = "CN",
        .province = "上海市",
        .city = "上海市",
        .district = "浦东新区",
        .street = "世纪大道100号 环球金融中心 21楼",
        .postcode = "200120",
    };
}

/// A complete, valid address in San Francisco.
address san_francisco() {
    return address{
        .recipient = "Jane Doe",
        .phone = "+1 415-555-0123",
        .country = "US",
        .province = "CA",
        .city = "San Francisco",
        .district = "",
        .street = "1 Market St, Apt 5",
        .postcode = "94105",
    };
}

/// The error validate() returns; fails the test when it accepts.
error refusal(const address& a) {
    const auto checked = orderly::validate(a);
    REQUIRE(checked.has_error());
    return checked.error();
}

/// Checks that validate() refuses `a` with `code` on `field`.
void check_refused(const address& a, errc code, const std::string& field) {
    const error e = refusal(a);
    CHECK(e.code == code);
    CHECK(e.field == field);
    CHECK_FALSE(e.message.empty());
}

}  // namespace

TEST_CASE("complete addresses in Chinese and in English are accepted") {
    CHECK(orderly::validate(shanghai()).has_value());
    CHECK(orderly::problems(shanghai()).empty());
    CHECK(orderly::validate(san_francisco()).has_value());

    address no_optional_parts = shanghai();
    no_optional_parts.district.clear();
    no_optional_parts.postcode.clear();
    CHECK(orderly::validate(no_optional_parts).has_value());

    address blank_optional_parts = shanghai();
    blank_optional_parts.district = "   ";
    blank_optional_parts.postcode = "\xE3\x80\x80";  // ideographic space
    CHECK(orderly::validate(blank_optional_parts).has_value());

    address four_byte_characters = shanghai();
    four_byte_characters.recipient = "𠮷野家";  // U+20BB7, outside the BMP
    CHECK(orderly::validate(four_byte_characters).has_value());
}

TEST_CASE("each required part is refused as missing when empty or blank") {
    for (std::string address::*member : {&address::recipient, &address::phone, &address::country,
                                         &address::province, &address::city, &address::street}) {
        for (const std::string blank : {"", "  ", "\t", "\xE3\x80\x80", "\xC2\xA0 "}) {
            address a = shanghai();
            a.*member = blank;
            const std::vector<error> found = orderly::problems(a);
            REQUIRE(found.size() == 1);
            CHECK(found[0].code == errc::missing_value);
            CHECK(found[0].message == "is required");
        }
    }
    address a = shanghai();
    a.recipient.clear();
    check_refused(a, errc::missing_value, "recipient");
    a = shanghai();
    a.province = " ";
    check_refused(a, errc::missing_value, "province");
    a = shanghai();
    a.city.clear();
    check_refused(a, errc::missing_value, "city");
    a = shanghai();
    a.street.clear();
    check_refused(a, errc::missing_value, "street");
    a = shanghai();
    a.phone.clear();
    check_refused(a, errc::missing_value, "phone");
    a = shanghai();
    a.country.clear();
    check_refused(a, errc::missing_value, "country");
}

TEST_CASE("parts longer than their limit are refused") {
    using limits = orderly::address_limits;
    address a = shanghai();
    a.recipient = std::string(limits::recipient_bytes, 'a');
    CHECK(orderly::validate(a).has_value());
    a.recipient += "a";
    check_refused(a, errc::invalid_value, "recipient");

    a = shanghai();
    std::string street;
    while (street.size() + 3 <= limits::street_bytes) {
        street += "路";  // 3 bytes each: 128 characters fit
    }
    a.street = street;
    CHECK(orderly::validate(a).has_value());
    a.street += "x";
    check_refused(a, errc::invalid_value, "street");

    a = shanghai();
    a.province = std::string(limits::region_bytes + 1, 'p');
    check_refused(a, errc::invalid_value, "province");
    a = shanghai();
    a.city = std::string(limits::region_bytes + 1, 'c');
    check_refused(a, errc::invalid_value, "city");
    a = shanghai();
    a.district = std::string(limits::region_bytes + 1, 'd');
    check_refused(a, errc::invalid_value, "district");
    a = shanghai();
    a.postcode = std::string(limits::postcode_bytes + 1, '1');
    check_refused(a, errc::invalid_value, "postcode");
    a = shanghai();
    a.phone = "+86 138 1234 5678                      9";
    check_refused(a, errc::invalid_value, "phone");
}

TEST_CASE("invalid UTF-8 is refused in every part") {
    const std::vector<std::string> broken = {
        "\xFF",              // never valid
        "\xE4\xB8",          // truncated 3-byte sequence (of 中)
        "\xC0\xAF",          // overlong '/'
        "\xED\xA0\x80",      // UTF-16 surrogate
        "\xF4\x90\x80\x80",  // above U+10FFFF
        "\x80",              // stray continuation byte
    };
    for (std::string address::*member : {&address::recipient, &address::province, &address::city,
                                         &address::district, &address::street}) {
        for (const std::string& bad : broken) {
            address a = shanghai();
            a.*member = "上海" + bad + "市";
            const std::vector<error> found = orderly::problems(a);
            REQUIRE(found.size() == 1);
            CHECK(found[0].code == errc::invalid_value);
            CHECK(found[0].message == "is not valid UTF-8 text");
        }
    }
    address a = shanghai();
    a.street = "世纪大道\xE4\xB8";
    check_refused(a, errc::invalid_value, "street");
}

TEST_CASE("control characters are refused in every part") {
    for (const std::string& control :
         std::vector<std::string>{"\n", "\r", "\t", std::string(1, '\0'), "\x7F", "\xC2\x85"}) {
        address a = shanghai();
        a.street = "世纪大道" + control + "100号";
        check_refused(a, errc::invalid_value, "street");
        a = shanghai();
        a.recipient = "张" + control + "三";
        check_refused(a, errc::invalid_value, "recipient");
        a = shanghai();
        a.phone = "138" + control + "12345678";
        check_refused(a, errc::invalid_value, "phone");
        a = shanghai();
        a.postcode = "200" + control + "120";
        check_refused(a, errc::invalid_value, "postcode");
    }
}

TEST_CASE("the country must be a known ISO 3166-1 alpha-2 code in capitals") {
    CHECK(orderly::is_country_code("CN"));
    CHECK(orderly::is_country_code("US"));
    CHECK(orderly::is_country_code("HK"));
    CHECK(orderly::is_country_code("XK"));
    CHECK(orderly::is_country_code("ZW"));
    CHECK(orderly::is_country_code("AD"));
    CHECK_FALSE(orderly::is_country_code("cn"));
    CHECK_FALSE(orderly::is_country_code("UK"));  // the United Kingdom is GB
    CHECK_FALSE(orderly::is_country_code("ZZ"));
    CHECK_FALSE(orderly::is_country_code("CHN"));
    CHECK_FALSE(orderly::is_country_code("C"));
    CHECK_FALSE(orderly::is_country_code(""));

    for (const std::string bad : {"cn", "Cn", "UK", "CHN", "C", "1A", "中国"}) {
        address a = san_francisco();
        a.country = bad;
        a.postcode.clear();
        check_refused(a, errc::invalid_value, "country");
    }
}

TEST_CASE("normalize_phone accepts mainland China mobiles and E.164 numbers") {
    const auto cn = [](std::string_view phone) { return orderly::normalize_phone(phone, "CN"); };
    CHECK(cn("13812345678").value() == "+8613812345678");
    CHECK(cn("19912345678").value() == "+8619912345678");
    CHECK(cn("138 1234 5678").value() == "+8613812345678");
    CHECK(cn("138-1234-5678").value() == "+8613812345678");
    CHECK(cn("  13812345678 ").value() == "+8613812345678");
    CHECK(cn("+8613812345678").value() == "+8613812345678");
    CHECK(cn("+86 138 1234 5678").value() == "+8613812345678");
    CHECK(cn("+86-138-1234-5678").value() == "+8613812345678");
    CHECK(cn("+86 10 6552 9988").value() == "+861065529988");  // a Beijing landline
    CHECK(cn("+14155550123").value() == "+14155550123");       // a foreign phone is fine

    const auto us = [](std::string_view phone) { return orderly::normalize_phone(phone, "US"); };
    CHECK(us("+14155550123").value() == "+14155550123");
    CHECK(us("+1 415-555-0123").value() == "+14155550123");
    CHECK(us("+8613812345678").value() == "+8613812345678");
    CHECK(us("+12345678").value() == "+12345678");                // 8 digits, the fewest
    CHECK(us("+123456789012345").value() == "+123456789012345");  // 15 digits, the most
}

TEST_CASE("normalize_phone refuses other shapes with a message a person understands") {
    const std::string cn_message =
        "must be a mainland China mobile number (11 digits starting with 1) or an international "
        "number in E.164 form such as +14155550123";
    for (const std::string bad :
         {"1381234567",         // 10 digits
          "138123456789",       // 12 digits
          "23812345678",        // does not start with 1
          "12812345678",        // second digit below 3
          "010-65529988",       // landline without +86
          "8613812345678",      // country code without '+'
          "008613812345678",    // international prefix instead of '+'
          "+86 1381234567",     // +86 mobile one digit short
          "+86 138123456789",   // +86 mobile one digit long
          "+0123456789",        // country code cannot start with 0
          "+1234567",           // 7 digits
          "+1234567890123456",  // 16 digits
          "138  1234 5678",     // double separator
          "138 -12345678",      // mixed double separator
          "-13812345678",       // leading separator
          "13812345678-",       // trailing separator
          "+ 8613812345678",    // separator right after '+'
          "++8613812345678",   "(415) 555-0123", "138.1234.5678", "phone", "１３８１２３４５"}) {
        const auto normal = orderly::normalize_phone(bad, "CN");
        INFO(bad);
        REQUIRE(normal.has_error());
        CHECK(normal.error().code == errc::invalid_value);
        CHECK(normal.error().field == "phone");
        CHECK(normal.error().message == cn_message);
    }

    // Outside China a number needs its country code.
    const auto us = orderly::normalize_phone("4155550123", "US");
    REQUIRE(us.has_error());
    CHECK(us.error().code == errc::invalid_value);
    CHECK(us.error().field == "phone");
    CHECK(us.error().message.find("E.164") != std::string::npos);
    CHECK(orderly::normalize_phone("13812345678", "HK").has_error());
    CHECK(orderly::normalize_phone("13812345678", "").has_error());

    const auto empty = orderly::normalize_phone("   ", "CN");
    REQUIRE(empty.has_error());
    CHECK(empty.error().code == errc::missing_value);
}

TEST_CASE("validate checks the phone against the address's country") {
    address a = shanghai();
    a.phone = "12345";
    check_refused(a, errc::invalid_value, "phone");

    a = san_francisco();
    a.phone = "4155550123";
    check_refused(a, errc::invalid_value, "phone");
    a.phone = "13812345678";  // a CN mobile without +86 is not a US number
    check_refused(a, errc::invalid_value, "phone");
    a.phone = "+86 138 1234 5678";
    CHECK(orderly::validate(a).has_value());
}

TEST_CASE("postcodes: optional in general, 6 digits in China, a ZIP code required in the US") {
    address a = shanghai();
    a.postcode = "20012";
    check_refused(a, errc::invalid_value, "postcode");
    a.postcode = "2001200";
    check_refused(a, errc::invalid_value, "postcode");
    a.postcode = "20012A";
    check_refused(a, errc::invalid_value, "postcode");

    a = san_francisco();
    a.postcode.clear();
    check_refused(a, errc::missing_value, "postcode");
    a.postcode = "94105-1234";
    CHECK(orderly::validate(a).has_value());
    a.postcode = "9410";
    check_refused(a, errc::invalid_value, "postcode");
    a.postcode = "94105-123";
    check_refused(a, errc::invalid_value, "postcode");

    a = san_francisco();
    a.country = "GB";
    a.phone = "+44 20 7946 0958";
    a.postcode = "SW1A 1AA";
    CHECK(orderly::validate(a).has_value());
    a.postcode.clear();
    CHECK(orderly::validate(a).has_value());
    a.postcode = "SW1A_1AA";
    check_refused(a, errc::invalid_value, "postcode");
    a.postcode = "伦敦";
    check_refused(a, errc::invalid_value, "postcode");
}

TEST_CASE("problems() lists one problem per part, in member order, validate() the first") {
    address a = shanghai();
    a.recipient = "";
    a.phone = "12345";
    a.city = "上海\n市";
    a.street = "\xFF";
    a.postcode = "1";
    const std::vector<error> found = orderly::problems(a);
    REQUIRE(found.size() == 5);
    CHECK(found[0] == error{errc::missing_value, "recipient", "is required"});
    CHECK(found[1].field == "phone");
    CHECK(found[1].code == errc::invalid_value);
    CHECK(found[2].field == "city");
    CHECK(found[2].code == errc::invalid_value);
    CHECK(found[3] == error{errc::invalid_value, "street", "is not valid UTF-8 text"});
    CHECK(found[4].field == "postcode");

    CHECK(refusal(a) == found[0]);

    const std::vector<error> all_missing = orderly::problems(address{});
    REQUIRE(all_missing.size() == 6);
    for (const error& e : all_missing) {
        CHECK(e.code == errc::missing_value);
    }
    CHECK(all_missing[5].field == "street");
}

TEST_CASE("a bad country is reported once, not again through the phone") {
    address a = shanghai();
    a.country = "ZZ";
    const std::vector<error> found = orderly::problems(a);
    REQUIRE(found.size() == 1);
    CHECK(found[0].field == "country");

    a.phone = "12345";  // wrong for every country: still reported
    const std::vector<error> both = orderly::problems(a);
    REQUIRE(both.size() == 2);
    CHECK(both[0].field == "phone");
    CHECK(both[1].field == "country");
}

TEST_CASE("errors nest under the caller's field with within()") {
    address a = shanghai();
    a.phone = "12345";
    CHECK(refusal(a).within("ship_to").field == "ship_to.phone");
}

TEST_CASE("addresses compare by every part and print on one line") {
    CHECK(shanghai() == shanghai());
    address other = shanghai();
    other.district = "黄浦区";
    CHECK(other != shanghai());

    CHECK(fmt::format("{}", shanghai()) ==
          "张三, 13812345678, 世纪大道100号 环球金融中心 21楼, 浦东新区, 上海市, 上海市, "
          "200120, CN");
    CHECK(fmt::format("{}", san_francisco()) ==
          "Jane Doe, +1 415-555-0123, 1 Market St, Apt 5, San Francisco, CA, 94105, US");
    CHECK(orderly::to_string(san_francisco()) == fmt::format("{}", san_francisco()));
    CHECK(fmt::format("{}", address{}).empty());
}
