// identity's handlers. Each: parse the body (unknown fields refused), validate naming the field,
// authenticate, authorise (role, then ownership/scope: another family's object is 404), run one transaction,
// answer.
#include "handlers.hpp"

#include "dto.hpp"
#include "logic.hpp"
#include "repository.hpp"
#include "respond.hpp"

#include <carematch/auth/caller.hpp>
#include <carematch/core/ids.hpp>
#include <carematch/core/log.hpp>
#include <carematch/http/json.hpp>
#include <carematch/redis/commands.hpp>

#include <boost/asio/awaitable.hpp>

#include <array>

namespace carematch::identity {

namespace handlers {
namespace {

namespace json = boost::json;
using http::request;
using http::response;

constexpr std::size_t kMaxScope = 500;  // communities in one staff member's scope

auth::caller caller_of(const repo::user_row& u) {
    auth::caller who;
    who.id = u.id;
    who.role = auth::parse_role(u.role).value_or(auth::role::family);
    who.org = u.org_id;
    who.communities = u.communities;
    return who;
}

json::object user_json(const repo::user_row& u) {
    json::array comms;
    for (auto id : u.communities) {
        comms.push_back(id);
    }
    json::object o{{"id", u.id},
                   {"phone", u.phone},
                   {"role", u.role},
                   {"display_name", u.display_name},
                   {"status", u.status},
                   {"communities", std::move(comms)}};
    if (!u.districts.empty()) {
        o["districts"] = json::value_from(u.districts);
    }
    o["org_id"] = u.org_id.empty() ? json::value(nullptr) : json::value(u.org_id);
    return o;
}

// Issues an access token and a fresh refresh token in `family_id`, storing the refresh token's hash.
json::object issue_tokens(context& c, pqxx::work& tx, const repo::user_row& u, const std::string& family_id) {
    std::string refresh = core::random_hex(32);
    repo::insert_refresh(tx, family_id, u.id, core::sha256_hex(refresh), c.cfg.refresh_ttl_days);
    return json::object{{"access_token", c.issuer->issue(caller_of(u))},
                        {"token_type", "Bearer"},
                        {"expires_in", c.cfg.auth.tokens.access_ttl.count()},
                        {"refresh_token", refresh},
                        {"user_id", u.id},
                        {"role", u.role}};
}

std::optional<core::problem> check_credentials(const std::string& phone, const std::string& password) {
    if (!valid_phone(phone)) {
        return invalid("phone", "must be a mainland mobile number (11 digits starting 13–19)");
    }
    if (!valid_password(password)) {
        return invalid("password", "must be 8 to 128 characters");
    }
    return std::nullopt;
}

constexpr std::initializer_list<auth::role> any_user = {
    auth::role::family, auth::role::provider, auth::role::worker, auth::role::staff, auth::role::admin};

// ---- login throttling (Redis: failure counters per account and per IP, one hour) ----

std::string account_key(const context& c, const std::string& phone) {
    return "carematch:" + c.cfg.schema + ":login_failures:account:" + phone;
}
std::string ip_key(const context& c, const std::string& ip) {
    return "carematch:" + c.cfg.schema + ":login_failures:ip:" + ip;
}

// Counts this attempt before the password is checked (INCR is atomic, so concurrent tries cannot all slip
// under the limit); returns the seconds until the caller may try again when the attempt is over a limit, else
// 0. A successful login gives its attempt back (forgive_attempt): the counters count failures.
awaitable<long long> take_attempt(context& c, const std::string& phone, const std::string& ip) {
    const std::array<std::pair<std::string, int>, 2> limits{
        std::pair{account_key(c, phone), c.cfg.login_failures_per_account},
        std::pair{ip_key(c, ip), c.cfg.login_failures_per_ip}};
    long long wait = 0;
    for (const auto& [key, limit] : limits) {
        std::vector<std::string> incr{"INCR", key};
        auto count = co_await c.redis.command(std::move(incr));
        if (!count || count->is_error()) {
            throw core::unavailable_error("redis: login throttle unavailable");
        }
        std::vector<std::string> expire{"EXPIRE", key, "3600", "NX"};
        co_await c.redis.command(std::move(expire));
        if (count->integer > limit && wait == 0) {
            std::vector<std::string> ttl{"TTL", key};
            auto t = co_await c.redis.command(std::move(ttl));
            wait = t && t->integer > 0 ? t->integer : 3600;
        }
    }
    co_return wait;
}

awaitable<void> forgive_attempt(context& c, const std::string& phone, const std::string& ip) {
    const std::array<std::string, 2> keys{account_key(c, phone), ip_key(c, ip)};
    for (const std::string& key : keys) {
        std::vector<std::string> decr{"DECR", key};
        co_await c.redis.command(std::move(decr));
    }
}

}  // namespace

// ---- accounts ----

awaitable<response> register_family(context& c, request& req) {
    auto body = http::parse_json_body<register_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    if (auto p = check_credentials(body->phone, body->password)) {
        co_return problem(req, *p);
    }
    std::string name = body->display_name.value_or("");
    if (auto p = check_text(name, 50, false, "display_name")) {
        co_return problem(req, *p);
    }
    // Hash first: GCC 12 miscompiles a co_await inside an aggregate initialiser.
    std::string password_hash = co_await c.hasher.hash(body->password);
    repo::user_row u{core::new_uuid(), body->phone, "family", password_hash, name, "", "active", {}, {}};
    auto inserted = co_await c.pool.transact([&](pqxx::work& tx) {
        auto r = repo::insert_user(tx, *c.sealer, u);
        if (r) {
            repo::audit(tx, {u.id, "family", "register", "user", u.id, "", req.request_id});
        }
        return r;
    });
    if (!inserted) {
        co_return problem(req, core::errc::conflict, "this phone number is already registered", "phone");
    }
    co_return http::json_text_response(201, json::serialize(user_json(u)));
}

awaitable<response> register_provider(context& c, request& req) {
    auto body = http::parse_json_body<provider_register_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    if (auto p = check_credentials(body->phone, body->password)) {
        co_return problem(req, *p);
    }
    if (auto p = check_text(body->org_name, 100, true, "org_name")) {
        co_return problem(req, *p);
    }
    // Hash first: GCC 12 miscompiles a co_await inside an aggregate initialiser.
    std::string password_hash = co_await c.hasher.hash(body->password);
    repo::user_row u{core::new_uuid(),
                     body->phone,
                     "provider",
                     password_hash,
                     body->org_name,
                     core::new_uuid(),
                     "active",
                     {},
                     {}};
    auto inserted = co_await c.pool.transact([&](pqxx::work& tx) {
        auto r = repo::insert_user(tx, *c.sealer, u);
        if (r) {
            repo::audit(tx, {u.id, "provider", "register", "user", u.id, "", req.request_id});
        }
        return r;
    });
    if (!inserted) {
        co_return problem(req, core::errc::conflict, "this phone number is already registered", "phone");
    }
    co_return http::json_text_response(201, json::serialize(user_json(u)));
}

awaitable<response> login(context& c, request& req) {
    auto body = http::parse_json_body<login_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    if (!valid_phone(body->phone)) {
        co_return problem(req,
                          invalid("phone", "must be a mainland mobile number (11 digits starting 13–19)"));
    }
    if (body->password.size() > 512) {
        co_return problem(req, invalid("password", "too long"));
    }
    if (long long wait = co_await take_attempt(c, body->phone, req.remote_address); wait > 0) {
        response r = problem(req, core::errc::too_many_requests, "too many failed logins; try again later");
        r.set_header("Retry-After", std::to_string(wait));
        co_return r;
    }
    auto user = co_await c.pool.transact(
        [&](pqxx::work& tx) { return repo::find_user_by_phone(tx, *c.sealer, body->phone); });
    // Unknown accounts cost the same hashing work as known ones.
    bool ok = co_await c.hasher.verify(body->password, user ? user->password_hash : c.dummy_hash);
    if (!user || !ok || user->status == "deleted" || user->status == "suspended") {
        response r = problem(req, core::errc::unauthenticated, "wrong phone number or password");
        r.set_header("WWW-Authenticate", "Bearer");
        co_return r;
    }
    co_await forgive_attempt(c, body->phone, req.remote_address);
    auto tokens = co_await c.pool.transact([&](pqxx::work& tx) {
        auto t = issue_tokens(c, tx, *user, core::new_uuid());
        repo::audit(tx, {user->id, user->role, "login", "user", user->id, "", req.request_id});
        return t;
    });
    co_return http::json_text_response(200, json::serialize(tokens));
}

awaitable<response> refresh(context& c, request& req) {
    auto body = http::parse_json_body<refresh_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    if (body->refresh_token.size() != 64) {
        co_return problem(req, core::errc::unauthenticated, "unknown refresh token");
    }
    const std::string hash = core::sha256_hex(body->refresh_token);
    auto tokens = co_await c.pool.transact([&](pqxx::work& tx) -> std::optional<json::object> {
        auto use = repo::use_refresh(tx, hash);
        if (use.outcome == repo::refresh_outcome::reused) {
            // A rotated (or revoked) token came back: someone holds a copy. End the whole login.
            repo::revoke_family(tx, use.family_id);
            repo::audit(tx,
                        {use.user_id,
                         "",
                         "refresh_reuse_revoked_family",
                         "token_family",
                         use.family_id,
                         "",
                         req.request_id});
            return std::nullopt;
        }
        if (use.outcome == repo::refresh_outcome::unknown) {
            return std::nullopt;
        }
        auto user = repo::find_user(tx, *c.sealer, use.user_id);
        if (!user || user->status != "active") {
            return std::nullopt;
        }
        return issue_tokens(c, tx, *user, use.family_id);
    });
    if (!tokens) {
        co_return problem(req, core::errc::unauthenticated, "unknown, used or revoked refresh token");
    }
    co_return http::json_text_response(200, json::serialize(*tokens));
}

awaitable<response> logout(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, any_user);
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    const auth::caller& who = *authorized;
    auto body = http::parse_json_body<refresh_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    const std::string hash = core::sha256_hex(body->refresh_token);
    co_await c.pool.transact([&](pqxx::work& tx) {
        if (auto family = repo::family_of(tx, hash, who.id)) {
            repo::revoke_family(tx, *family);
            repo::audit(tx,
                        {who.id,
                         std::string(auth::to_string(who.role)),
                         "logout",
                         "token_family",
                         *family,
                         "",
                         req.request_id});
        }
    });
    co_return no_content();
}

awaitable<response> change_password(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, any_user);
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    const auth::caller& who = *authorized;
    auto body = http::parse_json_body<password_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    if (!valid_password(body->new_password)) {
        co_return problem(req, invalid("new_password", "must be 8 to 128 characters"));
    }
    auto user =
        co_await c.pool.transact([&](pqxx::work& tx) { return repo::find_user(tx, *c.sealer, who.id); });
    if (!user || !(co_await c.hasher.verify(body->old_password, user->password_hash))) {
        co_return problem(req, core::errc::invalid_argument, "the old password is wrong", "old_password");
    }
    std::string hash = co_await c.hasher.hash(body->new_password);
    co_await c.pool.transact([&](pqxx::work& tx) {
        repo::set_password(tx, who.id, hash);
        repo::revoke_user_tokens(tx, who.id);
        repo::audit(tx, {who.id, user->role, "change_password", "user", who.id, "", req.request_id});
    });
    co_return no_content();
}

awaitable<response> me(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, any_user);
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    const auth::caller& who = *authorized;
    auto user =
        co_await c.pool.transact([&](pqxx::work& tx) { return repo::find_user(tx, *c.sealer, who.id); });
    if (!user) {
        co_return problem(req, core::errc::not_found);
    }
    co_return http::json_text_response(200, json::serialize(user_json(*user)));
}

awaitable<response> create_worker(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::provider});
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    const auth::caller& who = *authorized;
    auto body = http::parse_json_body<worker_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    if (auto p = check_credentials(body->phone, body->password)) {
        co_return problem(req, *p);
    }
    if (auto p = check_text(body->display_name, 50, true, "display_name")) {
        co_return problem(req, *p);
    }
    auto provider =
        co_await c.pool.transact([&](pqxx::work& tx) { return repo::find_user(tx, *c.sealer, who.id); });
    if (!provider || provider->status != "active") {
        co_return problem(req, core::errc::forbidden, "the organisation's account is not active");
    }
    // Hash first: GCC 12 miscompiles a co_await inside an aggregate initialiser.
    std::string password_hash = co_await c.hasher.hash(body->password);
    repo::user_row u{core::new_uuid(),
                     body->phone,
                     "worker",
                     password_hash,
                     body->display_name,
                     provider->org_id,
                     "active",
                     {},
                     {}};
    auto inserted = co_await c.pool.transact([&](pqxx::work& tx) {
        auto r = repo::insert_user(tx, *c.sealer, u);
        if (r) {
            repo::audit(tx, {who.id, "provider", "create_worker", "user", u.id, "", req.request_id});
        }
        return r;
    });
    if (!inserted) {
        co_return problem(req, core::errc::conflict, "this phone number is already registered", "phone");
    }
    co_return http::json_text_response(201, json::serialize(user_json(u)));
}

awaitable<response> create_staff_or_admin(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::admin});
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    const auth::caller& who = *authorized;
    auto body = http::parse_json_body<staff_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    if (auto p = check_credentials(body->phone, body->password)) {
        co_return problem(req, *p);
    }
    if (body->role != "staff" && body->role != "admin") {
        co_return problem(req, invalid("role", "must be staff or admin"));
    }
    const auto communities = body->communities.value_or(std::vector<std::int64_t>{});
    const auto districts = body->districts.value_or(std::vector<std::int64_t>{});
    if ((body->role == "staff") != (!communities.empty() || !districts.empty()) || communities.size() > 200 ||
        districts.size() > 5) {
        co_return problem(
            req,
            invalid("communities",
                    "staff need 1 to 200 communities or 1 to 5 districts (district staff); admins none"));
    }
    std::string name = body->display_name.value_or("");
    if (auto p = check_text(name, 50, false, "display_name")) {
        co_return problem(req, *p);
    }
    // Hash first: GCC 12 miscompiles a co_await inside an aggregate initialiser.
    std::string password_hash = co_await c.hasher.hash(body->password);
    repo::user_row u{
        core::new_uuid(), body->phone, body->role, password_hash, name, "", "active", communities, districts};
    auto inserted = co_await c.pool.transact([&](pqxx::work& tx) -> core::result<void> {
        for (auto id : u.communities) {
            if (!repo::is_community(tx, id)) {
                return core::errc::not_found;
            }
        }
        for (auto id : u.districts) {
            if (!repo::is_district(tx, id)) {
                return core::errc::invalid_argument;
            }
        }
        // The scope travels in every token: a bound keeps a token under the services' 16 KiB header limit.
        if (!u.districts.empty() &&
            repo::communities_under(tx, u.districts) + u.communities.size() > kMaxScope) {
            return core::errc::precondition_failed;
        }
        auto r = repo::insert_user(tx, *c.sealer, u);
        if (r) {
            repo::audit(tx, {who.id, "admin", "create_" + u.role, "user", u.id, "", req.request_id});
        }
        return r;
    });
    if (!inserted) {
        if (inserted.error() == core::errc::not_found) {
            co_return problem(req, invalid("communities", "every id must name a community"));
        }
        if (inserted.error() == core::errc::invalid_argument) {
            co_return problem(req, invalid("districts", "every id must name a district"));
        }
        if (inserted.error() == core::errc::precondition_failed) {
            co_return problem(req,
                              invalid("districts", "more than 500 communities in scope; list communities"));
        }
        co_return problem(req, core::errc::conflict, "this phone number is already registered", "phone");
    }
    co_return http::json_text_response(201, json::serialize(user_json(u)));
}

// ---- regions ----

namespace {
json::object region_json(const repo::region_row& r) {
    json::object o{{"id", r.id}, {"level", r.level}, {"name", r.name}, {"residents", r.residents}};
    o["parent_id"] = r.parent_id ? json::value(*r.parent_id) : json::value(nullptr);
    return o;
}
}  // namespace

awaitable<response> list_regions(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, any_user);
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    auto rows = co_await c.pool.transact([&](pqxx::work& tx) { return repo::list_regions(tx); });
    json::array items;
    for (const auto& r : rows) {
        items.push_back(region_json(r));
    }
    co_return http::json_text_response(200, json::serialize(json::object{{"items", std::move(items)}}));
}

awaitable<response> create_region(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::admin});
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    const auth::caller& who = *authorized;
    auto body = http::parse_json_body<region_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    if (body->level != "district" && body->level != "street" && body->level != "community") {
        co_return problem(req, invalid("level", "must be district, street or community"));
    }
    if (auto p = check_text(body->name, 100, true, "name")) {
        co_return problem(req, *p);
    }
    if (body->residents < 0 || body->residents > 100'000'000) {
        co_return problem(req, invalid("residents", "must be between 0 and 100000000"));
    }
    if (body->id <= 0) {
        co_return problem(req, invalid("id", "must be positive"));
    }
    repo::region_row r{body->id, body->parent_id, body->level, body->name, body->residents};
    auto inserted = co_await c.pool.transact([&](pqxx::work& tx) {
        auto res = repo::insert_region(tx, r);
        if (res) {
            repo::audit(
                tx, {who.id, "admin", "create_region", "region", std::to_string(r.id), "", req.request_id});
        }
        return res;
    });
    if (!inserted) {
        co_return problem(req,
                          core::errc::conflict,
                          "duplicate id, or the parent is missing or of the wrong level",
                          "parent_id");
    }
    co_return http::json_text_response(201, json::serialize(region_json(r)));
}

awaitable<response> update_region(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::admin});
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    const auth::caller& who = *authorized;
    std::int64_t id = 0;
    try {
        std::size_t pos = 0;
        id = std::stoll(std::string(req.param("id")), &pos);
        if (pos != req.param("id").size()) {
            throw std::invalid_argument("id");
        }
    } catch (const std::exception&) {
        co_return problem(req, core::errc::not_found);
    }
    auto body = http::parse_json_body<region_patch>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    if (body->name) {
        if (auto p = check_text(*body->name, 100, true, "name")) {
            co_return problem(req, *p);
        }
    }
    if (body->residents && (*body->residents < 0 || *body->residents > 100'000'000)) {
        co_return problem(req, invalid("residents", "must be between 0 and 100000000"));
    }
    auto updated = co_await c.pool.transact([&](pqxx::work& tx) -> core::result<repo::region_row> {
        auto r = repo::update_region(tx, id, body->name, body->residents);
        if (!r) {
            return r.error();
        }
        repo::audit(tx, {who.id, "admin", "update_region", "region", std::to_string(id), "", req.request_id});
        for (auto& row : repo::list_regions(tx)) {
            if (row.id == id) {
                return row;
            }
        }
        return core::errc::not_found;
    });
    if (!updated) {
        co_return problem(req, core::errc::not_found);
    }
    co_return http::json_text_response(200, json::serialize(region_json(*updated)));
}

}  // namespace handlers
}  // namespace carematch::identity
