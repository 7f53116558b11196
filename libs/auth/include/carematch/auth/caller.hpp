// Who is calling: the verified identity a handler works with, and the role and ownership checks every
// service applies the same way.
#pragma once

#include <carematch/core/error.hpp>
#include <carematch/http/message.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace carematch::auth {

enum class role { family, provider, worker, staff, admin, service };

std::string_view to_string(role r) noexcept;
std::optional<role> parse_role(std::string_view s) noexcept;

/// A verified caller.
struct caller {
    std::string id;  // user id (UUID), or the calling service's name for role::service
    auth::role role = role::family;
    std::string org;                        // provider organisation, for provider and worker
    std::vector<std::int64_t> communities;  // staff scope
    std::string token_id;                   // jti
    std::int64_t expires_at = 0;            // exp: seconds since the epoch

    bool is(auth::role r) const noexcept { return role == r; }
    bool any_of(std::initializer_list<auth::role> roles) const noexcept;
    /// Staff whose scope includes `community`.
    bool covers(std::int64_t community) const noexcept;
};

class token_verifier;

/// Reads "Authorization: Bearer <jwt>" and verifies it as an access token (or, with `allow_service`, a
/// service token). errc::unauthenticated for a missing, malformed, forged, expired or misdirected token.
core::result<caller> authenticate(const http::request& req,
                                  const token_verifier& v,
                                  bool allow_service = false);

/// authenticate() and require_role() in one step: the caller, errc::unauthenticated or errc::forbidden.
core::result<caller> authorize(const http::request& req,
                               const token_verifier& v,
                               std::initializer_list<role> roles,
                               bool allow_service = false);

/// errc::forbidden unless `c` has one of `roles`.
core::result<void> require_role(const caller& c, std::initializer_list<role> roles);

/// The problem answering an authentication or authorisation failure (401 with WWW-Authenticate, 403, 404).
http::response deny(const boost::system::error_code& ec, std::string_view request_id);

}  // namespace carematch::auth
