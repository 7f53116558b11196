// JSON-line logs: one well-formed object per line with escaped values and the request id.
#include <carematch/core/log.hpp>

#include <gtest/gtest.h>

#include <vector>

namespace carematch::core::log {
namespace {

TEST(log, formats_a_json_line_with_fields) {
    std::string line =
        format(level::info, "hello \"world\"\n", {{"request_id", "abc"}, {"status", 200}, {"ok", true}});
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_NE(line.find(R"("msg":"hello \"world\"\n")"), std::string::npos) << line;
    EXPECT_NE(line.find(R"("request_id":"abc")"), std::string::npos);
    EXPECT_NE(line.find(R"("status":200)"), std::string::npos);
    EXPECT_NE(line.find(R"("ok":true)"), std::string::npos);
    EXPECT_EQ(line.front(), '{');
    EXPECT_EQ(line.back(), '}');
}

TEST(log, drops_lines_below_the_level) {
    std::vector<std::string> lines;
    set_sink([&](std::string_view l) { lines.emplace_back(l); });
    set_level(level::warn);
    info("quiet");
    error("loud", {{"request_id", "r1"}});
    set_level(level::info);
    set_sink(nullptr);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("\"loud\""), std::string::npos);
}

TEST(log, escapes_control_characters) {
    std::string out;
    append_json_escaped(out, std::string("a\x01z", 3));
    EXPECT_EQ(out, "a\\u0001z");
}

}  // namespace
}  // namespace carematch::core::log
