// problem+json shape (RFC 9457) and request accessors.
#include <carematch/http/message.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace carematch::http {
namespace {

TEST(problem_json, has_rfc9457_members_and_content_type) {
    auto res =
        problem_response(core::make_problem(core::errc::invalid_argument, "bad \"phone\"", "phone"), "req-1");
    EXPECT_EQ(res.status, 422);
    EXPECT_EQ(res.header("Content-Type").value_or(""), "application/problem+json");
    auto v = boost::json::parse(res.body).as_object();
    EXPECT_EQ(v.at("type").as_string(), "about:blank");
    EXPECT_EQ(v.at("title").as_string(), "Unprocessable Content");
    EXPECT_EQ(v.at("status").as_int64(), 422);
    EXPECT_EQ(v.at("detail").as_string(), "bad \"phone\"");
    EXPECT_EQ(v.at("field").as_string(), "phone");
    EXPECT_EQ(v.at("request_id").as_string(), "req-1");
}

TEST(problem_json, omits_empty_members) {
    auto v = boost::json::parse(problem_response(404, "").body).as_object();
    EXPECT_FALSE(v.contains("detail"));
    EXPECT_FALSE(v.contains("field"));
    EXPECT_EQ(v.at("title").as_string(), "Not Found");
}

TEST(request, reads_headers_case_insensitively_and_query_params) {
    request req;
    req.headers = {{"content-type", "application/json"}};
    req.query = "a=1&name=%E5%BC%A0+san&empty=&flag";
    EXPECT_EQ(req.header("Content-Type").value_or(""), "application/json");
    EXPECT_EQ(req.query_param("a").value_or(""), "1");
    EXPECT_EQ(req.query_param("name").value_or(""), "张 san");
    EXPECT_EQ(req.query_param("empty").value_or("x"), "");
    EXPECT_TRUE(req.query_param("flag").has_value());
    EXPECT_FALSE(req.query_param("missing").has_value());
}

TEST(percent_decode, rejects_malformed_escapes) {
    EXPECT_EQ(percent_decode("%41b").value_or(""), "Ab");
    EXPECT_FALSE(percent_decode("%4").has_value());
    EXPECT_FALSE(percent_decode("%zz").has_value());
    EXPECT_FALSE(percent_decode("abc%").has_value());
}

TEST(json_text, numbers_are_plain_decimals_and_strings_untouched) {
    EXPECT_EQ(plain_numbers(R"({"lat":3.99489E1,"lon":1.164128E2,"t":4.5E0,"n":-2.5E-1})"),
              R"({"lat":39.9489,"lon":116.4128,"t":4.5,"n":-0.25})");
    EXPECT_EQ(plain_numbers(R"({"s":"3.9E1 \"x\" 2E2","a":[1E0,0E0,12]})"),
              R"({"s":"3.9E1 \"x\" 2E2","a":[1.0,0.0,12]})");
    EXPECT_EQ(plain_numbers(R"({"big":1E300,"tiny":1E-300})"), R"({"big":1E300,"tiny":1E-300})");
    EXPECT_EQ(json_text_response(200, R"({"x":1.5E0})").body, R"({"x":1.5})");
}

TEST(query, integers_and_numbers_are_read_strictly) {
    request r;
    r.query = "a=110101001&b=110101001abc&c=1%20OR%201=1&d=&e=-7&f=39.9&g=nan&h=1e3&i=39.9x";
    EXPECT_EQ(int_param(r, "a"), 110101001);
    EXPECT_FALSE(int_param(r, "b"));
    EXPECT_FALSE(int_param(r, "c"));
    EXPECT_FALSE(int_param(r, "d"));
    EXPECT_EQ(int_param(r, "e"), -7);
    EXPECT_FALSE(int_param(r, "missing"));
    EXPECT_DOUBLE_EQ(*number_param(r, "f"), 39.9);
    EXPECT_FALSE(number_param(r, "g"));
    EXPECT_DOUBLE_EQ(*number_param(r, "h"), 1000);
    EXPECT_FALSE(number_param(r, "i"));
}

}  // namespace
}  // namespace carematch::http
