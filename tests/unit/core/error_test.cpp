// Error codes map to HTTP statuses and problems.
#include <carematch/core/error.hpp>

#include <gtest/gtest.h>

namespace carematch::core {
namespace {

TEST(error, errc_maps_to_http_status) {
    const std::pair<errc, int> table[] = {
        {errc::not_found, 404},
        {errc::conflict, 409},
        {errc::invalid_argument, 422},
        {errc::unauthenticated, 401},
        {errc::forbidden, 403},
        {errc::precondition_failed, 412},
        {errc::unavailable, 503},
        {errc::too_many_requests, 429},
    };
    for (auto [e, status] : table) {
        EXPECT_EQ(http_status(e), status);
        boost::system::error_code ec = e;
        EXPECT_EQ(http_status(ec), status);
    }
    EXPECT_EQ(http_status(boost::system::error_code(EIO, boost::system::generic_category())), 500);
}

TEST(error, result_carries_errc) {
    result<int> r = errc::not_found;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::not_found);
    EXPECT_EQ(r.error().message(), "not found");
}

TEST(error, make_problem_fills_title_and_field) {
    auto p = make_problem(errc::invalid_argument, "phone is malformed", "phone");
    EXPECT_EQ(p.status, 422);
    EXPECT_EQ(p.title, "Unprocessable Content");
    EXPECT_EQ(p.field, "phone");
}

}  // namespace
}  // namespace carematch::core
