// Care recipients: a family's elders and children, their consents, and the views each role may see.
#include "dto.hpp"
#include "handlers.hpp"
#include "logic.hpp"
#include "repository.hpp"
#include "respond.hpp"

#include <carematch/auth/caller.hpp>
#include <carematch/core/ids.hpp>
#include <carematch/db/outbox.hpp>
#include <carematch/http/json.hpp>

#include <boost/asio/awaitable.hpp>

namespace carematch::identity::handlers {
namespace {

namespace json = boost::json;
using http::request;
using http::response;

enum class view { family, staff, service };

std::string hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 0xF];
    }
    return out;
}

std::string unhex(std::string_view h) {
    std::string out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
        out += static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16));
    }
    return out;
}

json::object open_sensitive(const context& c, const repo::recipient_row& r) {
    if (!r.sealed_hex || r.sealed_hex->empty()) {
        return {};
    }
    auto plain = c.sealer->open(unhex(*r.sealed_hex));
    if (!plain) {
        throw std::runtime_error("sealed recipient data does not open with the configured key");
    }
    return json::parse(*plain).as_object();
}

bool has_consent(const std::vector<repo::consent_row>& consents, std::string_view purpose) {
    return std::any_of(consents.begin(), consents.end(), [&](const auto& x) { return x.purpose == purpose; });
}

json::value strings(const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v) {
        a.push_back(json::string(s));
    }
    return a;
}

template <class T>
json::value opt(const std::optional<T>& v) {
    return v ? json::value_from(*v) : json::value(nullptr);
}

json::object recipient_json(const context& c,
                            const repo::recipient_row& r,
                            const std::vector<repo::consent_row>& consents,
                            view v) {
    json::object o{{"id", r.id}, {"kind", r.kind}, {"community_id", r.community_id}};
    if (v == view::service) {
        o["family_id"] = r.family_id;  // lets a service check that the caller's family owns the recipient
    }
    json::object sensitive;
    const bool show_sensitive =
        v == view::family || (v == view::service && has_consent(consents, "share_health_with_provider"));
    if (show_sensitive) {
        sensitive = open_sensitive(c, r);
    }
    if (r.kind == "elder") {
        o["name"] = opt(r.name);
        o["birth_date"] = opt(r.birth_date);
        o["gender"] = opt(r.gender);
        o["ability_level"] = opt(r.ability_level);
        o["priority_categories"] = strings(r.priority_categories);
        o["diet"] = strings(r.diet);
        o["languages"] = strings(r.languages);
        o["gender_preference"] = opt(r.gender_preference);
        if (show_sensitive) {
            o["health_notes"] =
                sensitive.contains("health_notes") ? sensitive["health_notes"] : json::value(nullptr);
        }
    } else {
        o["priority_categories"] = strings(r.priority_categories);
        if (show_sensitive) {
            for (const char* k : {"name", "birth_date", "allergies", "guardians"}) {
                o[k] = sensitive.contains(k) ? sensitive[k] : json::value(nullptr);
            }
            o["gender"] = opt(r.gender);
        }
    }
    o["address"] = opt(r.address);
    o["location"] =
        r.lat && r.lon ? json::value(json::object{{"lat", *r.lat}, {"lon", *r.lon}}) : json::value(nullptr);
    o["emergency_contacts"] = json::parse(r.emergency_contacts_json);
    if (v == view::family) {
        json::array cs;
        for (const auto& x : consents) {
            cs.push_back(json::object{
                {"purpose", x.purpose}, {"text_version", x.text_version}, {"granted_at", x.granted_at}});
        }
        o["consents"] = std::move(cs);
    }
    o["created_at"] = r.created_at;
    o["updated_at"] = r.updated_at;
    return o;
}

// What orders keeps of an elder to place and price orders without calling identity (recipient.saved on
// identity's stream): who it belongs to, where and how it is served. No name, no contacts, no health data;
// the address sealed with the platform data key, so that neither the outbox nor the stream holds it in plain
// text. The hand-over is audited in the transaction that publishes it. Children are never published.
void publish_recipient(context& c,
                       pqxx::work& tx,
                       const repo::recipient_row& r,
                       const std::string& request_id) {
    if (r.kind != "elder") {
        return;
    }
    json::object facts{
        {"recipient_id", r.id},
        {"family_id", r.family_id},
        {"kind", r.kind},
        {"community_id", r.community_id},
        {"birth_date", opt(r.birth_date)},
        {"ability_level", opt(r.ability_level)},
        {"priority_categories", strings(r.priority_categories)},
        {"gender_preference", opt(r.gender_preference)},
        {"address_sealed", r.address ? json::value(c.sealer->seal_text(*r.address)) : json::value(nullptr)}};
    facts["location"] =
        r.lat && r.lon ? json::value(json::object{{"lat", *r.lat}, {"lon", *r.lon}}) : json::value(nullptr);
    db::enqueue_event(tx, c.cfg.schema, c.cfg.events_stream, "recipient.saved", json::serialize(facts));
    repo::audit(tx,
                {"identity", "service", "handover:orders", "recipient", r.id, "recipient.saved", request_id});
}

std::optional<core::problem> check_contacts(const std::vector<contact>& list,
                                            std::size_t max,
                                            const char* field) {
    if (list.size() > max) {
        return invalid(field, "at most " + std::to_string(max) + " entries");
    }
    for (const auto& x : list) {
        if (auto p = check_text(x.name, 50, true, field)) {
            return p;
        }
        if (!valid_phone(x.phone)) {
            return invalid(field, "every phone must be a mainland mobile number");
        }
        if (auto p = check_text(x.relation, 20, true, field)) {
            return p;
        }
    }
    return std::nullopt;
}

std::optional<core::problem> check_consents(const std::vector<consent_body>& list) {
    for (const auto& x : list) {
        if (std::find(consent_purposes.begin(), consent_purposes.end(), x.purpose) ==
            consent_purposes.end()) {
            return invalid("consents", "unknown purpose '" + x.purpose.substr(0, 40) + "'");
        }
        if (auto p = check_text(x.text_version, 20, true, "consents")) {
            return p;
        }
    }
    return std::nullopt;
}

// Applies `b` onto `r` and `sensitive` (creating or patching) and validates the result.
std::optional<core::problem> apply(const context& c,
                                   const recipient_body& b,
                                   repo::recipient_row& r,
                                   json::object& sensitive,
                                   bool creating) {
    const bool elder = r.kind == "elder";
    const auto day = std::chrono::year_month_day(c.today());
    if (b.kind && *b.kind != r.kind) {
        return invalid("kind", creating ? "must be elder or child" : "cannot change");
    }
    // Fields of the other kind are refused rather than silently dropped.
    // A child carries its family's priority categories too (they decide 普惠 nursery places).
    if (!elder && (b.ability_level || b.diet || b.gender_preference || b.health_notes)) {
        return invalid(b.ability_level       ? "ability_level"
                       : b.diet              ? "diet"
                       : b.gender_preference ? "gender_preference"
                                             : "health_notes",
                       "not a field of a child");
    }
    if (elder && (b.allergies || b.guardians)) {
        return invalid(b.allergies ? "allergies" : "guardians", "not a field of an elder");
    }
    if (b.community_id) {
        r.community_id = *b.community_id;
    }
    if (b.name) {
        if (auto p = check_text(*b.name, 50, true, "name")) {
            return p;
        }
        if (elder) {
            r.name = *b.name;
        } else {
            sensitive["name"] = *b.name;
        }
    }
    if (b.birth_date) {
        auto d = parse_past_date(*b.birth_date, day);
        if (!d) {
            return invalid("birth_date", "must be a date YYYY-MM-DD, not in the future");
        }
        if (elder) {
            r.birth_date = *b.birth_date;
        } else {
            sensitive["birth_date"] = *b.birth_date;
        }
    }
    if (b.gender) {
        if (*b.gender != "female" && *b.gender != "male") {
            return invalid("gender", "must be female or male");
        }
        r.gender = *b.gender;
    }
    if (b.ability_level) {
        if (*b.ability_level < 0 || *b.ability_level > 4) {
            return invalid("ability_level", "must be 0 (intact) to 4 (total disability)");
        }
        r.ability_level = *b.ability_level;
    }
    if (b.priority_categories) {
        if (auto p = check_enum_list(*b.priority_categories, priority_categories, 5, "priority_categories")) {
            return p;
        }
        r.priority_categories = *b.priority_categories;
    }
    if (b.diet) {
        if (auto p = check_enum_list(*b.diet, diet_tags, 5, "diet")) {
            return p;
        }
        r.diet = *b.diet;
    }
    if (b.languages) {
        if (auto p = check_enum_list(*b.languages, language_tags, 7, "languages")) {
            return p;
        }
        r.languages = *b.languages;
    }
    if (b.gender_preference) {
        if (*b.gender_preference != "female" && *b.gender_preference != "male" &&
            *b.gender_preference != "none") {
            return invalid("gender_preference", "must be female, male or none");
        }
        r.gender_preference = *b.gender_preference;
    }
    if (b.address) {
        if (auto p = check_text(*b.address, 200, true, "address")) {
            return p;
        }
        r.address = *b.address;
    }
    if (b.location) {
        if (!in_china(b.location->lat, b.location->lon)) {
            return invalid("location", "must lie inside China (lat 18.0–53.6, lon 73.5–135.1)");
        }
        r.lat = b.location->lat;
        r.lon = b.location->lon;
    }
    if (b.emergency_contacts) {
        if (auto p = check_contacts(*b.emergency_contacts, 5, "emergency_contacts")) {
            return p;
        }
        r.emergency_contacts_json = json::serialize(json::value_from(*b.emergency_contacts));
    }
    if (b.health_notes) {
        if (auto p = check_text(*b.health_notes, 2000, false, "health_notes")) {
            return p;
        }
        sensitive["health_notes"] = *b.health_notes;
    }
    if (b.allergies) {
        if (b.allergies->size() > 20) {
            return invalid("allergies", "at most 20 entries");
        }
        for (const auto& a : *b.allergies) {
            if (auto p = check_text(a, 50, true, "allergies")) {
                return p;
            }
        }
        sensitive["allergies"] = json::value_from(*b.allergies);
    }
    if (b.guardians) {
        if (auto p = check_contacts(*b.guardians, 4, "guardians")) {
            return p;
        }
        sensitive["guardians"] = json::value_from(*b.guardians);
    }
    if (creating) {
        if (!b.community_id) {
            return invalid("community_id", "is required");
        }
        if (!b.name) {
            return invalid("name", "is required");
        }
        if (!b.birth_date) {
            return invalid("birth_date", "is required");
        }
        if (elder && !b.ability_level) {
            return invalid("ability_level", "is required for an elder");
        }
    }
    return std::nullopt;
}

std::optional<std::string> recipient_id(const request& req) {
    std::string id(req.param("id"));
    if (!core::is_uuid(id)) {
        return std::nullopt;
    }
    return id;
}

// The outcome of a transaction that validates against stored state.
struct outcome {
    std::optional<core::problem> failure;
    json::object body;
};

std::string role_name(const auth::caller& who) {
    return std::string(auth::to_string(who.role));
}

}  // namespace

awaitable<response> create_recipient(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::family});
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    const auth::caller& who = *authorized;
    auto body = http::parse_json_body<recipient_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    if (!body->kind || (*body->kind != "elder" && *body->kind != "child")) {
        co_return problem(req, invalid("kind", "must be elder or child"));
    }
    repo::recipient_row r;
    r.id = core::new_uuid();
    r.family_id = who.id;
    r.kind = *body->kind;
    json::object sensitive;
    if (auto p = apply(c, *body, r, sensitive, true)) {
        co_return problem(req, *p);
    }
    std::vector<consent_body> consents = body->consents.value_or(std::vector<consent_body>{});
    if (auto p = check_consents(consents)) {
        co_return problem(req, *p);
    }
    const bool storage_consent = std::any_of(
        consents.begin(), consents.end(), [](const auto& x) { return x.purpose == "sensitive_storage"; });
    if (!sensitive.empty()) {
        if (!storage_consent) {
            co_return problem(
                req, invalid("consents", "sensitive data is stored only with the sensitive_storage consent"));
        }
        r.sealed_hex = hex(c.sealer->seal(json::serialize(sensitive)));
    }
    auto result = co_await c.pool.transact([&](pqxx::work& tx) {
        outcome out;
        if (!repo::is_community(tx, r.community_id)) {
            out.failure = invalid("community_id", "must name a community");
            return out;
        }
        repo::insert_recipient(tx, *c.sealer, r);
        for (const auto& x : consents) {
            repo::grant_consent(tx, r.id, x.purpose, x.text_version, who.id);
            repo::audit(
                tx, {who.id, "family", "grant_consent:" + x.purpose, "recipient", r.id, "", req.request_id});
        }
        repo::audit(tx, {who.id, "family", "create", "recipient", r.id, "", req.request_id});
        auto stored = repo::find_recipient(tx, *c.sealer, r.id);
        publish_recipient(c, tx, *stored, req.request_id);
        out.body = recipient_json(c, *stored, repo::active_consents(tx, r.id), view::family);
        return out;
    });
    if (result.failure) {
        co_return problem(req, *result.failure);
    }
    co_return http::json_text_response(201, json::serialize(result.body));
}

awaitable<response> list_recipients(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::family, auth::role::staff});
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    const auth::caller& who = *authorized;
    std::optional<std::int64_t> community;
    if (who.is(auth::role::staff)) {
        community = http::int_param(req, "community_id");
        if (!community && req.query_param("community_id")) {
            co_return problem(req, core::bad_query("community_id", "a community id (digits only)"));
        }
        if (!community) {
            co_return problem(req,
                              core::make_problem(core::errc::invalid_argument,
                                                 "staff list the recipients of one community",
                                                 "community_id"));
        }
        if (!who.covers(*community)) {
            co_return auth::deny(core::errc::forbidden, req.request_id);
        }
    }
    auto items = co_await c.pool.transact([&](pqxx::work& tx) {
        json::array out;
        auto rows = community ? repo::list_by_community(tx, *c.sealer, *community)
                              : repo::list_by_family(tx, *c.sealer, who.id);
        for (const auto& r : rows) {
            out.push_back(recipient_json(
                c, r, repo::active_consents(tx, r.id), community ? view::staff : view::family));
        }
        return out;
    });
    co_return http::json_text_response(200, json::serialize(json::object{{"items", std::move(items)}}));
}

awaitable<response> get_recipient(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::family, auth::role::staff});
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    const auth::caller& who = *authorized;
    auto id = recipient_id(req);
    if (!id) {
        co_return problem(req, core::errc::not_found);
    }
    auto found = co_await c.pool.transact([&](pqxx::work& tx) -> std::optional<json::object> {
        auto r = repo::find_recipient(tx, *c.sealer, *id);
        // Another family's recipient, or one outside the staff member's communities, does not exist for them.
        if (!r || (who.is(auth::role::family) && r->family_id != who.id) ||
            (who.is(auth::role::staff) && !who.covers(r->community_id))) {
            return std::nullopt;
        }
        return recipient_json(
            c, *r, repo::active_consents(tx, *id), who.is(auth::role::family) ? view::family : view::staff);
    });
    if (!found) {
        co_return problem(req, core::errc::not_found);
    }
    co_return http::json_text_response(200, json::serialize(*found));
}

awaitable<response> update_recipient(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::family});
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    const auth::caller& who = *authorized;
    auto id = recipient_id(req);
    if (!id) {
        co_return problem(req, core::errc::not_found);
    }
    auto body = http::parse_json_body<recipient_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    if (body->consents) {
        co_return problem(req, invalid("consents", "grant consents through /v1/recipients/{id}/consents"));
    }
    auto result = co_await c.pool.transact([&](pqxx::work& tx) {
        outcome out;
        auto r = repo::find_recipient(tx, *c.sealer, *id);
        if (!r || r->family_id != who.id) {
            out.failure = core::make_problem(core::errc::not_found);
            return out;
        }
        auto consents = repo::active_consents(tx, *id);
        json::object sensitive = open_sensitive(c, *r);
        const std::string before = json::serialize(sensitive);
        if (auto p = apply(c, *body, *r, sensitive, false)) {
            out.failure = p;
            return out;
        }
        if (!repo::is_community(tx, r->community_id)) {
            out.failure = invalid("community_id", "must name a community");
            return out;
        }
        if (json::serialize(sensitive) != before) {
            if (!has_consent(consents, "sensitive_storage")) {
                out.failure =
                    invalid("consents", "sensitive data is stored only with the sensitive_storage consent");
                return out;
            }
            r->sealed_hex = hex(c.sealer->seal(json::serialize(sensitive)));
        }
        repo::update_recipient(tx, *c.sealer, *r);
        repo::audit(tx, {who.id, "family", "update", "recipient", *id, "", req.request_id});
        auto stored = repo::find_recipient(tx, *c.sealer, *id);
        publish_recipient(c, tx, *stored, req.request_id);
        out.body = recipient_json(c, *stored, consents, view::family);
        return out;
    });
    if (result.failure) {
        co_return problem(req, *result.failure);
    }
    co_return http::json_text_response(200, json::serialize(result.body));
}

awaitable<response> delete_recipient(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::family});
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    const auth::caller& who = *authorized;
    auto id = recipient_id(req);
    if (!id) {
        co_return problem(req, core::errc::not_found);
    }
    bool deleted = co_await c.pool.transact([&](pqxx::work& tx) {
        auto r = repo::find_recipient(tx, *c.sealer, *id);
        if (!r || r->family_id != who.id) {
            return false;
        }
        repo::soft_delete_recipient(tx, *id);
        repo::audit(tx, {who.id, "family", "delete", "recipient", *id, "", req.request_id});
        db::enqueue_event(tx,
                          c.cfg.schema,
                          c.cfg.events_stream,
                          "recipient.deleted",
                          json::serialize(json::object{{"recipient_id", *id}}));
        return true;
    });
    if (!deleted) {
        co_return problem(req, core::errc::not_found);
    }
    co_return no_content();
}

awaitable<response> grant_consent(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::family});
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    const auth::caller& who = *authorized;
    auto id = recipient_id(req);
    if (!id) {
        co_return problem(req, core::errc::not_found);
    }
    auto body = http::parse_json_body<consent_body>(req);
    if (!body) {
        co_return problem(req, body.error());
    }
    if (std::find(consent_purposes.begin(), consent_purposes.end(), body->purpose) ==
        consent_purposes.end()) {
        co_return problem(req, invalid("purpose", "must be sensitive_storage or share_health_with_provider"));
    }
    if (auto p = check_text(body->text_version, 20, true, "text_version")) {
        co_return problem(req, *p);
    }
    bool granted = co_await c.pool.transact([&](pqxx::work& tx) {
        auto r = repo::find_recipient(tx, *c.sealer, *id);
        if (!r || r->family_id != who.id) {
            return false;
        }
        repo::grant_consent(tx, *id, body->purpose, body->text_version, who.id);
        repo::audit(
            tx, {who.id, "family", "grant_consent:" + body->purpose, "recipient", *id, "", req.request_id});
        return true;
    });
    if (!granted) {
        co_return problem(req, core::errc::not_found);
    }
    co_return http::json_text_response(
        201, json::serialize(json::object{{"purpose", body->purpose}, {"text_version", body->text_version}}));
}

awaitable<response> withdraw_consent(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::family});
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    const auth::caller& who = *authorized;
    auto id = recipient_id(req);
    std::string purpose(req.param("purpose"));
    if (!id ||
        std::find(consent_purposes.begin(), consent_purposes.end(), purpose) == consent_purposes.end()) {
        co_return problem(req, core::errc::not_found);
    }
    bool withdrawn = co_await c.pool.transact([&](pqxx::work& tx) {
        auto r = repo::find_recipient(tx, *c.sealer, *id);
        if (!r || r->family_id != who.id || !repo::withdraw_consent(tx, *id, purpose)) {
            return false;
        }
        if (purpose == "sensitive_storage") {
            repo::clear_sealed(tx, *id);  // withdrawing stops the use at once: the data goes
        }
        repo::audit(tx,
                    {who.id, "family", "withdraw_consent:" + purpose, "recipient", *id, "", req.request_id});
        return true;
    });
    if (!withdrawn) {
        co_return problem(req, core::errc::not_found);
    }
    co_return no_content();
}

awaitable<response> internal_get_recipient(context& c, request& req) {
    auto authorized = auth::authorize(req, c.verifier, {auth::role::service}, true);
    if (!authorized) {
        co_return auth::deny(authorized.error(), req.request_id);
    }
    const auth::caller& who = *authorized;
    auto id = recipient_id(req);
    if (!id) {
        co_return problem(req, core::errc::not_found);
    }
    auto purpose = req.query_param("purpose");
    if (!purpose || purpose->empty() || purpose->size() > 100) {
        co_return problem(
            req,
            core::make_problem(
                core::errc::invalid_argument, "name the purpose of the read, e.g. order:<id>", "purpose"));
    }
    auto found = co_await c.pool.transact([&](pqxx::work& tx) -> std::optional<json::object> {
        auto r = repo::find_recipient(tx, *c.sealer, *id);
        if (!r) {
            return std::nullopt;
        }
        auto consents = repo::active_consents(tx, *id);
        bool shares = has_consent(consents, "share_health_with_provider") && r->sealed_hex;
        // A nursery booking needs the child's age on each day: its birth date, and nothing else sealed.
        const bool age_check = r->kind == "child" && purpose->starts_with("nursery:") && r->sealed_hex;
        // Written in the same transaction as the read: no sensitive read without its audit row.
        repo::audit(tx,
                    {who.id,
                     role_name(who),
                     shares ? "read_sensitive" : (age_check ? "read_birth_date" : "read"),
                     "recipient",
                     *id,
                     *purpose,
                     req.request_id});
        auto o = recipient_json(c, *r, consents, view::service);
        if (age_check && !shares) {
            auto sealed = open_sensitive(c, *r);
            o["birth_date"] = sealed.contains("birth_date") ? sealed["birth_date"] : json::value(nullptr);
        }
        return o;
    });
    if (!found) {
        co_return problem(req, core::errc::not_found);
    }
    co_return http::json_text_response(200, json::serialize(*found));
}

}  // namespace carematch::identity::handlers
