// Roles, bearer-token authentication and the shared authorisation answers.
#include <carematch/auth/caller.hpp>
#include <carematch/auth/jwt.hpp>

#include <algorithm>

namespace carematch::auth {

std::string_view to_string(role r) noexcept {
    switch (r) {
        case role::family:
            return "family";
        case role::provider:
            return "provider";
        case role::worker:
            return "worker";
        case role::staff:
            return "staff";
        case role::admin:
            return "admin";
        case role::service:
            return "service";
    }
    return "family";
}

std::optional<role> parse_role(std::string_view s) noexcept {
    for (role r : {role::family, role::provider, role::worker, role::staff, role::admin, role::service}) {
        if (to_string(r) == s) {
            return r;
        }
    }
    return std::nullopt;
}

bool caller::any_of(std::initializer_list<auth::role> roles) const noexcept {
    return std::find(roles.begin(), roles.end(), role) != roles.end();
}

bool caller::covers(std::int64_t community) const noexcept {
    return role == role::staff &&
           std::find(communities.begin(), communities.end(), community) != communities.end();
}

core::result<caller> authenticate(const http::request& req, const token_verifier& v, bool allow_service) {
    auto h = req.header("authorization");
    constexpr std::string_view scheme = "Bearer ";
    if (!h || h->size() <= scheme.size() || !h->starts_with(scheme)) {
        return core::errc::unauthenticated;
    }
    std::string_view token = h->substr(scheme.size());
    auto c = v.verify(token, token_type::access);
    if (!c && allow_service) {
        c = v.verify(token, token_type::service);
    }
    return c;
}

core::result<caller> authorize(const http::request& req,
                               const token_verifier& v,
                               std::initializer_list<role> roles,
                               bool allow_service) {
    auto who = authenticate(req, v, allow_service);
    if (!who) {
        return who.error();
    }
    if (auto ok = require_role(*who, roles); !ok) {
        return ok.error();
    }
    return who;
}

core::result<void> require_role(const caller& c, std::initializer_list<role> roles) {
    if (!c.any_of(roles)) {
        return core::errc::forbidden;
    }
    return {};
}

http::response deny(const boost::system::error_code& ec, std::string_view request_id) {
    int status = core::http_status(ec);
    std::string detail = status == 401   ? "a valid access token is required"
                         : status == 403 ? "this role may not do that"
                                         : "no such resource";
    auto res = http::problem_response(
        core::problem{status, std::string(core::status_title(status)), detail, {}}, request_id);
    if (status == 401) {
        res.set_header("WWW-Authenticate", "Bearer");
    }
    return res;
}

}  // namespace carematch::auth
