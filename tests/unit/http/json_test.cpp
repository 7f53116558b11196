// JSON bodies: described DTOs, unknown fields rejected by name, wrong types, depth and media type limits.
#include <carematch/http/json.hpp>

#include <gtest/gtest.h>

namespace carematch::http {
namespace {

struct place_order {
    std::string kind;
    int quantity = 0;
    std::optional<std::string> notes;
};
BOOST_DESCRIBE_STRUCT(place_order, (), (kind, quantity, notes))

request json_request(std::string body, std::string type = "application/json") {
    request r;
    r.method = "POST";
    r.headers = {{"content-type", std::move(type)}};
    r.body = std::move(body);
    return r;
}

TEST(json_body, parses_a_described_struct) {
    auto r = parse_json_body<place_order>(json_request(R"({"kind":"meal","quantity":2})"));
    ASSERT_TRUE(r) << r.error().detail;
    EXPECT_EQ(r->kind, "meal");
    EXPECT_EQ(r->quantity, 2);
    EXPECT_FALSE(r->notes.has_value());
}

TEST(json_body, unknown_field_is_named) {
    auto r = parse_json_body<place_order>(json_request(R"({"kind":"meal","quantity":2,"role":"admin"})"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, 422);
    EXPECT_EQ(r.error().field, "role");
    EXPECT_TRUE(parse_json_body<place_order>(json_request(R"({"kind":"meal","quantity":2,"x":1})"), false));
}

TEST(json_body, wrong_type_is_named) {
    auto r = parse_json_body<place_order>(json_request(R"({"kind":"meal","quantity":"two"})"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().field, "quantity");
}

TEST(json_body, malformed_deep_or_non_object_is_400) {
    EXPECT_EQ(parse_json_body<place_order>(json_request("{\"kind\":")).error().status, 400);
    EXPECT_EQ(parse_json_body<place_order>(json_request("[1,2]")).error().status, 400);
    std::string deep(40, '[');
    deep += std::string(40, ']');
    EXPECT_EQ(parse_json_object(json_request("{\"a\":" + deep + "}")).error().status, 400);
    std::string ok_depth(20, '[');
    ok_depth += std::string(20, ']');
    EXPECT_TRUE(parse_json_object(json_request("{\"a\":" + ok_depth + "}")));
}

TEST(json_body, a_missing_required_field_is_named) {
    auto r = parse_json_body<place_order>(json_request(R"({"kind":"meal"})"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().status, 422);
    EXPECT_EQ(r.error().field, "quantity");
}

TEST(json_body, a_key_given_twice_in_one_object_is_400_naming_it) {
    for (const char* body : {R"({"kind":"meal","quantity":2,"kind":"bath"})",
                             R"({"kind":"meal","quantity":2,"\u006bind":"bath"})",
                             R"({"kind":"meal","quantity":2,"notes":"a","a":{"x":1,"x":2}})"}) {
        auto r = parse_json_object(json_request(body));
        ASSERT_FALSE(r) << body;
        EXPECT_EQ(r.error().status, 400) << body;
    }
    EXPECT_EQ(parse_json_object(json_request(R"({"kind":"meal","quantity":2,"kind":"bath"})")).error().field,
              "kind");
    // The same key in different objects, or a key-like string value, is fine.
    EXPECT_TRUE(parse_json_object(json_request(R"({"a":{"x":1},"b":{"x":2},"c":["x","x"],"d":"a:"})")));
}

TEST(json_body, other_media_type_is_415) {
    EXPECT_EQ(parse_json_body<place_order>(json_request("{}", "text/plain")).error().status, 415);
    EXPECT_TRUE(parse_json_object(json_request("{}", "application/json; charset=utf-8")));
}

TEST(json_response, serialises_described_structs) {
    auto res = json_response(201, place_order{"bath", 1, std::nullopt});
    EXPECT_EQ(res.status, 201);
    EXPECT_EQ(res.header("content-type").value_or(""), "application/json");
    auto v = boost::json::parse(res.body).as_object();
    EXPECT_EQ(v.at("kind").as_string(), "bath");
}

}  // namespace
}  // namespace carematch::http
