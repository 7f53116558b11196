// EdDSA JWTs: what verifies, and every way a forged or misdirected token is refused.
#include <carematch/auth/jwt.hpp>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace carematch::auth {
namespace {

using namespace std::chrono_literals;

class jwt_test : public ::testing::Test {
  protected:
    jwt_test() : issuer(key, {}, clock), verifier({}, clock) { verifier.add_key(key.kid, key.public_key); }

    static caller family() {
        caller c;
        c.id = "6f1c2d3e-0000-4000-8000-000000000001";
        c.role = role::family;
        return c;
    }

    // Rebuilds a token with altered header or claims, signed by `with` (or keeping the old signature).
    std::string forge(const std::string& token,
                      const std::function<void(boost::json::object&)>& header_edit,
                      const std::function<void(boost::json::object&)>& claims_edit,
                      const signing_key* with) {
        auto d1 = token.find('.');
        auto d2 = token.find('.', d1 + 1);
        auto header = boost::json::parse(*base64url_decode(token.substr(0, d1))).as_object();
        auto claims = boost::json::parse(*base64url_decode(token.substr(d1 + 1, d2 - d1 - 1))).as_object();
        header_edit(header);
        claims_edit(claims);
        std::string input = base64url_encode(boost::json::serialize(header)) + "." +
                            base64url_encode(boost::json::serialize(claims));
        if (with == nullptr) {
            return input + token.substr(d2);
        }
        token_issuer other(*with, {}, clock);
        // Sign the edited input with `with` by issuing through a helper token and swapping its body.
        std::string signed_token = other.issue(family());
        (void)signed_token;
        return input + "." + sign_raw(*with, input);
    }

    static std::string sign_raw(const signing_key& k, const std::string& input);

    core::manual_clock clock{core::clock::time_point(std::chrono::seconds(1'800'000'000))};
    signing_key key = generate_signing_key("k1");
    token_issuer issuer;
    token_verifier verifier;
};

}  // namespace
}  // namespace carematch::auth

#include <sodium.h>

namespace carematch::auth {
namespace {

std::string jwt_test::sign_raw(const signing_key& k, const std::string& input) {
    std::array<unsigned char, crypto_sign_BYTES> sig{};
    crypto_sign_detached(sig.data(),
                         nullptr,
                         reinterpret_cast<const unsigned char*>(input.data()),
                         input.size(),
                         k.secret.data());
    return base64url_encode(std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()));
}

auto no_change = [](boost::json::object&) {};

TEST_F(jwt_test, issued_token_verifies_with_its_claims) {
    caller staff;
    staff.id = "6f1c2d3e-0000-4000-8000-000000000002";
    staff.role = role::staff;
    staff.communities = {110101001, 110101002};
    auto token = issuer.issue(staff);
    auto c = verifier.verify(token, token_type::access);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->id, staff.id);
    EXPECT_EQ(c->role, role::staff);
    EXPECT_EQ(c->communities, staff.communities);
    EXPECT_FALSE(c->token_id.empty());
}

TEST_F(jwt_test, refuses_forged_and_misdirected_tokens) {
    auto token = issuer.issue(family());
    signing_key stranger = generate_signing_key("k1");
    struct bad {
        const char* what;
        std::string token;
    };
    const bad cases[] = {
        {"alg none",
         forge(
             token, [](auto& h) { h["alg"] = "none"; }, no_change, nullptr)},
        {"alg none, no signature",
         forge(
             token, [](auto& h) { h["alg"] = "none"; }, no_change, nullptr)
             .substr(0, token.rfind('.') + 1)},
        {"alg HS256",
         forge(
             token, [](auto& h) { h["alg"] = "HS256"; }, no_change, &key)},
        {"wrong signature", forge(token, no_change, no_change, &stranger)},
        {"tampered role",
         forge(
             token, no_change, [](auto& c) { c["role"] = "admin"; }, nullptr)},
        {"expired",
         forge(
             token, no_change, [this](auto& c) { c["exp"] = c["iat"].as_int64() - 3600; }, &key)},
        {"wrong iss",
         forge(
             token, no_change, [](auto& c) { c["iss"] = "someone-else"; }, &key)},
        {"wrong aud",
         forge(
             token, no_change, [](auto& c) { c["aud"] = "other-app"; }, &key)},
        {"wrong typ",
         forge(
             token, no_change, [](auto& c) { c["typ"] = "refresh"; }, &key)},
        {"unknown kid",
         forge(
             token, [](auto& h) { h["kid"] = "k9"; }, no_change, &key)},
        {"missing kid",
         forge(
             token, [](auto& h) { h.erase("kid"); }, no_change, &key)},
        {"issued in the future",
         forge(
             token, no_change, [](auto& c) { c["iat"] = c["iat"].as_int64() + 3600; }, &key)},
        {"unknown role",
         forge(
             token, no_change, [](auto& c) { c["role"] = "root"; }, &key)},
        {"opaque refresh token", "3b6f0c1e9d7a4b2c8e5f1a0d3c6b9e2f"},
        {"empty", ""},
        {"four parts", token + ".x"},
        {"garbage", "a.b.c"},
    };
    for (const auto& c : cases) {
        EXPECT_FALSE(verifier.verify(c.token, token_type::access)) << c.what;
    }
    EXPECT_TRUE(verifier.verify(forge(token, no_change, no_change, &key), token_type::access));  // control
}

TEST_F(jwt_test, expiry_follows_the_clock) {
    auto token = issuer.issue(family());
    clock.advance(14min);
    EXPECT_TRUE(verifier.verify(token, token_type::access));
    clock.advance(2min);
    EXPECT_FALSE(verifier.verify(token, token_type::access));
}

// The verifier remembers tokens it verified: the lifetime and the expected type are still checked on every
// use, and a token differing in one byte of its signature is verified on its own (and refused).
TEST_F(jwt_test, a_remembered_token_is_still_checked_for_lifetime_and_type_and_its_altered_twin_is_refused) {
    auto token = issuer.issue(family());
    ASSERT_TRUE(verifier.verify(token, token_type::access));
    ASSERT_TRUE(verifier.verify(token, token_type::access));  // remembered
    EXPECT_FALSE(verifier.verify(token, token_type::service));
    std::string twin = token;
    twin[twin.size() - 2] = twin[twin.size() - 2] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(verifier.verify(twin, token_type::access));
    clock.advance(-1h);  // before it was issued
    EXPECT_FALSE(verifier.verify(token, token_type::access));
    clock.advance(1h + 16min);  // past its expiry
    EXPECT_FALSE(verifier.verify(token, token_type::access));
}

TEST_F(jwt_test, service_and_access_tokens_are_not_interchangeable) {
    auto service = issuer.issue_service("orders");
    auto access = issuer.issue(family());
    EXPECT_FALSE(verifier.verify(service, token_type::access));
    EXPECT_FALSE(verifier.verify(access, token_type::service));
    auto c = verifier.verify(service, token_type::service);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->role, role::service);
    EXPECT_EQ(c->id, "orders");
}

TEST_F(jwt_test, rotation_accepts_old_and_new_keys_by_kid) {
    signing_key next = generate_signing_key("k2");
    verifier.add_key(next.kid, next.public_key);
    token_issuer new_issuer(next, {}, clock);
    EXPECT_TRUE(verifier.verify(issuer.issue(family()), token_type::access));
    EXPECT_TRUE(verifier.verify(new_issuer.issue(family()), token_type::access));
}

TEST_F(jwt_test, a_service_key_signs_only_its_own_service_tokens) {
    signing_key orders_key = generate_signing_key("svc.orders.1");
    verifier.add_key(orders_key.kid, orders_key.public_key);
    token_issuer orders(orders_key, {}, clock);
    auto mine = verifier.verify(orders.issue_service("orders"), token_type::service);
    ASSERT_TRUE(mine);
    EXPECT_EQ(mine->id, "orders");
    EXPECT_FALSE(verifier.verify(orders.issue_service("nursery"), token_type::service));  // not its name
    EXPECT_FALSE(verifier.verify(orders.issue(family()), token_type::access));            // no user tokens
    caller admin;
    admin.id = "6f1c2d3e-0000-4000-8000-000000000009";
    admin.role = role::admin;
    EXPECT_FALSE(verifier.verify(orders.issue(admin), token_type::access));
    // The identity key still signs both kinds.
    EXPECT_TRUE(verifier.verify(issuer.issue_service("nursery"), token_type::service));
}

TEST(signing_key, round_trips_through_its_text_form) {
    auto k = generate_signing_key("main");
    auto again = parse_signing_key(format_signing_key(k));
    EXPECT_EQ(again.public_key, k.public_key);
    EXPECT_THROW(parse_signing_key("nokid"), std::invalid_argument);
    EXPECT_THROW(parse_signing_key("k:c2hvcnQ="), std::invalid_argument);
}

}  // namespace
}  // namespace carematch::auth
