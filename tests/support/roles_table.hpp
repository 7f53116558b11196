// An endpoints × roles table as a test walks it: for each endpoint and each caller (anonymous, family,
// provider, worker, staff, admin, service), the status it must get — or `role_allowed`: anything but 401, 403
// and 5xx.
#pragma once

#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace carematch::test {

inline constexpr int role_allowed = 0;
inline constexpr std::size_t role_columns = 7;

struct role_row {
    const char* method;
    std::string path;
    std::optional<boost::json::value> body;
    std::array<int, role_columns> expected;
};

/// Calls every row as every column's caller (`tokens`: "" for anonymous) with `call(method, path, body,
/// token)` returning the status, and checks it against the row.
template <class Call>
void walk_roles(const std::vector<role_row>& table,
                const std::array<std::string, role_columns>& tokens,
                Call call) {
    static constexpr std::array<const char*, role_columns> names{
        "anonymous", "family", "provider", "worker", "staff", "admin", "svc"};
    for (const auto& r : table) {
        for (std::size_t col = 0; col < role_columns; ++col) {
            const int status = call(r.method, r.path, r.body, tokens[col]);
            if (r.expected[col] == role_allowed) {
                EXPECT_TRUE(status != 401 && status != 403 && status < 500)
                    << r.method << " " << r.path << " as " << names[col] << ": " << status;
            } else {
                EXPECT_EQ(status, r.expected[col]) << r.method << " " << r.path << " as " << names[col];
            }
        }
    }
}

}  // namespace carematch::test
