// Random identifiers are well-formed and distinct.
#include <carematch/core/ids.hpp>

#include <gtest/gtest.h>

#include <set>

namespace carematch::core {
namespace {

TEST(ids, uuid_is_version_4_and_unique) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        std::string u = new_uuid();
        ASSERT_TRUE(is_uuid(u)) << u;
        EXPECT_EQ(u[14], '4');
        EXPECT_TRUE(seen.insert(u).second);
    }
    EXPECT_FALSE(is_uuid("not-a-uuid"));
    EXPECT_FALSE(is_uuid("0123456789012345678901234567890123456"));
}

TEST(ids, sha256_matches_the_standard_vector) {
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ids, random_hex_has_requested_length) {
    EXPECT_EQ(random_hex(16).size(), 32u);
}

}  // namespace
}  // namespace carematch::core
