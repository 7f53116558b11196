// carematch-sim: a day in a district, driven through the platform's public API as its users would — families
// order for their elders and rate the service, workers answer offers on their sockets and serve the jobs,
// community staff work the complaint queue — with a progress line while it runs, a summary and plots at the
// end, and checks that fail the run when the platform broke a promise. No database, no internal endpoint, no
// signing key: an admin's phone and password, as `deploy/local/up.sh` leaves them, are all it needs.
//
// Usage: carematch-sim --scenario FILE [--url http://127.0.0.1:8080] (--admin-file FILE | --admin
// PHONE:PASSWORD)
//                      [--out DIR] [--speed N] [--hours H] [--seed N] [--street ID] [--elders N] [--quiet]
#include "live.hpp"
#include "sim.hpp"

#include <carematch/core/ids.hpp>
#include <carematch/http/client.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

namespace carematch::sim {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using steady = std::chrono::steady_clock;
using asio::awaitable;
constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
constexpr double pi = 3.14159265358979323846;

struct options {
    std::string url = "http://127.0.0.1:8080";
    std::string admin;  // phone:password
    std::string scenario;
    std::string out;
    std::optional<double> speed;
    std::optional<double> hours;
    std::optional<std::uint64_t> seed;
    std::optional<std::int64_t> street;
    std::optional<int> elders;
    bool quiet = false;
};

// An account the simulator signs in with; every request of it comes from an address of its own (X-Real-IP,
// which the services take from a proxy on their machine, as from nginx), so per-address limits apply to it
// as they would to a person's phone.
struct person {
    std::string phone;
    std::string password;
    std::string id;
    std::string access;
    std::string refresh;
    std::string ip;
    steady::time_point issued{};
};

struct call_spec {
    call_spec(std::string m, std::string t, std::optional<json::value> b = std::nullopt)
        : method(std::move(m)), target(std::move(t)), body(std::move(b)) {}
    std::string method = "GET";
    std::string target;
    std::optional<json::value> body;
    person* who = nullptr;
    std::string key;  // Idempotency-Key
};

struct reply {
    int status = 0;
    json::value body;
    std::string raw;
    std::string field() const {
        if (body.is_object()) {
            if (const auto* f = body.as_object().if_contains("field"); f && f->is_string()) {
                return std::string(f->as_string());
            }
        }
        return "";
    }
    std::string text(const char* key) const {
        if (body.is_object()) {
            if (const auto* v = body.as_object().if_contains(key); v && v->is_string()) {
                return std::string(v->as_string());
            }
        }
        return "";
    }
};

struct catalog_entry {
    std::string kind;
    std::string sub_type;
    int duration_min = 30;
    int lead_min = 60;
    int hours_from = -1;  // local minutes; -1: any time
    int hours_to = -1;
};

struct elder {
    person family;
    std::string recipient_id;
    std::size_t street = 0;
    std::int64_t community = 0;
    double lat = 0;
    double lon = 0;
    bool priority = false;
};

struct worker {
    person me;
    std::size_t street = 0;
    double lat = 0;
    double lon = 0;
    std::vector<std::string> kinds;
    std::deque<std::size_t> queue;  // orders accepted, not yet served
    std::unique_ptr<asio::steady_timer> wake;
    int jobs = 0;
};

struct nursery_site {
    std::string id;
    std::size_t street = 0;
    int places = 0;
    std::map<std::string, std::string> class_of_band;
    std::map<std::string, int> class_places;
};

struct child {
    person family;
    std::string recipient_id;
    std::size_t street = 0;
    double months = 0;  // age today
};

struct staff_member {
    person me;
    std::vector<std::int64_t> communities;
};

struct ticket_seen {
    std::string id;
    std::int64_t community = 0;
};

struct review {
    std::string id;
    std::size_t elder = 0;
    bool bad = false;
};

// Seconds and a small text for the summary's progress line.
std::string clock_text(double local_minute) {
    const int m = static_cast<int>(std::floor(local_minute)) % (24 * 60);
    char b[32];
    std::snprintf(b, sizeof b, "%02d:%02d", m / 60, m % 60);
    return b;
}

double distance_km(double lat1, double lon1, double lat2, double lon2) {
    const double r = 6371.0;
    const double p1 = lat1 * pi / 180;
    const double p2 = lat2 * pi / 180;
    const double dp = (lat2 - lat1) * pi / 180;
    const double dl = (lon2 - lon1) * pi / 180;
    const double a = std::sin(dp / 2) * std::sin(dp / 2) +
                     std::cos(p1) * std::cos(p2) * std::sin(dl / 2) * std::sin(dl / 2);
    return 2 * r * std::asin(std::sqrt(std::min(1.0, a)));
}

int minute_of(const std::string& hhmm) {
    if (hhmm.size() != 5 || hhmm[2] != ':') {
        return -1;
    }
    return std::stoi(hhmm.substr(0, 2)) * 60 + std::stoi(hhmm.substr(3, 2));
}

class simulation {
  public:
    simulation(asio::io_context& io, options opt, scenario s)
        : io_(io), client_(io, client_settings()), opt_(std::move(opt)), s_(std::move(s)), rng_(s_.seed) {
        parse_url();
        nonce_ = std::to_string(1000 + std::random_device{}() % 9000);
    }

    int exit_code = 2;

    awaitable<void> run() {
        t0_ = steady::now();
        began_ = std::chrono::system_clock::now();
        co_await setup();
        r_.setup_seconds = real_now();
        if (!opt_.quiet) {
            std::fprintf(
                stderr,
                "set up in %.0f s: %zu elders, %zu workers, %zu staff; running %.1f simulated hours at %gx\n",
                r_.setup_seconds,
                elders_.size(),
                workers_.size(),
                staff_.size(),
                s_.hours,
                s_.speed);
        }
        run_t0_ = real_now();
        spawn([this]() -> awaitable<void> { co_await progress(); });
        for (std::size_t i = 0; i < workers_.size(); ++i) {
            spawn([this, i]() -> awaitable<void> { co_await serve(i); });
            spawn([this, i]() -> awaitable<void> { co_await heartbeat(i); });
        }
        for (std::size_t i = 0; i < staff_.size(); ++i) {
            spawn([this, i]() -> awaitable<void> { co_await staff_loop(i); });
        }
        for (std::size_t i = 0; i < children_.size(); ++i) {
            ++busy_;
            spawn([this, i]() -> awaitable<void> {
                co_await book_nursery(i);
                --busy_;
            });
        }
        co_await arrivals();
        arrivals_done_ = true;
        co_await drain();
        finished_ = true;
        *stop_ = true;
        co_await final_checks();
        r_.sim_seconds = sim_now();
        r_.real_seconds = real_now();
        finish_results();
        std::string dir = opt_.out;
        if (dir.empty()) {
            dir = "sim-" + nonce_;
        }
        std::filesystem::create_directories(dir);
        const std::string text = write_reports(r_, dir);
        if (!opt_.quiet) {
            std::fprintf(stderr, "\n");
        }
        std::fputs(text.c_str(), stdout);
        std::printf("reports: %s/summary.txt, summary.json, orders.csv, latency.svg, timeline.svg, map.svg\n",
                    dir.c_str());
        bool ok = true;
        for (const auto& c : r_.checks) {
            ok = ok && c.ok;
        }
        exit_code = ok ? 0 : 1;
        io_.stop();
    }

  private:
    static http::client::settings client_settings() {
        http::client::settings s;
        s.timeout = std::chrono::seconds(30);
        s.max_idle_per_host = 256;
        return s;
    }

    void parse_url() {
        std::string u = opt_.url;
        if (u.rfind("http://", 0) != 0) {
            throw std::runtime_error("--url must be http://host:port");
        }
        u = u.substr(7);
        if (auto slash = u.find('/'); slash != std::string::npos) {
            u = u.substr(0, slash);
        }
        auto colon = u.rfind(':');
        host_ = colon == std::string::npos ? u : u.substr(0, colon);
        port_ = colon == std::string::npos ? 80 : static_cast<std::uint16_t>(std::stoi(u.substr(colon + 1)));
        if (host_ == "localhost") {
            host_ = "127.0.0.1";
        }
    }

    template <class F>
    void spawn(F f) {
        asio::co_spawn(io_, std::move(f), [](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    std::fprintf(stderr, "\nsimulator: a client failed: %s\n", x.what());
                }
            }
        });
    }

    double real_now() const { return std::chrono::duration<double>(steady::now() - t0_).count(); }
    double sim_now() const { return std::max(0.0, (real_now() - run_t0_) * s_.speed); }
    double local_minute() const { return s_.start_minute + sim_now() / 60.0; }

    awaitable<void> sleep_real(double seconds) {
        asio::steady_timer t(io_);
        t.expires_after(std::chrono::microseconds(static_cast<std::int64_t>(std::max(0.0, seconds) * 1e6)));
        co_await t.async_wait(tuple);
    }
    awaitable<void> sleep_sim(double seconds) { co_await sleep_real(seconds / s_.speed); }

    double uniform(range r) {
        return std::uniform_real_distribution<double>(r.lo, std::max(r.lo, r.hi))(rng_);
    }
    bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

    std::string new_phone() {
        char b[16];
        std::snprintf(b, sizeof b, "19%s%05d", nonce_.c_str(), phones_++);
        return b;
    }
    // Someone new: a phone of this run, a password, an address of their own.
    person new_person() {
        person p;
        p.phone = new_phone();
        p.password = "sim-" + core::new_uuid().substr(0, 12);
        p.ip = new_ip();
        return p;
    }

    std::string new_ip() {
        const int n = ips_++;
        return "10." + std::to_string(1 + n / 65536 % 250) + "." + std::to_string(n / 256 % 256) + "." +
               std::to_string(n % 256);
    }

    // ---- the API ----

    // One request, as a client would make it: 429 and 503 are waited out (Retry-After), a connection that
    // failed is tried again a few times; the same Idempotency-Key goes with every try.
    awaitable<reply> api(const call_spec& q) {
        for (int attempt = 0;; ++attempt) {
            if (q.who != nullptr && !q.who->refresh.empty() &&
                steady::now() - q.who->issued > std::chrono::minutes(10)) {
                co_await refresh(*q.who);
            }
            http::outgoing o;
            o.method = q.method;
            o.target = q.target;
            if (q.body) {
                o.body = json::serialize(*q.body);
                o.headers.emplace_back("Content-Type", "application/json");
            }
            if (q.who != nullptr) {
                if (!q.who->access.empty()) {
                    o.headers.emplace_back("Authorization", "Bearer " + q.who->access);
                }
                o.headers.emplace_back("X-Real-IP", q.who->ip);
            }
            if (!q.key.empty()) {
                o.headers.emplace_back("Idempotency-Key", q.key);
            }
            auto res = co_await client_.send(host_, port_, std::move(o));
            if (!res) {
                if (attempt < 5) {
                    co_await sleep_real(1);
                    continue;
                }
                co_return reply{};
            }
            if ((res->status == 429 || res->status == 503) && attempt < 60) {
                double wait = 1;
                if (auto ra = res->header("retry-after")) {
                    try {
                        wait = std::clamp(std::stod(std::string(*ra)), 0.1, 30.0);
                    } catch (const std::exception&) {
                    }
                }
                ++r_.retries;
                co_await sleep_real(wait);
                continue;
            }
            reply r;
            r.status = res->status;
            r.raw = res->body;
            boost::system::error_code ec;
            r.body = json::parse(res->body, ec);
            co_return r;
        }
    }

    awaitable<reply> must(const call_spec& q, int expected) {
        auto r = co_await api(q);
        if (r.status == 0) {
            throw std::runtime_error("no answer from " + opt_.url + " to " + q.method + " " + q.target +
                                     " (is the platform running? deploy/local/up.sh starts it)");
        }
        if (r.status != expected) {
            throw std::runtime_error(q.method + " " + q.target + " answered " + std::to_string(r.status) +
                                     ": " + r.raw.substr(0, 300));
        }
        co_return r;
    }

    awaitable<void> login(person& p) {
        call_spec q{"POST",
                    "/v1/auth/login",
                    json::value(json::object{{"phone", p.phone}, {"password", p.password}})};
        person anonymous;
        anonymous.ip = p.ip;
        q.who = &anonymous;
        auto r = co_await must(q, 200);
        p.access = r.text("access_token");
        p.refresh = r.text("refresh_token");
        p.issued = steady::now();
    }

    awaitable<void> refresh(person& p) {
        person anonymous;
        anonymous.ip = p.ip;
        call_spec q{"POST", "/v1/auth/refresh", json::value(json::object{{"refresh_token", p.refresh}})};
        q.who = &anonymous;
        p.issued = steady::now();  // one refresh at a time per person
        auto r = co_await api(q);
        if (r.status == 200) {
            p.access = r.text("access_token");
            p.refresh = r.text("refresh_token");
        } else {
            co_await login(p);
        }
    }

    // Runs f(0..n-1), `width` at a time.
    template <class F>
    awaitable<void> parallel(std::size_t n, std::size_t width, F f) {
        auto next = std::make_shared<std::size_t>(0);
        auto left = std::make_shared<std::size_t>(std::min(width, n));
        auto done = std::make_shared<asio::steady_timer>(io_, steady::time_point::max());
        auto error = std::make_shared<std::exception_ptr>();
        for (std::size_t k = 0; k < std::min(width, n); ++k) {
            asio::co_spawn(
                io_,
                [next, n, f]() -> awaitable<void> {
                    for (std::size_t i = (*next)++; i < n; i = (*next)++) {
                        co_await f(i);
                    }
                },
                [left, done, error](std::exception_ptr e) {
                    if (e && !*error) {
                        *error = e;
                    }
                    if (--*left == 0) {
                        done->cancel();
                    }
                });
        }
        while (*left > 0) {
            co_await done->async_wait(tuple);
        }
        if (*error) {
            std::rethrow_exception(*error);
        }
    }

    // ---- setup: everyone the day needs, made through the API ----

    awaitable<void> setup() {
        admin_.phone = opt_.admin.substr(0, opt_.admin.find(':'));
        admin_.password = opt_.admin.substr(opt_.admin.find(':') + 1);
        admin_.ip = new_ip();
        co_await login(admin_);
        co_await read_catalog();
        // The streets and their communities, from the region tree.
        call_spec rq{"GET", "/v1/regions"};
        rq.who = &admin_;
        auto regions = co_await must(rq, 200);
        std::map<std::int64_t, std::vector<std::int64_t>> communities;
        std::set<std::int64_t> streets;
        for (const auto& v : regions.body.at("items").as_array()) {
            const auto& o = v.as_object();
            if (o.at("level").as_string() == "street") {
                streets.insert(o.at("id").to_number<std::int64_t>());
            } else if (o.at("level").as_string() == "community" && o.at("parent_id").is_number()) {
                communities[o.at("parent_id").to_number<std::int64_t>()].push_back(
                    o.at("id").to_number<std::int64_t>());
            }
        }
        for (const auto& st : s_.streets) {
            if (!streets.contains(st.id) || communities[st.id].empty()) {
                throw std::runtime_error("street " + std::to_string(st.id) +
                                         " is not in the region tree, or has no community");
            }
            communities_.push_back(communities[st.id]);
        }
        r_.centre_lat = s_.streets[0].lat;
        r_.centre_lon = s_.streets[0].lon;

        // Staff of each street.
        for (std::size_t i = 0; i < s_.streets.size(); ++i) {
            staff_member m;
            m.me = new_person();
            m.communities = communities_[i];
            json::array cs;
            for (auto c : m.communities) {
                cs.push_back(c);
            }
            call_spec q{"POST",
                        "/v1/admin/users",
                        json::value(json::object{{"phone", m.me.phone},
                                                 {"password", m.me.password},
                                                 {"role", "staff"},
                                                 {"display_name", "社区工作人员"},
                                                 {"communities", cs}})};
            q.who = &admin_;
            co_await must(q, 201);
            co_await login(m.me);
            staff_.push_back(std::move(m));
        }

        // Providers and their workers, in every street.
        struct org_plan {
            std::size_t street;
            const provider_spec* spec;
        };
        std::vector<org_plan> orgs;
        for (std::size_t i = 0; i < s_.streets.size(); ++i) {
            for (const auto& p : s_.providers) {
                orgs.push_back({i, &p});
            }
        }
        auto one_provider = [this, &orgs](std::size_t k) -> awaitable<void> {
            co_await make_provider(orgs[k].street, *orgs[k].spec);
        };
        co_await parallel(orgs.size(), 4, one_provider);
        r_.tick_s = 1;

        // Families and their elders.
        std::vector<std::size_t> street_of;
        for (std::size_t i = 0; i < s_.streets.size(); ++i) {
            for (int k = 0; k < s_.elders_per_street; ++k) {
                street_of.push_back(i);
            }
        }
        elders_.resize(street_of.size());
        auto one_elder = [this, &street_of](std::size_t k) -> awaitable<void> {
            co_await make_elder(k, street_of[k]);
        };
        co_await parallel(street_of.size(), 6, one_elder);
        for (std::size_t i = 0; i < elders_.size(); ++i) {
            elders_by_street_[elders_[i].street].push_back(i);
        }
        // Children under three, each of a family of its own.
        std::vector<std::size_t> child_street;
        for (std::size_t i = 0; i < s_.streets.size(); ++i) {
            for (int k = 0; k < s_.children_per_street; ++k) {
                child_street.push_back(i);
            }
        }
        children_.resize(child_street.size());
        auto one_child = [this, &child_street](std::size_t k) -> awaitable<void> {
            co_await make_child(k, child_street[k]);
        };
        co_await parallel(child_street.size(), 6, one_child);
        r_.children = static_cast<int>(children_.size());

        // Everyone watches live: families their orders, workers their offers.
        for (std::size_t i = 0; i < elders_.size(); ++i) {
            spawn([this, i]() -> awaitable<void> {
                std::function<void(const std::string&)> frame = [this](const std::string& t) {
                    on_family_frame(t);
                };
                co_await watch(elders_[i].family, frame);
            });
        }
        for (std::size_t i = 0; i < workers_.size(); ++i) {
            spawn([this, i]() -> awaitable<void> {
                std::function<void(const std::string&)> frame = [this, i](const std::string& t) {
                    on_worker_frame(i, t);
                };
                co_await watch(workers_[i].me, frame);
            });
        }
        const std::size_t sockets = elders_.size() + workers_.size();
        for (std::size_t i = 0; i < std::max<std::size_t>(600, sockets / 10) && sockets_open_ < sockets;
             ++i) {
            co_await sleep_real(0.05);
        }
        if (sockets_open_ < elders_.size() + workers_.size()) {
            throw std::runtime_error("only " + std::to_string(sockets_open_) + " of " +
                                     std::to_string(elders_.size() + workers_.size()) +
                                     " live sockets opened");
        }
        co_await read_supervision(baseline_);
        for (const auto& w : workers_) {
            worker_record wr;
            wr.id = w.me.id;
            wr.home_lat = w.lat;
            wr.home_lon = w.lon;
            wr.kinds = w.kinds;
            r_.workers.push_back(wr);
        }
    }

    awaitable<void> read_catalog() {
        call_spec q{"GET", "/v1/catalog"};
        auto r = co_await must(q, 200);
        const json::value& list =
            r.body.is_object() && r.body.as_object().contains("items") ? r.body.at("items") : r.body;
        for (const auto& v : list.as_array()) {
            const auto& o = v.as_object();
            catalog_entry e;
            e.kind = std::string(o.at("kind").as_string());
            e.sub_type = std::string(o.at("sub_type").as_string());
            if (const auto* d = o.if_contains("duration_min"); d && d->is_number()) {
                e.duration_min = static_cast<int>(d->to_number<double>());
            }
            if (const auto* d = o.if_contains("lead_min"); d && d->is_number()) {
                e.lead_min = static_cast<int>(d->to_number<double>());
            }
            if (const auto* h = o.if_contains("hours"); h && h->is_string()) {
                const std::string t(h->as_string());
                if (t.size() == 11) {
                    e.hours_from = minute_of(t.substr(0, 5));
                    e.hours_to = minute_of(t.substr(6, 5));
                }
            }
            catalog_[e.kind + "/" + e.sub_type] = e;
        }
        for (const auto& d : s_.demand) {
            if (!catalog_.contains(d.kind + "/" + d.sub_type)) {
                throw std::runtime_error("scenario: demand for " + d.kind + "/" + d.sub_type +
                                         ", which the catalog does not offer");
            }
        }
    }

    // A point within the street's radius, uniformly.
    std::pair<double, double> somewhere(std::size_t street) {
        const auto& st = s_.streets[street];
        const double r = st.radius_km * std::sqrt(uniform({0, 1}));
        const double a = uniform({0, 2 * pi});
        return {st.lat + r * std::cos(a) / 111.2,
                st.lon + r * std::sin(a) / (111.2 * std::cos(st.lat * pi / 180))};
    }

    awaitable<void> make_provider(std::size_t street, const provider_spec& spec) {
        person org;
        org = new_person();
        const std::string name =
            (spec.name.empty() ? spec.org_kind : spec.name) + " " + std::to_string(street + 1);
        call_spec reg{
            "POST",
            "/v1/auth/register/provider",
            json::value(json::object{{"phone", org.phone}, {"password", org.password}, {"org_name", name}})};
        person anonymous;
        anonymous.ip = org.ip;
        reg.who = &anonymous;
        co_await must(reg, 201);
        co_await login(org);
        const auto at = somewhere(street);
        const double lat = at.first;
        const double lon = at.second;
        const std::int64_t community = communities_[street][0];
        json::object org_body{{"kind", spec.org_kind},
                              {"name", name},
                              {"community_id", community},
                              {"address", "模拟路 " + std::to_string(street + 1) + " 号"},
                              {"location", json::object{{"lat", lat}, {"lon", lon}}}};
        if (spec.org_kind == "nursery") {
            org_body["registration_number"] = "京托备-SIM-" + nonce_ + "-" + std::to_string(phones_);
        }
        call_spec file{"PUT", "/v1/providers/me/organisation", json::value(org_body)};
        file.who = &org;
        auto filed = co_await must(file, 200);
        const std::string org_id = filed.text("id");
        call_spec approve{"POST", "/v1/providers/organisations/" + org_id + "/approve"};
        approve.who = &admin_;
        co_await must(approve, 200);
        if (spec.org_kind == "nursery") {
            json::array classes;
            for (const auto& [band, caregivers] : spec.classes) {
                classes.push_back(json::object{{"band", band}, {"caregivers", caregivers}});
            }
            call_spec profile{
                "PUT",
                "/v1/nursery/me",
                json::value(json::object{
                    {"kind", spec.nursery_kind},
                    {"opens", "07:30"},
                    {"closes", "18:00"},
                    {"licensed_places", spec.licensed_places},
                    {"affordable_percent", spec.affordable_percent},
                    {"prices",
                     json::object{{"full_day_fen", 12000}, {"half_day_fen", 7000}, {"hour_fen", 2000}}},
                    {"classes", classes}})};
            profile.who = &org;
            auto filed_nursery = co_await must(profile, 200);
            nursery_site site;
            site.id = filed_nursery.text("id");
            site.street = street;
            site.places = spec.licensed_places;
            for (const auto& k : filed_nursery.body.at("classes").as_array()) {
                const std::string band(k.at("band").as_string());
                site.class_of_band[band] = std::string(k.at("id").as_string());
                site.class_places[std::string(k.at("id").as_string())] =
                    static_cast<int>(k.at("places").to_number<double>());
            }
            r_.nursery_places += site.places;
            nurseries_.push_back(std::move(site));
        }
        if (spec.org_kind == "canteen") {
            json::array slots;
            for (const auto& [slot, meals] : spec.meals) {
                slots.push_back(json::object{{"slot", slot}, {"meals", meals}});
            }
            call_spec canteen{"PUT",
                              "/v1/providers/me/canteen",
                              json::value(json::object{{"delivery_radius_km", spec.delivery_radius_km},
                                                       {"diet_tags", json::array{"low_salt", "soft"}},
                                                       {"slots", slots}})};
            canteen.who = &org;
            co_await must(canteen, 200);
        }
        for (int k = 0; k < spec.workers; ++k) {
            worker w;
            w.me = new_person();
            w.street = street;
            w.kinds = spec.kinds;
            std::tie(w.lat, w.lon) = somewhere(street);
            const std::string display = "护理员" + std::to_string(workers_.size() + 1);
            call_spec add{
                "POST",
                "/v1/auth/workers",
                json::value(json::object{
                    {"phone", w.me.phone}, {"password", w.me.password}, {"display_name", display}})};
            add.who = &org;
            auto added = co_await must(add, 201);
            w.me.id = added.text("id");
            json::array kinds;
            for (const auto& kk : spec.kinds) {
                kinds.push_back(json::value(kk));
            }
            json::array creds;
            for (const auto& c : spec.credentials) {
                creds.push_back(json::object{
                    {"type", c},
                    {"number", "SIM-" + nonce_ + "-" + std::to_string(phones_) + "-" + c.substr(0, 3)},
                    {"expires_on", "2099-12-31"}});
            }
            call_spec profile{"PUT",
                              "/v1/providers/workers/" + w.me.id,
                              json::value(json::object{{"name", display},
                                                       {"gender", chance(0.7) ? "female" : "male"},
                                                       {"languages", json::array{"mandarin"}},
                                                       {"kinds", kinds},
                                                       {"home", json::object{{"lat", w.lat}, {"lon", w.lon}}},
                                                       {"radius_km", spec.radius_km},
                                                       {"credentials", creds}})};
            profile.who = &org;
            co_await must(profile, 200);
            co_await login(w.me);
            call_spec online{
                "POST", "/v1/providers/me/online", json::value(json::object{{"lat", w.lat}, {"lon", w.lon}})};
            online.who = &w.me;
            co_await must(online, 200);
            w.wake = std::make_unique<asio::steady_timer>(io_, steady::time_point::max());
            workers_.push_back(std::move(w));
        }
    }

    // A family account, registered and signed in.
    awaitable<void> register_family(person& family) {
        person anonymous;
        anonymous.ip = family.ip;
        call_spec reg{"POST",
                      "/v1/auth/register",
                      json::value(json::object{{"phone", family.phone}, {"password", family.password}})};
        reg.who = &anonymous;
        auto registered = co_await api(reg);
        if (registered.status == 409) {
            throw std::runtime_error("phone " + family.phone + " is taken (an earlier run's): run again");
        }
        if (registered.status != 201) {
            throw std::runtime_error("registering a family answered " + std::to_string(registered.status) +
                                     ": " + registered.raw);
        }
        co_await login(family);
    }

    awaitable<void> make_elder(std::size_t k, std::size_t street) {
        elder& e = elders_[k];
        e.street = street;
        e.family = new_person();
        co_await register_family(e.family);
        const auto& cs = communities_[street];
        e.community = cs[std::uniform_int_distribution<std::size_t>(0, cs.size() - 1)(rng_)];
        std::tie(e.lat, e.lon) = somewhere(street);
        const int age = static_cast<int>(uniform(s_.age));
        int ability = 0;
        double u = uniform({0, 1});
        for (int level = 0; level < 5; ++level) {
            u -= s_.ability[level];
            if (u <= 0) {
                ability = level;
                break;
            }
            ability = level;
        }
        json::array categories;
        if (chance(s_.living_alone)) {
            categories.push_back("living_alone");
        }
        if (age >= 80) {
            categories.push_back("age_80_plus");
        }
        for (const auto& [name, share] : s_.priority) {
            if (name != "living_alone" && name != "age_80_plus" && chance(share)) {
                categories.push_back(json::value(name));
            }
        }
        e.priority = !categories.empty();
        const int year = 2026 - age;
        char birth[48];
        std::snprintf(birth,
                      sizeof birth,
                      "%04d-%02d-%02d",
                      year,
                      1 + static_cast<int>(uniform({0, 11.99})),
                      1 + static_cast<int>(uniform({0, 27.99})));
        call_spec add{
            "POST",
            "/v1/recipients",
            json::value(json::object{
                {"kind", "elder"},
                {"name", "老人" + std::to_string(k + 1)},
                {"birth_date", birth},
                {"community_id", e.community},
                {"gender", chance(0.55) ? "female" : "male"},
                {"ability_level", ability},
                {"priority_categories", categories},
                {"address",
                 "模拟小区 " + std::to_string(k / 6 + 1) + " 号楼 " + std::to_string(k % 6 + 1) + "01"},
                {"location", json::object{{"lat", e.lat}, {"lon", e.lon}}},
                {"consents",
                 json::array{json::object{{"purpose", "sensitive_storage"}, {"text_version", "v1"}}}}})};
        add.who = &e.family;
        auto added = co_await must(add, 201);
        e.recipient_id = added.text("id");
    }

    std::string local_date(std::chrono::system_clock::time_point t) const {
        const auto local = t + std::chrono::minutes(s_.utc_offset_minutes);
        const std::time_t tt = std::chrono::system_clock::to_time_t(local);
        std::tm tm{};
        gmtime_r(&tt, &tm);
        char b[48];
        std::snprintf(b, sizeof b, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
        return b;
    }

    awaitable<void> make_child(std::size_t k, std::size_t street) {
        child& c = children_[k];
        c.street = street;
        c.family = new_person();
        co_await register_family(c.family);
        // An age away from the bands' edges (12 and 24 months), so that the child stays in its band all week.
        double months = uniform(s_.child_months);
        for (double edge : {12.0, 24.0}) {
            if (std::fabs(months - edge) < 1.5) {
                months = edge + 1.5;
            }
        }
        c.months = std::min(months, 34.5);
        const auto born = std::chrono::system_clock::now() -
                          std::chrono::hours(static_cast<std::int64_t>(c.months * 30.44 * 24));
        const auto& cs = communities_[street];
        call_spec add{
            "POST",
            "/v1/recipients",
            json::value(json::object{
                {"kind", "child"},
                {"name", "孩子" + std::to_string(k + 1)},
                {"birth_date", local_date(born)},
                {"community_id", cs[std::uniform_int_distribution<std::size_t>(0, cs.size() - 1)(rng_)]},
                {"gender", chance(0.5) ? "female" : "male"},
                {"consents",
                 json::array{json::object{{"purpose", "sensitive_storage"}, {"text_version", "v1"}}}}})};
        add.who = &c.family;
        auto added = co_await must(add, 201);
        c.recipient_id = added.text("id");
    }

    // A family books its child a place for the coming days at a nursery of its street, waitlisted when full.
    awaitable<void> book_nursery(std::size_t k) {
        const double when = uniform({0, s_.hours * 3600 / 2});
        co_await sleep_sim(when);
        child& c = children_[k];
        const std::string band = c.months < 12 ? "6-12" : c.months < 24 ? "12-24" : "24-36";
        std::vector<std::size_t> fits;
        for (std::size_t i = 0; i < nurseries_.size(); ++i) {
            if (nurseries_[i].street == c.street && nurseries_[i].class_of_band.contains(band)) {
                fits.push_back(i);
            }
        }
        if (fits.empty()) {
            ++r_.bookings_refused;
            ++r_.refused["booking: no class for " + band];
            co_return;
        }
        const std::size_t n = fits[std::uniform_int_distribution<std::size_t>(0, fits.size() - 1)(rng_)];
        const std::string class_id = nurseries_[n].class_of_band.at(band);
        const auto tomorrow = std::chrono::system_clock::now() + std::chrono::hours(24);
        const auto last = tomorrow + std::chrono::hours(24 * (s_.booking_days - 1));
        call_spec q{"POST",
                    "/v1/nursery/bookings",
                    json::value(json::object{{"class_id", class_id},
                                             {"child_id", c.recipient_id},
                                             {"from", local_date(tomorrow)},
                                             {"to", local_date(last)},
                                             {"mode", "full_day"},
                                             {"waitlist", true}})};
        q.who = &c.family;
        q.key = core::new_uuid();
        auto r = co_await api(q);
        if (r.status == 201) {
            ++r_.bookings_confirmed;
            r_.child_days_booked += s_.booking_days;
            ++booked_[n][class_id];
        } else if (r.status == 202) {
            ++r_.bookings_waitlisted;
        } else {
            ++r_.bookings_refused;
            ++r_.refused["booking " + std::to_string(r.status) + (r.field().empty() ? "" : " " + r.field())];
        }
    }

    // ---- live sockets ----

    std::size_t order_index(const std::string& id) {
        auto [it, fresh] = order_ids_.emplace(id, orders_.size());
        if (fresh) {
            order_record o;
            o.id = id;
            orders_.push_back(o);
        }
        return it->second;
    }

    // Holds `who`'s socket for the whole run: opened again a second after it closes (a token that expired is
    // refreshed first).
    awaitable<void> watch(person& who, std::function<void(const std::string&)> frame) {
        bool counted = false;
        while (!finished_) {
            const std::string token = who.access;
            const std::string ip = who.ip;
            std::function<void()> opened = [this, &counted] {
                if (!counted) {
                    counted = true;
                    ++sockets_open_;
                }
            };
            co_await live(host_, port_, token, ip, opened, frame, stop_);
            if (!finished_) {
                co_await sleep_real(1);
                if (steady::now() - who.issued > std::chrono::minutes(5)) {
                    co_await refresh(who);
                }
            }
        }
    }

    void on_family_frame(const std::string& text) {
        boost::system::error_code ec;
        auto v = json::parse(text, ec);
        if (ec || !v.is_object() || !v.as_object().contains("type") || !v.at("type").is_string() ||
            v.at("type").as_string() != "order.status") {
            return;
        }
        const auto& d = v.at("data").as_object();
        auto& o = orders_[order_index(std::string(d.at("order_id").as_string()))];
        const std::string status(d.at("status").as_string());
        if (status == "assigned" && o.assigned_real < 0) {
            o.assigned_real = real_now();
        }
        if (status == "completed" || status == "cancelled" || status == "expired" || status == "failed") {
            if (o.final_sim < 0) {
                o.final_sim = sim_now();
                if (status == "expired") {
                    ++expired_;
                }
            }
        }
        o.status = status;
    }

    void on_worker_frame(std::size_t w, const std::string& text) {
        boost::system::error_code ec;
        auto v = json::parse(text, ec);
        if (ec || !v.is_object() || !v.as_object().contains("type") || !v.at("type").is_string() ||
            v.at("type").as_string() != "offer.new") {
            return;
        }
        const auto& d = v.at("data").as_object();
        const std::size_t idx = order_index(std::string(d.at("order_id").as_string()));
        if (orders_[idx].offered_real < 0) {
            orders_[idx].offered_real = real_now();
            ++offered_;
            recent_offers_.emplace_back(real_now(), idx);
        }
        ++r_.offers;
        const std::string offer(d.at("offer_id").as_string());
        ++busy_;
        spawn([this, w, offer, idx]() -> awaitable<void> {
            co_await respond(w, offer, idx);
            --busy_;
        });
    }

    // ---- the day ----

    double rate_per_hour(std::size_t demand, int hour) const {
        return s_.demand[demand].per_hour[static_cast<std::size_t>(hour % 24)] * s_.elders_per_street / 100.0;
    }

    // Orders arrive as a Poisson process whose rate follows the scenario's hours (thinning).
    awaitable<void> arrivals() {
        const double end = s_.hours * 3600;
        double peak = 0;
        for (std::size_t d = 0; d < s_.demand.size(); ++d) {
            for (int h = 0; h < 24; ++h) {
                peak = std::max(peak, rate_per_hour(d, h));
            }
        }
        peak *= static_cast<double>(s_.streets.size());
        if (peak <= 0 || elders_.empty()) {
            co_await sleep_sim(end);
            co_return;
        }
        double t = 0;
        for (;;) {
            t += std::exponential_distribution<double>(peak / 3600.0)(rng_);
            if (t >= end) {
                break;
            }
            const int hour = static_cast<int>((s_.start_minute + t / 60.0) / 60.0);
            std::vector<double> weights;
            for (std::size_t st = 0; st < s_.streets.size(); ++st) {
                for (std::size_t d = 0; d < s_.demand.size(); ++d) {
                    weights.push_back(rate_per_hour(d, hour));
                }
            }
            double total = 0;
            for (double w : weights) {
                total += w;
            }
            if (!chance(total / peak)) {
                continue;
            }
            const std::size_t pick =
                std::discrete_distribution<std::size_t>(weights.begin(), weights.end())(rng_);
            const std::size_t street = pick / s_.demand.size();
            const std::size_t demand = pick % s_.demand.size();
            const auto& pool = elders_by_street_[street];
            if (pool.empty()) {
                continue;
            }
            const std::size_t who =
                pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(rng_)];
            const double wait = t - sim_now();
            if (wait > 0) {
                co_await sleep_sim(wait);
            }
            ++busy_;
            spawn([this, who, demand]() -> awaitable<void> {
                co_await place(who, demand);
                --busy_;
            });
        }
        const double rest = end - sim_now();
        if (rest > 0) {
            co_await sleep_sim(rest);
        }
    }

    std::string iso_local(std::chrono::system_clock::time_point t) const {
        const auto shifted = t + std::chrono::minutes(s_.utc_offset_minutes);
        const std::time_t tt = std::chrono::system_clock::to_time_t(shifted);
        std::tm tm{};
        gmtime_r(&tt, &tm);
        char b[96];
        const int off = std::abs(s_.utc_offset_minutes);
        std::snprintf(b,
                      sizeof b,
                      "%04d-%02d-%02dT%02d:%02d:00%c%02d:%02d",
                      tm.tm_year + 1900,
                      tm.tm_mon + 1,
                      tm.tm_mday,
                      tm.tm_hour,
                      tm.tm_min,
                      s_.utc_offset_minutes < 0 ? '-' : '+',
                      off / 60,
                      off % 60);
        return b;
    }

    // A sub-type served only at some hours (meals) is asked for "as soon as possible" inside those hours of
    // the platform's own (real) clock, and otherwise for the next window it serves: the platform's clock is
    // not the simulated one.
    std::optional<std::pair<std::string, std::string>> window_for(const catalog_entry& e) const {
        if (e.hours_from < 0) {
            return std::nullopt;
        }
        using namespace std::chrono;
        const auto now = system_clock::now();
        const auto local = now + minutes(s_.utc_offset_minutes);
        const auto day = floor<days>(local);
        const int minute_now = static_cast<int>(duration_cast<minutes>(local - day).count());
        if (minute_now >= e.hours_from && minute_now + 15 <= e.hours_to) {
            return std::nullopt;
        }
        // The next start at least lead_min ahead, on a quarter hour, that leaves 30 minutes inside the hours.
        int start = ((minute_now + e.lead_min + 14) / 15) * 15;
        auto start_day = day;
        if (start < e.hours_from) {
            start = e.hours_from;
        } else if (start + 30 > e.hours_to) {
            start = e.hours_from;
            start_day += days(1);
            if (minute_now + e.lead_min > 24 * 60 + start) {
                start_day += days(1);
            }
        }
        const auto begin = start_day + minutes(start) - minutes(s_.utc_offset_minutes);
        return std::pair{iso_local(time_point_cast<system_clock::duration>(begin)),
                         iso_local(time_point_cast<system_clock::duration>(begin + minutes(30)))};
    }

    awaitable<void> place(std::size_t who, std::size_t demand) {
        elder& e = elders_[who];
        const auto& d = s_.demand[demand];
        const auto& entry = catalog_.at(d.kind + "/" + d.sub_type);
        json::object body{{"recipient_id", e.recipient_id}, {"kind", d.kind}, {"sub_type", d.sub_type}};
        const auto window = window_for(entry);
        if (window) {
            body["start"] = window->first;
            body["end"] = window->second;
        }
        call_spec q{"POST", "/v1/orders", json::value(body)};
        q.who = &e.family;
        q.key = core::new_uuid();
        const double sent = real_now();
        const double sent_sim = sim_now();
        auto r = co_await api(q);
        if (r.status != 201) {
            ++r_.refused[std::to_string(r.status) + (r.field().empty() ? "" : " " + r.field())];
            co_return;
        }
        auto& o = orders_[order_index(r.text("id"))];
        o.kind = d.kind;
        o.sub_type = d.sub_type;
        o.community_id = e.community;
        o.priority = e.priority;
        o.asap = !window;
        o.lat = e.lat;
        o.lon = e.lon;
        o.placed_real = sent;
        o.placed_sim = sent_sim;
        if (window) {
            if (const auto start = parse_time(window->first)) {
                window_start_[order_ids_.at(o.id)] =
                    std::chrono::duration<double>(start->time_since_epoch()).count();
            }
        }
        elder_of_[o.id] = who;
        ++placed_;
    }

    // A worker answers an offer after a while: accepts (the job joins their queue) or declines.
    awaitable<void> respond(std::size_t w, std::string offer, std::size_t idx) {
        co_await sleep_sim(uniform(s_.response_s));
        worker& me = workers_[w];
        // An order the simulator did not place (one left waiting in the street before the run) is declined:
        // its family is not simulated, nobody would give the worker its code.
        const bool ours = orders_[idx].placed_real >= 0;
        if (ours && chance(s_.accept_probability)) {
            call_spec q{"POST", "/v1/offers/" + offer + "/accept"};
            q.who = &me.me;
            auto r = co_await api(q);
            if (r.status == 200) {
                ++r_.accepts;
                auto& o = orders_[idx];
                o.worker = std::to_string(w);
                if (o.assigned_real < 0) {
                    o.assigned_real = real_now();
                }
                accepted_[w].push_back(idx);
                me.queue.push_back(idx);
                me.wake->cancel();
            } else {
                ++r_.accept_conflicts;  // expired meanwhile, or the order was cancelled
            }
        } else {
            call_spec q{"POST",
                        "/v1/offers/" + offer + "/decline",
                        json::value(json::object{{"reason", ours ? "时间排不开" : "不在模拟之内"}})};
            q.who = &me.me;
            auto r = co_await api(q);
            if (r.status == 200 && ours) {
                ++r_.declines;
            }
        }
    }

    awaitable<void> heartbeat(std::size_t w) {
        while (!finished_) {
            co_await sleep_real(30);
            worker& me = workers_[w];
            call_spec q{"POST",
                        "/v1/providers/me/heartbeat",
                        json::value(json::object{{"lat", me.lat}, {"lon", me.lon}})};
            q.who = &me.me;
            co_await api(q);
        }
    }

    // A worker serves their accepted jobs one after the other: travels, checks in at the door, serves, and
    // completes with the code the family gives them.
    static double epoch_now() {
        return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    }

    // When worker `w` sets out for the job (epoch seconds): at once, except in wall-clock mode for a window
    // booked ahead, which they reach as it opens.
    double due_at(std::size_t w, std::size_t idx) const {
        const auto at = window_start_.find(idx);
        if (s_.mode != "wall" || at == window_start_.end()) {
            return 0;
        }
        const auto& me = workers_[w];
        const auto& o = orders_[idx];
        const double travel_s = distance_km(me.lat, me.lon, o.lat, o.lon) * 1.3 / s_.travel_kmh * 3600;
        return at->second - travel_s;
    }

    awaitable<void> serve(std::size_t w) {
        while (!finished_) {
            worker& me = workers_[w];
            if (me.queue.empty()) {
                me.wake->expires_at(steady::time_point::max());
                co_await me.wake->async_wait(tuple);
                continue;
            }
            // The job due first; wait for it (a new job wakes the worker to look again).
            std::size_t best = 0;
            for (std::size_t k = 1; k < me.queue.size(); ++k) {
                if (due_at(w, me.queue[k]) < due_at(w, me.queue[best])) {
                    best = k;
                }
            }
            const double wait = due_at(w, me.queue[best]) - epoch_now();
            if (wait > 0.5) {
                me.wake->expires_after(std::chrono::milliseconds(static_cast<std::int64_t>(wait * 1000)));
                co_await me.wake->async_wait(tuple);
                continue;
            }
            const std::size_t idx = me.queue[best];
            me.queue.erase(me.queue.begin() + static_cast<std::ptrdiff_t>(best));
            ++busy_;
            co_await serve_one(w, idx);
            --busy_;
        }
    }

    awaitable<void> serve_one(std::size_t w, std::size_t idx) {
        worker& me = workers_[w];
        auto& o = orders_[idx];
        if (o.status == "cancelled" || o.status == "expired") {
            co_return;
        }
        const auto elder_at = elder_of_.find(o.id);
        if (elder_at == elder_of_.end()) {
            co_return;
        }
        elder& e = elders_[elder_at->second];
        if (chance(s_.no_show)) {
            o.no_show = true;
            ++busy_;
            spawn([this, idx]() -> awaitable<void> {
                co_await family_waits_in_vain(idx);
                --busy_;
            });
            co_return;
        }
        const std::string id = o.id;
        call_spec go{"POST", "/v1/orders/" + id + "/en-route"};
        go.who = &me.me;
        auto went = co_await api(go);
        if (went.status != 200) {
            co_return;  // cancelled meanwhile
        }
        const double km = distance_km(me.lat, me.lon, e.lat, e.lon) * 1.3;  // streets are not straight
        const double travel_s = km / s_.travel_kmh * 3600;
        co_await sleep_sim(travel_s);
        call_spec in{"POST",
                     "/v1/orders/" + id + "/check-in",
                     json::value(json::object{{"lat", e.lat}, {"lon", e.lon}})};
        in.who = &me.me;
        auto checked = co_await api(in);
        if (checked.status != 200) {
            co_return;
        }
        me.lat = e.lat;
        me.lon = e.lon;
        orders_[idx].started_sim = sim_now();
        orders_[idx].travel_min = travel_s / 60;
        orders_[idx].late =
            orders_[idx].asap && orders_[idx].started_sim - orders_[idx].placed_sim > s_.late_after_min * 60;
        const auto& entry = catalog_.at(orders_[idx].kind + "/" + orders_[idx].sub_type);
        co_await sleep_sim(entry.duration_min * 60.0);
        // The family reads the one-time code from their app and tells the worker.
        call_spec code{"GET", "/v1/orders/" + id};
        code.who = &e.family;
        auto seen = co_await api(code);
        call_spec done{"POST",
                       "/v1/orders/" + id + "/complete",
                       json::value(json::object{{"service_code", seen.text("service_code")}})};
        done.who = &me.me;
        auto completed = co_await api(done);
        if (completed.status != 200) {
            return_problem(completed, "complete");
            co_return;
        }
        orders_[idx].completed_real = real_now();
        orders_[idx].completed_sim = sim_now();
        ++completed_;
        ++me.jobs;
        ++busy_;
        const std::size_t who = elder_at->second;
        spawn([this, idx, who]() -> awaitable<void> {
            co_await afterwards(idx, who);
            --busy_;
        });
    }

    void return_problem(const reply& r, const char* what) {
        ++r_.refused[std::string(what) + " " + std::to_string(r.status)];
    }

    // Nobody came: the family cancels and complains.
    awaitable<void> family_waits_in_vain(std::size_t idx) {
        co_await sleep_sim(s_.no_show_wait_min * 60);
        const std::string id = orders_[idx].id;
        elder& e = elders_[elder_of_.at(id)];
        call_spec read{"GET", "/v1/orders/" + id};
        read.who = &e.family;
        auto seen = co_await api(read);
        if (seen.text("status") != "assigned") {
            co_return;
        }
        call_spec cancel{
            "POST", "/v1/orders/" + id + "/cancel", json::value(json::object{{"reason", "护理员未上门"}})};
        cancel.who = &e.family;
        co_await api(cancel);
        const std::string category = "no_show";
        const std::string text = "约好的护理员没有上门";
        co_await complain(idx, category, text);
    }

    awaitable<void> complain(std::size_t idx, std::string category, std::string text) {
        const std::string id = orders_[idx].id;
        elder& e = elders_[elder_of_.at(id)];
        call_spec q{"POST",
                    "/v1/complaints",
                    json::value(json::object{{"order_id", id}, {"category", category}, {"text", text}})};
        q.who = &e.family;
        q.key = core::new_uuid();
        for (int i = 0; i < 30; ++i) {
            auto r = co_await api(q);
            if (r.status == 201) {
                ++r_.complaints_filed;
                ++family_complaints_[orders_[idx].community_id];
                last_filed_real_ = real_now();
                co_return;
            }
            if (r.status != 422) {
                return_problem(r, "complaint");
                co_return;
            }
            co_await sleep_real(1);  // the complaint queue has not learnt of the order yet
        }
    }

    // After a service: some families rate it (badly more often when it began late), a few complain.
    awaitable<void> afterwards(std::size_t idx, std::size_t who) {
        const bool rate = chance(s_.rated_share);
        const bool late = orders_[idx].late;
        const bool bad = chance(late ? s_.bad_share_late : s_.bad_share);
        const bool complaint = chance(s_.complaint_rate);
        if (rate) {
            co_await sleep_sim(uniform(s_.rate_after_min) * 60);
            const int level = bad ? (chance(0.5) ? 1 : 2) : (chance(0.6) ? 5 : 4);
            json::array tags;
            if (bad) {
                tags.push_back(late ? "late" : "careless");
            } else {
                tags.push_back(late ? "patient" : "punctual");
            }
            call_spec q{"POST",
                        "/v1/ratings",
                        json::value(json::object{{"order_id", orders_[idx].id},
                                                 {"level", level},
                                                 {"tags", tags},
                                                 {"comment", bad ? "服务不满意" : "服务很好"}})};
            q.who = &elders_[who].family;
            q.key = core::new_uuid();
            for (int i = 0; i < 30; ++i) {
                auto r = co_await api(q);
                if (r.status == 201) {
                    ++r_.ratings;
                    ratings_by_community_[orders_[idx].community_id] += 1;
                    if (level <= 2) {
                        ++r_.bad_reviews;
                        bad_by_community_[orders_[idx].community_id] += 1;
                    }
                    reviews_.push_back({r.text("id"), who, level <= 2});
                    last_filed_real_ = real_now();
                    break;
                }
                if (r.status != 422) {
                    return_problem(r, "rating");
                    break;
                }
                co_await sleep_real(1);  // ratings has not learnt of the completion yet
            }
        }
        if (complaint) {
            const double after_s = uniform(s_.complain_after_min) * 60;
            co_await sleep_sim(after_s);
            double u = uniform({0, 1});
            double total = 0;
            for (const auto& [name, share] : s_.categories) {
                total += share;
            }
            std::string category = "other";
            for (const auto& [name, share] : s_.categories) {
                u -= share / std::max(total, 1e-9);
                if (u <= 0) {
                    category = name;
                    break;
                }
            }
            const std::string text = "对这次服务有意见";
            co_await complain(idx, category, text);
        }
    }

    // ---- staff ----

    awaitable<void> staff_loop(std::size_t i) {
        while (!finished_) {
            const double began = real_now();
            for (auto community : staff_[i].communities) {
                std::string cursor;
                for (int page = 0; page < 100; ++page) {
                    call_spec q{"GET",
                                "/v1/complaints?community_id=" + std::to_string(community) +
                                    "&state=open&limit=100" + (cursor.empty() ? "" : "&cursor=" + cursor)};
                    q.who = &staff_[i].me;
                    auto r = co_await api(q);
                    if (r.status != 200) {
                        break;
                    }
                    for (const auto& t : r.body.at("items").as_array()) {
                        const std::string id(t.at("id").as_string());
                        // Staff work every open ticket; those filed during the run are the simulator's own.
                        const auto* created = t.as_object().if_contains("created_at");
                        const auto filed = created != nullptr && created->is_string()
                                               ? parse_time(std::string(created->as_string()))
                                               : std::nullopt;
                        if (filed && *filed >= began_) {
                            ours_.insert(id);
                        }
                        if (tickets_.emplace(id, community).second) {
                            ++busy_;
                            spawn([this, i, id]() -> awaitable<void> {
                                co_await work_ticket(i, id);
                                --busy_;
                            });
                        }
                    }
                    cursor = r.text("next");
                    if (cursor.empty()) {
                        break;
                    }
                }
            }
            staff_polled_real_ = began;
            co_await sleep_sim(s_.staff_poll_min * 60);
        }
    }

    awaitable<void> work_ticket(std::size_t i, std::string id) {
        person& me = staff_[i].me;
        co_await sleep_sim(uniform(s_.claim_after_min) * 60);
        call_spec read{"GET", "/v1/complaints/" + id};
        read.who = &me;
        auto t = co_await api(read);
        if (t.status != 200) {
            co_return;
        }
        call_spec claim{"POST",
                        "/v1/complaints/" + id + "/claim",
                        json::value(json::object{{"version", t.body.at("version")}})};
        claim.who = &me;
        auto claimed = co_await api(claim);
        if (claimed.status != 200) {
            co_return;
        }
        co_await sleep_sim(uniform(s_.resolve_after_min) * 60);
        const double u = uniform({0, 1});
        const char* outcome = u < 0.6 ? "upheld" : u < 0.8 ? "partly_upheld" : "not_upheld";
        call_spec resolve{
            "POST",
            "/v1/complaints/" + id + "/resolve",
            json::value(json::object{{"outcome", outcome}, {"measures", "已约谈机构并回访家属"}})};
        resolve.who = &me;
        auto resolved = co_await api(resolve);
        if (resolved.status != 200) {
            co_return;
        }
        call_spec visit{
            "POST",
            "/v1/complaints/" + id + "/return-visit",
            json::value(json::object{{"satisfaction", 3 + static_cast<int>(uniform({0, 2.99}))}})};
        visit.who = &me;
        co_await api(visit);
        call_spec close{"POST", "/v1/complaints/" + id + "/close"};
        close.who = &me;
        auto closed = co_await api(close);
        if (closed.status == 200) {
            ++r_.tickets_closed;
        }
    }

    // ---- progress, drain, checks ----

    awaitable<void> progress() {
        const bool tty = isatty(STDERR_FILENO) != 0;
        double last_line = -100;
        while (!finished_) {
            co_await sleep_real(tty ? 0.5 : 1);
            if (opt_.quiet || (!tty && real_now() - last_line < 15)) {
                continue;
            }
            last_line = real_now();
            std::vector<double> recent;
            while (!recent_offers_.empty() && recent_offers_.front().first < real_now() - 60) {
                recent_offers_.pop_front();
            }
            for (const auto& [at, idx] : recent_offers_) {
                if (orders_[idx].placed_real >= 0) {
                    recent.push_back(orders_[idx].offered_real - orders_[idx].placed_real);
                }
            }
            const double share = std::min(1.0, sim_now() / (s_.hours * 3600));
            std::string bar(20, '.');
            for (int k = 0; k < static_cast<int>(share * 20); ++k) {
                bar[static_cast<std::size_t>(k)] = '#';
            }
            std::fprintf(
                stderr,
                "%s%s [%s] %3.0f%%%s | placed %d offered %d assigned %d completed %d expired %d | "
                "order→offer p50 %s (last minute)%s",
                tty ? "\r" : "",
                clock_text(local_minute()).c_str(),
                bar.c_str(),
                share * 100,
                arrivals_done_ ? " draining" : "",
                placed_,
                offered_,
                r_.accepts,
                completed_,
                expired_,
                recent.empty() ? "-" : (std::to_string(percentile(recent, 0.5)).substr(0, 4) + " s").c_str(),
                tty ? "   " : "\n");
            std::fflush(stderr);
        }
    }

    awaitable<void> drain() {
        const double until = real_now() + s_.drain_s;
        while (real_now() < until) {
            // Jobs booked for later than the drain can wait do not hold it up (wall-clock mode).
            bool queued = false;
            const double last_due = epoch_now() + (until - real_now());
            for (std::size_t w = 0; w < workers_.size(); ++w) {
                for (auto idx : workers_[w].queue) {
                    queued = queued || due_at(w, idx) < last_due;
                }
            }
            // Quiet: nothing in flight, and staff looked at the queue well after the last rating or complaint
            // (a bad review's ticket comes through the events).
            if (busy_ == 0 && !queued && staff_polled_real_ > last_filed_real_ + 2) {
                co_return;
            }
            co_await sleep_real(0.5);
        }
        r_.checks.push_back(
            {"drained",
             false,
             "work was still in flight " + std::to_string(s_.drain_s) + " s after the last order"});
    }

    struct figures {
        std::map<std::int64_t, json::object> total;
    };

    awaitable<void> read_supervision(figures& f) {
        if (first_day_.empty()) {
            first_day_ = local_date(std::chrono::system_clock::now());
        }
        for (const auto& cs : communities_) {
            for (auto c : cs) {
                call_spec q{"GET",
                            "/v1/supervision/communities/" + std::to_string(c) + "?from=" + first_day_ +
                                "&to=" + local_date(std::chrono::system_clock::now())};
                q.who = &admin_;
                auto r = co_await must(q, 200);
                f.total[c] = r.body.at("total").as_object();
            }
        }
    }

    static std::int64_t figure(const json::object& total, const char* group, const char* name) {
        const auto* g = total.if_contains(group);
        if (g == nullptr || !g->is_object()) {
            return 0;
        }
        const auto* v = g->as_object().if_contains(name);
        return v != nullptr && v->is_number() ? v->to_number<std::int64_t>() : 0;
    }

    awaitable<void> final_checks() {
        const auto now = std::chrono::system_clock::now();
        // 1. Every order reached a final state, or is still inside its window (the platform says which).
        int open_outside = 0;
        std::string example;
        for (auto& o : orders_) {
            if (o.placed_real < 0) {
                continue;
            }
            call_spec q{"GET", "/v1/orders/" + o.id};
            q.who = &elders_[elder_of_.at(o.id)].family;
            auto r = co_await api(q);
            if (r.status != 200) {
                ++open_outside;
                example = o.id + " answered " + std::to_string(r.status);
                continue;
            }
            o.status = r.text("status");
            if (o.status == "completed" || o.status == "cancelled" || o.status == "expired" ||
                o.status == "failed") {
                continue;
            }
            // Waiting or being served: its deadline (window start, or the limit of "as soon as possible") is
            // still ahead, or it is assigned and its window not over.
            std::string until;
            if (const auto* w = r.body.as_object().if_contains("window"); w && w->is_object()) {
                until = std::string(w->at("end").as_string());
            }
            const auto end =
                until.empty() ? std::optional<std::chrono::system_clock::time_point>{} : parse_time(until);
            const bool asap_young = o.asap && real_now() - o.placed_real < 2 * 3600;
            if (!(asap_young || (end && *end > now))) {
                ++open_outside;
                example = o.id + " is " + o.status + " past its window";
            }
        }
        r_.checks.push_back(
            {"every order final or inside its window",
             open_outside == 0,
             open_outside == 0 ? "" : std::to_string(open_outside) + " not, e.g. " + example});

        // 2. No worker held two jobs at once: a worker's "as soon as possible" job was never assigned while
        // another of theirs was accepted and not yet done.
        int overlaps = 0;
        for (const auto& [w, list] : accepted_) {
            for (std::size_t a = 0; a < list.size(); ++a) {
                for (std::size_t b = 0; b < list.size(); ++b) {
                    const auto& x = orders_[list[a]];
                    const auto& y = orders_[list[b]];
                    if (a == b || !x.asap || !y.asap || x.no_show) {
                        continue;
                    }
                    const double x_end = x.completed_real >= 0 ? x.completed_real : real_now();
                    if (y.assigned_real > x.assigned_real && y.assigned_real < x_end) {
                        ++overlaps;
                    }
                }
            }
        }
        r_.checks.push_back(
            {"no worker held two jobs at once",
             overlaps == 0,
             overlaps == 0 ? "" : std::to_string(overlaps) + " jobs assigned while another ran"});

        // 3. Every bad review has its follow-up ticket (done once staff closed it).
        int without = 0;
        for (int round = 0; round < 60; ++round) {
            without = 0;
            r_.bad_followed_up = 0;
            for (const auto& rv : reviews_) {
                if (!rv.bad) {
                    continue;
                }
                call_spec q{"GET", "/v1/ratings/" + rv.id};
                q.who = &elders_[rv.elder].family;
                auto r = co_await api(q);
                const std::string state = r.text("followup_state");
                if (state == "done") {
                    ++r_.bad_followed_up;
                } else if (state != "open") {
                    ++without;
                }
            }
            if (without == 0) {
                break;
            }
            co_await sleep_real(0.5);
        }
        r_.checks.push_back({"every bad review has a follow-up ticket",
                             without == 0,
                             without == 0 ? "" : std::to_string(without) + " without"});

        // 4. Every complaint past its time limit is escalated.
        int late_not_escalated = 0;
        for (const auto& [id, community] : tickets_) {
            call_spec q{"GET", "/v1/complaints/" + id};
            q.who = &admin_;
            auto r = co_await api(q);
            if (r.status != 200) {
                continue;
            }
            if (ours_.contains(id)) {
                ++r_.tickets_by_severity[r.text("severity")];
            }
            const bool escalated = r.body.at("escalated").as_bool();
            r_.escalated += escalated ? 1 : 0;
            const std::string state = r.text("state");
            const auto due = parse_time(r.text("resolve_due"));
            if ((state == "open" || state == "claimed") && due && *due < now) {
                ++r_.sla_breaches;
                if (!escalated) {
                    ++late_not_escalated;
                }
            }
        }
        r_.checks.push_back({"every complaint past its time limit is escalated",
                             late_not_escalated == 0,
                             late_not_escalated == 0 ? "" : std::to_string(late_not_escalated) + " not"});

        // 5. No nursery class and no nursery took more children than it has places (every confirmed booking
        // holds a place each of its days, all the same days).
        if (!nurseries_.empty()) {
            std::string over;
            for (const auto& [n, classes] : booked_) {
                int total = 0;
                for (const auto& [class_id, count] : classes) {
                    total += count;
                    if (count > nurseries_[n].class_places[class_id]) {
                        over = "class " + class_id + ": " + std::to_string(count) + " children, " +
                               std::to_string(nurseries_[n].class_places[class_id]) + " places";
                    }
                }
                if (total > nurseries_[n].places) {
                    over = "nursery " + nurseries_[n].id + ": " + std::to_string(total) + " children, " +
                           std::to_string(nurseries_[n].places) + " places";
                }
            }
            r_.checks.push_back({"no nursery booked beyond its places", over.empty(), over});
            // The platform's figures for the month of the booked days, over the streets' communities.
            const std::string month =
                local_date(std::chrono::system_clock::now() + std::chrono::hours(24)).substr(0, 7);
            r_.nursery_month = month;
            double taken = 0;
            double weight = 0;
            for (std::size_t st = 0; st < communities_.size(); ++st) {
                for (auto community : communities_[st]) {
                    call_spec q{
                        "GET",
                        "/v1/nursery/figures?community_id=" + std::to_string(community) + "&month=" + month};
                    q.who = &staff_[st].me;
                    auto f = co_await api(q);
                    if (f.status != 200) {
                        continue;
                    }
                    const auto* occ = f.body.as_object().if_contains("occupancy");
                    const double places = f.body.at("places").to_number<double>();
                    if (occ != nullptr && occ->is_number() && places > 0) {
                        taken += occ->to_number<double>() * places;
                        weight += places;
                    }
                }
            }
            if (weight > 0) {
                r_.nursery_occupancy = taken / weight;
            }
        }
        r_.booking_days = s_.booking_days;

        // 6. Supervision's figures equal what the simulator counted (they come from the events: ask until
        // they agree, for a while).
        std::map<std::int64_t, std::array<std::int64_t, 6>> counted;
        for (const auto& o : orders_) {
            if (o.placed_real < 0) {
                continue;
            }
            auto& c = counted[o.community_id];
            c[0] += 1;
            c[1] += o.status == "completed" ? 1 : 0;
            c[2] += o.status == "cancelled" ? 1 : 0;
        }
        for (const auto& [c, n] : ratings_by_community_) {
            counted[c][3] = n;
        }
        for (const auto& [c, n] : bad_by_community_) {
            counted[c][4] = n;
        }
        for (const auto& [id, c] : tickets_) {
            counted[c][5] += ours_.contains(id) ? 1 : 0;
        }
        std::string mismatch;
        for (int round = 0; round < 120; ++round) {
            figures after;
            co_await read_supervision(after);
            mismatch.clear();
            for (const auto& [c, total] : after.total) {
                const auto& before = baseline_.total[c];
                const std::array<std::int64_t, 6> seen{
                    figure(total, "orders", "created") - figure(before, "orders", "created"),
                    figure(total, "orders", "completed") - figure(before, "orders", "completed"),
                    figure(total, "orders", "cancelled") - figure(before, "orders", "cancelled"),
                    figure(total, "ratings", "count") - figure(before, "ratings", "count"),
                    figure(total, "ratings", "bad") - figure(before, "ratings", "bad"),
                    figure(total, "complaints", "filed") - figure(before, "complaints", "filed")};
                static const char* names[] = {"orders.created",
                                              "orders.completed",
                                              "orders.cancelled",
                                              "ratings.count",
                                              "ratings.bad",
                                              "complaints.filed"};
                const auto& mine = counted[c];
                for (std::size_t k = 0; k < 6; ++k) {
                    if (seen[k] != mine[k] && mismatch.empty()) {
                        mismatch = "community " + std::to_string(c) + " " + names[k] + ": supervision " +
                                   std::to_string(seen[k]) + ", simulator " + std::to_string(mine[k]);
                    }
                }
            }
            if (mismatch.empty()) {
                break;
            }
            co_await sleep_real(0.5);
        }
        r_.checks.push_back({"supervision's figures equal the simulator's", mismatch.empty(), mismatch});
    }

    static std::optional<std::chrono::system_clock::time_point> parse_time(const std::string& iso) {
        // YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)
        std::tm tm{};
        int offset_min = 0;
        if (iso.size() < 20) {
            return std::nullopt;
        }
        tm.tm_year = std::stoi(iso.substr(0, 4)) - 1900;
        tm.tm_mon = std::stoi(iso.substr(5, 2)) - 1;
        tm.tm_mday = std::stoi(iso.substr(8, 2));
        tm.tm_hour = std::stoi(iso.substr(11, 2));
        tm.tm_min = std::stoi(iso.substr(14, 2));
        tm.tm_sec = std::stoi(iso.substr(17, 2));
        auto zone = iso.find_first_of("Z+-", 19);
        if (zone != std::string::npos && iso[zone] != 'Z' && iso.size() >= zone + 6) {
            offset_min = std::stoi(iso.substr(zone + 1, 2)) * 60 + std::stoi(iso.substr(zone + 4, 2));
            if (iso[zone] == '-') {
                offset_min = -offset_min;
            }
        }
        const std::time_t t = timegm(&tm);
        return std::chrono::system_clock::from_time_t(t) - std::chrono::minutes(offset_min);
    }

    void finish_results() {
        r_.scenario = s_.name;
        r_.mode = s_.mode;
        r_.speed = s_.speed;
        r_.start_minute = s_.start_minute;
        r_.sim_hours = s_.hours;
        for (auto o : orders_) {
            if (o.placed_real < 0) {
                continue;
            }
            // Real times relative to the run's start.
            auto rel = [this](double t) { return t < 0 ? t : t - run_t0_; };
            o.placed_real = rel(o.placed_real);
            o.offered_real = rel(o.offered_real);
            o.assigned_real = rel(o.assigned_real);
            o.completed_real = rel(o.completed_real);
            r_.orders.push_back(o);
        }
        for (std::size_t i = 0; i < workers_.size() && i < r_.workers.size(); ++i) {
            r_.workers[i].jobs = workers_[i].jobs;
        }
    }

    asio::io_context& io_;
    http::client client_;
    options opt_;
    scenario s_;
    std::mt19937_64 rng_;
    std::string host_;
    std::uint16_t port_ = 0;
    std::string nonce_;
    int phones_ = 0;
    int ips_ = 0;
    steady::time_point t0_;
    double run_t0_ = 0;
    person admin_;
    std::map<std::string, catalog_entry> catalog_;
    std::vector<std::vector<std::int64_t>> communities_;  // per street
    std::vector<elder> elders_;
    std::map<std::size_t, std::vector<std::size_t>> elders_by_street_;
    std::vector<worker> workers_;
    std::vector<staff_member> staff_;
    std::vector<nursery_site> nurseries_;
    std::vector<child> children_;
    std::map<std::size_t, std::map<std::string, int>> booked_;  // per nursery, confirmed bookings per class
    std::deque<order_record> orders_;                           // frames may add one while another is in use
    std::map<std::string, std::size_t> order_ids_;
    std::map<std::string, std::size_t> elder_of_;
    std::map<std::size_t, double> window_start_;  // orders booked for a window: its start, epoch seconds
    std::map<std::size_t, std::vector<std::size_t>> accepted_;  // per worker, orders accepted
    std::map<std::string, std::int64_t> tickets_;               // seen by staff, with their community
    std::set<std::string> ours_;                                // of those, filed during the run
    std::chrono::system_clock::time_point began_;
    std::vector<review> reviews_;
    std::map<std::int64_t, int> ratings_by_community_;
    std::map<std::int64_t, int> bad_by_community_;
    std::map<std::int64_t, int> family_complaints_;
    std::deque<std::pair<double, std::size_t>> recent_offers_;
    figures baseline_;
    std::string first_day_;
    std::shared_ptr<bool> stop_ = std::make_shared<bool>(false);
    std::size_t sockets_open_ = 0;
    int busy_ = 0;
    int placed_ = 0;
    int offered_ = 0;
    int completed_ = 0;
    int expired_ = 0;
    bool arrivals_done_ = false;
    bool finished_ = false;
    double staff_polled_real_ = 0;
    double last_filed_real_ = 0;
    results r_;
};

int usage(const char* why) {
    std::fprintf(
        stderr,
        "carematch-sim: %s\nusage: carematch-sim --scenario FILE [--url http://127.0.0.1:8080] "
        "(--admin-file FILE | --admin PHONE:PASSWORD) [--out DIR] [--speed N] [--hours H] [--seed N] "
        "[--street ID] [--elders N] [--quiet]\n",
        why);
    return 2;
}

}  // namespace
}  // namespace carematch::sim

int main(int argc, char** argv) {
    using namespace carematch::sim;
    // A socket per family and worker: as many descriptors as the system allows this process.
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    options opt;
    try {
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            auto value = [&]() -> std::string {
                if (i + 1 >= argc) {
                    throw std::runtime_error(a + " needs a value");
                }
                return argv[++i];
            };
            if (a == "--url") {
                opt.url = value();
            } else if (a == "--admin") {
                opt.admin = value();
            } else if (a == "--admin-file") {
                std::ifstream in(value());
                std::getline(in, opt.admin);
            } else if (a == "--scenario") {
                opt.scenario = value();
            } else if (a == "--out") {
                opt.out = value();
            } else if (a == "--speed") {
                opt.speed = std::stod(value());
            } else if (a == "--hours") {
                opt.hours = std::stod(value());
            } else if (a == "--seed") {
                opt.seed = std::stoull(value());
            } else if (a == "--street") {
                opt.street = std::stoll(value());
            } else if (a == "--elders") {
                opt.elders = std::stoi(value());
            } else if (a == "--quiet") {
                opt.quiet = true;
            } else {
                return usage(("unknown argument " + a).c_str());
            }
        }
        if (opt.scenario.empty()) {
            return usage("--scenario is required");
        }
        if (opt.admin.find(':') == std::string::npos) {
            return usage("an admin's PHONE:PASSWORD is required (--admin or --admin-file)");
        }
        scenario s = load_scenario(opt.scenario);
        if (opt.speed) {
            s.speed = s.mode == "wall" ? 1 : std::clamp(*opt.speed, 1.0, 3600.0);
        }
        if (opt.hours) {
            s.hours = std::clamp(*opt.hours, 0.01, 24.0 * 7);
        }
        if (opt.seed) {
            s.seed = *opt.seed;
        }
        if (opt.elders) {
            s.elders_per_street = std::clamp(*opt.elders, 1, 100000);
        }
        if (opt.street) {
            street_spec first = s.streets.front();
            first.id = *opt.street;
            s.streets = {first};
        }
        boost::asio::io_context io;
        simulation sim(io, opt, s);
        std::exception_ptr failed;
        boost::asio::co_spawn(io, sim.run(), [&](std::exception_ptr e) {
            if (e) {
                failed = e;
                io.stop();
            }
        });
        io.run();
        if (failed) {
            std::rethrow_exception(failed);
        }
        return sim.exit_code;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "\ncarematch-sim: %s\n", e.what());
        return 2;
    }
}
