// The API documents against the code: every route the services add is documented and every documented path
// is routed; every example request body parses into the struct the handler reads (unknown members refused);
// the all-in-one document is the union of the nine.
#include "identity/src/dto.hpp"
#include "matching/src/dto.hpp"
#include "nursery/src/dto.hpp"
#include "orders/src/dto.hpp"
#include "providers/src/dto.hpp"
#include "ratings/src/review_body.hpp"
#include "realtime/src/fanout.hpp"

#include <carematch/complaints/app.hpp>
#include <carematch/core/config.hpp>
#include <carematch/http/json.hpp>
#include <carematch/http/router.hpp>
#include <carematch/identity/app.hpp>
#include <carematch/matching/app.hpp>
#include <carematch/nursery/app.hpp>
#include <carematch/orders/app.hpp>
#include <carematch/providers/app.hpp>
#include <carematch/ratings/app.hpp>
#include <carematch/realtime/app.hpp>
#include <carematch/runtime/openapi.hpp>
#include <carematch/supervision/app.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

namespace carematch {
namespace {

namespace json = boost::json;

// Every service of the all-in-one, built from its config as the process builds them (nothing connects).
class api_documents : public ::testing::Test {
  protected:
    api_documents() {
        const std::map<std::string, std::string> env{
            {"CAREMATCH_DB_URL", "postgresql://carematch@127.0.0.1:1/carematch"},
            {"CAREMATCH_AUTH_SIGNING_KEY", "doc:" + std::string(43, 'A') + "="},
            {"CAREMATCH_AUTH_DATA_KEY", std::string(43, 'B') + "="},
        };
        auto source = core::config_source::from_file(
            std::string(CAREMATCH_SOURCE_DIR) + "/config/all-in-one.toml",
            "all-in-one",
            [env](const std::string& name) -> std::optional<std::string> {
                auto it = env.find(name);
                return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
            });
        for (auto make : {&identity::make_app,
                          &orders::make_app,
                          &providers::make_app,
                          &nursery::make_app,
                          &matching::make_app,
                          &ratings::make_app,
                          &complaints::make_app,
                          &realtime::make_app,
                          &supervision::make_app}) {
            services.push_back(make(io, source));
        }
    }

    boost::asio::io_context io;
    std::vector<std::unique_ptr<runtime::service>> services;
};

std::set<std::string> documented(const json::object& doc) {
    std::set<std::string> out;
    for (const auto& [path, ops] : doc.at("paths").as_object()) {
        for (const auto& [method, op] : ops.as_object()) {
            std::string m(method);
            for (auto& ch : m) {
                ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
            }
            out.insert(m + " " + std::string(path));
        }
    }
    return out;
}

TEST_F(api_documents, every_route_is_documented_and_every_documented_operation_is_routed) {
    for (const auto& s : services) {
        http::router r;
        s->add_routes(r);
        std::set<std::string> routed;
        for (const auto& [method, pattern] : r.list()) {
            routed.insert(method + " " + pattern);
        }
        const auto doc = json::parse(s->openapi()).as_object();
        const auto docs = documented(doc);
        for (const auto& route : routed) {
            EXPECT_TRUE(docs.contains(route))
                << s->name() << ": " << route << " is routed but not documented";
        }
        for (const auto& op : docs) {
            EXPECT_TRUE(routed.contains(op)) << s->name() << ": " << op << " is documented but not routed";
        }
        EXPECT_EQ(doc.at("openapi").as_string(), "3.1.0");
        // Each operation names what it answers when refused.
        for (const auto& [path, ops] : doc.at("paths").as_object()) {
            for (const auto& [method, op] : ops.as_object()) {
                EXPECT_TRUE(op.at("responses").as_object().contains("4XX")) << path << " " << method;
                EXPECT_TRUE(op.as_object().contains("operationId")) << path << " " << method;
            }
        }
    }
}

// The parser each documented body schema stands for: the handler's own struct, unknown members refused.
template <class T>
std::function<std::string(const std::string&)> parser() {
    return [](const std::string& body) -> std::string {
        http::request req;
        req.method = "POST";
        req.body = body;
        req.headers.emplace_back("Content-Type", "application/json");
        auto parsed = http::parse_json_body<T>(req);
        return parsed ? "" : parsed.error().detail + " (" + parsed.error().field + ")";
    };
}

std::function<std::string(const std::string&)> review_checker(bool with_order) {
    return [with_order](const std::string& body) -> std::string {
        const auto o = json::parse(body).as_object();
        auto problem = ratings::check_body(o, "bath", with_order);
        return problem ? problem->detail + " (" + problem->field + ")" : "";
    };
}

TEST_F(api_documents, every_example_body_parses_into_the_struct_the_handler_reads) {
    const std::map<std::string, std::function<std::string(const std::string&)>> parsers{
        {"identity.register_body", parser<identity::register_body>()},
        {"identity.provider_register_body", parser<identity::provider_register_body>()},
        {"identity.login_body", parser<identity::login_body>()},
        {"identity.refresh_body", parser<identity::refresh_body>()},
        {"identity.password_body", parser<identity::password_body>()},
        {"identity.worker_body", parser<identity::worker_body>()},
        {"identity.staff_body", parser<identity::staff_body>()},
        {"identity.region_body", parser<identity::region_body>()},
        {"identity.region_patch", parser<identity::region_patch>()},
        {"identity.recipient_body", parser<identity::recipient_body>()},
        {"identity.consent_body", parser<identity::consent_body>()},
        {"orders.quote_body", parser<orders::quote_body>()},
        {"orders.place_body", parser<orders::place_body>()},
        {"orders.cancel_body", parser<orders::cancel_body>()},
        {"orders.complete_body", parser<orders::complete_body>()},
        {"orders.check_in_body", parser<orders::check_in_body>()},
        {"orders.internal_transition_body", parser<orders::internal_transition_body>()},
        {"orders.internal_transitions_body", parser<orders::internal_transitions_body>()},
        {"providers.organisation_body", parser<providers::organisation_body>()},
        {"providers.canteen_body", parser<providers::canteen_body>()},
        {"providers.worker_body", parser<providers::worker_body>()},
        {"providers.availability_body", parser<providers::availability_body>()},
        {"providers.reason_body", parser<providers::reason_body>()},
        {"providers.suspend_body", parser<providers::suspend_body>()},
        {"providers.point_body", parser<providers::point_body>()},
        {"nursery.nursery_body", parser<nursery::nursery_body>()},
        {"nursery.pickups_body", parser<nursery::pickups_body>()},
        {"nursery.booking_body", parser<nursery::booking_body>()},
        {"nursery.checkout_body", parser<nursery::checkout_body>()},
        {"matching.decline_body", parser<matching::decline_body>()},
        // ratings reads a review member by member, with the rules of review_body.hpp.
        {"ratings.review", review_checker(true)},
        {"ratings.review_edit", review_checker(false)},
    };
    int checked = 0;
    for (const auto& s : services) {
        const auto doc = json::parse(s->openapi()).as_object();
        for (const auto& [path, ops] : doc.at("paths").as_object()) {
            for (const auto& [method, op] : ops.as_object()) {
                const auto* body = op.as_object().if_contains("requestBody");
                if (body == nullptr) {
                    continue;
                }
                const auto& media = body->at("content").at("application/json").as_object();
                const std::string ref(media.at("schema").as_object().contains("$ref")
                                          ? media.at("schema").at("$ref").as_string()
                                          : "");
                const std::string name = ref.substr(ref.rfind('/') + 1);
                auto p = parsers.find(name);
                if (p == parsers.end() || !media.contains("example")) {
                    continue;  // a body read member by member in its handler (ratings, complaints, matching)
                }
                const std::string error = p->second(json::serialize(media.at("example")));
                EXPECT_EQ(error, "") << s->name() << " " << method << " " << path
                                     << ": the example does not parse";
                ++checked;
            }
        }
    }
    EXPECT_GE(checked, 25);
}

TEST_F(api_documents, the_all_in_one_document_is_the_union_of_the_services) {
    std::vector<std::string_view> docs;
    std::set<std::string> all;
    for (const auto& s : services) {
        docs.push_back(s->openapi());
        for (const auto& op : documented(json::parse(s->openapi()).as_object())) {
            all.insert(op);
        }
    }
    const auto merged = json::parse(runtime::merge_openapi(docs)).as_object();
    EXPECT_EQ(documented(merged), all);
    EXPECT_EQ(merged.at("info").at("title").as_string(), "CareMatch API");
    // Its description is the union's, naming every service's document, not the first service's.
    const std::string description(merged.at("info").at("description").as_string());
    for (const auto& s : services) {
        const auto own = json::parse(s->openapi());
        EXPECT_NE(description.find(std::string(own.at("info").at("title").as_string())), std::string::npos)
            << description;
    }
    EXPECT_NE(description,
              std::string(json::parse(services.front()->openapi()).at("info").at("description").as_string()));
    EXPECT_TRUE(merged.at("components").at("schemas").as_object().contains("orders.place_body"));
    EXPECT_TRUE(merged.at("components").at("schemas").as_object().contains("identity.recipient_body"));
    // Every security scheme an operation names is in the union too (realtime's WebSocket subprotocol).
    EXPECT_TRUE(merged.at("components").at("securitySchemes").as_object().contains("websocketSubprotocol"));
    EXPECT_EQ(merged.at("tags").as_array().size(), services.size());
}

// The WebSocket's frames against services/realtime/asyncapi.json: every frame the fan-out makes of the events
// realtime reads is a described message, with no member its payload schema lacks.
TEST(async_api, every_frame_realtime_sends_is_described) {
    std::ifstream in(std::string(CAREMATCH_SOURCE_DIR) + "/services/realtime/asyncapi.json");
    std::stringstream text;
    text << in.rdbuf();
    const auto doc = json::parse(text.str()).as_object();
    EXPECT_EQ(doc.at("asyncapi").as_string(), "3.0.0");
    const auto& messages = doc.at("components").at("messages").as_object();
    EXPECT_TRUE(doc.at("components").at("securitySchemes").as_object().contains("subprotocol"));
    const std::string family = "0b8f6a2e-1c1f-4a7e-9d55-0c3c9d7f0001",
                      worker = "0b8f6a2e-1c1f-4a7e-9d55-0c3c9d7f0002";
    const std::string org = "0b8f6a2e-1c1f-4a7e-9d55-0c3c9d7f0003",
                      order = "0b8f6a2e-1c1f-4a7e-9d55-0c3c9d7f0004";
    const json::object job{{"order_id", order},
                           {"offer_id", "of-1"},
                           {"status", "en_route"},
                           {"family_id", family},
                           {"worker_id", worker},
                           {"org_id", org},
                           {"kind", "bath"},
                           {"at", "2026-12-04T01:00:00Z"},
                           {"expires_at", "2026-12-04T01:01:00Z"},
                           {"booking_id", order},
                           {"nursery_id", order},
                           {"class_id", order},
                           {"days", json::array{"2026-12-07"}},
                           {"ticket_id", order},
                           {"community_id", 110101001},
                           {"severity", "safety"},
                           {"outcome", "upheld"}};
    std::set<std::string> seen;
    for (const char* type :
         {"order.created",          "order.offered",       "order.assigned",     "offer.declined",
          "offer.expired",          "order.en_route",      "order.started",      "order.completed",
          "order.cancelled",        "order.expired",       "order.failed",       "nursery.booking_confirmed",
          "nursery.waitlisted",     "complaint.filed",     "complaint.claimed",  "complaint.sla_warning",
          "complaint.sla_breached", "complaint.escalated", "complaint.resolved", "complaint.reopened",
          "complaint.closed"}) {
        events::event e;
        e.type = type;
        e.payload = json::serialize(job);
        for (const auto& d : realtime::fan_out(e)) {
            const auto frame = json::parse(d.message).as_object();
            const std::string name(frame.at("type").as_string());
            seen.insert(name);
            ASSERT_TRUE(messages.contains(name)) << type << " makes an undescribed frame " << name;
            const auto& data_schema =
                messages.at(name).at("payload").at("properties").at("data").at("properties").as_object();
            for (const auto& [member, _] : frame.at("data").as_object()) {
                EXPECT_TRUE(data_schema.contains(member)) << name << " sends " << member << ", not described";
            }
        }
    }
    for (const char* expected :
         {"order.status", "offer.new", "offer.accepted", "job.status", "booking.status"}) {
        EXPECT_TRUE(seen.contains(expected)) << expected;
    }
}

}  // namespace
}  // namespace carematch
