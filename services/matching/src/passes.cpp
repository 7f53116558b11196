// The background passes: leases and the tick that solves each owned street, offer and order expiry, repair of
// outcomes left half-applied, and the reconciler against orders.
#include "context.hpp"
#include "flows.hpp"
#include "store.hpp"

#include <carematch/core/checks.hpp>
#include <carematch/core/ids.hpp>
#include <carematch/core/log.hpp>
#include <carematch/db/pool.hpp>
#include <carematch/http/peer.hpp>
#include <carematch/match/match.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <tuple>

namespace carematch::matching {

namespace json = boost::json;

namespace {

struct candidate {
    std::string id;
    std::string org_id;
    std::string gender;
    std::vector<std::string> languages;
    std::vector<std::string> kinds;
    double lat = 0;
    double lon = 0;
    std::vector<std::pair<std::string, double>> credentials;  // type, valid until (epoch s)
    std::optional<std::vector<std::pair<double, double>>> available;
};

std::vector<candidate> parse_candidates(const json::object& body) {
    std::vector<candidate> out;
    for (const auto& v : body.at("items").as_array()) {
        const auto& w = v.as_object();
        candidate c;
        c.id = std::string(w.at("worker_id").as_string());
        c.org_id = std::string(w.at("org_id").as_string());
        c.gender = std::string(w.at("gender").as_string());
        for (const auto& l : w.at("languages").as_array()) {
            c.languages.emplace_back(l.as_string());
        }
        for (const auto& k : w.at("kinds").as_array()) {
            c.kinds.emplace_back(k.as_string());
        }
        c.lat = w.at("location").at("lat").to_number<double>();
        c.lon = w.at("location").at("lon").to_number<double>();
        for (const auto& cr : w.at("credentials").as_array()) {
            c.credentials.emplace_back(std::string(cr.at("type").as_string()),
                                       cr.at("valid_until_s").to_number<double>());
        }
        if (const auto* a = w.if_contains("available_s"); a && a->is_array()) {
            c.available.emplace();
            for (const auto& h : a->as_array()) {
                c.available->emplace_back(h.at(0).to_number<double>(), h.at(1).to_number<double>());
            }
        }
        out.push_back(std::move(c));
    }
    return out;
}

// A canteen whose workers deliver meals: where it cooks, how far it delivers, its meals per slot.
struct canteen {
    double lat = 0;
    double lon = 0;
    double radius_km = 0;
    std::map<std::string, int> meals;
};

std::map<std::string, canteen> parse_canteens(const json::object& body) {
    std::map<std::string, canteen> out;
    const auto* all = body.if_contains("canteens");
    if (all == nullptr || !all->is_object()) {
        return out;
    }
    for (const auto& [org, v] : all->as_object()) {
        canteen k;
        k.lat = v.at("lat").to_number<double>();
        k.lon = v.at("lon").to_number<double>();
        k.radius_km = v.at("delivery_radius_km").to_number<double>();
        for (const auto& [slot, n] : v.at("meals").as_object()) {
            k.meals[std::string(slot)] = static_cast<int>(n.to_number<std::int64_t>());
        }
        out.emplace(std::string(org), std::move(k));
    }
    return out;
}

// Names → the small integers libs/match works with.
struct ids {
    std::map<std::string, std::uint32_t> table;
    std::uint32_t of(const std::string& name) {
        auto [it, fresh] = table.emplace(name, static_cast<std::uint32_t>(table.size()));
        return it->second;
    }
};

match::minutes minute_floor(double epoch_s) {
    return static_cast<match::minutes>(std::floor(epoch_s / 60.0));
}
match::minutes minute_ceil(double epoch_s) {
    return static_cast<match::minutes>(std::ceil(epoch_s / 60.0));
}

boost::asio::awaitable<std::size_t> solve_street(context& c, std::int64_t street, std::int64_t token) {
    std::function<std::vector<store::open_order>(pqxx::work&)> read_waiting = [&](pqxx::work& tx) {
        return store::waiting(tx, street, 2000);
    };
    const double now = now_s(c);
    auto all = co_await c.pool.transact(std::move(read_waiting));
    std::vector<store::open_order> orders;
    std::set<std::string> kinds;
    double horizon = now + 3600;
    for (auto& o : all) {
        if (o.deadline <= now || !o.lat || !o.lon || c.find(o.kind, o.sub_type) == nullptr) {
            continue;  // expiry's, or nothing to offer it to
        }
        kinds.insert(o.kind);
        horizon = std::max(horizon, o.window_end + 60.0 * c.find(o.kind, o.sub_type)->duration_min);
        orders.push_back(std::move(o));
    }
    if (orders.empty()) {
        co_return 0;
    }
    // One read per street per tick: everyone online in the street for these kinds, with hours in the span.
    std::string target = "/v1/internal/providers/streets/" + std::to_string(street) + "/workers?kinds=";
    bool first = true;
    for (const auto& k : kinds) {
        if (!first) {
            target += ',';
        }
        target += k;
        first = false;
    }
    target += "&from=" + std::to_string(static_cast<std::int64_t>(now));
    target += "&to=" + std::to_string(static_cast<std::int64_t>(horizon) + 1);
    auto body =
        co_await http::get_json(c.peers, c.cfg.providers, target, c.issuer->issue_service("matching"));
    if (!body) {
        core::log::warn("matching: candidates unavailable", {{"street", street}});
        co_return 0;
    }
    std::vector<candidate> workers;
    std::map<std::string, canteen> canteens;
    try {
        workers = parse_candidates(*body);
        canteens = parse_canteens(*body);
    } catch (const std::exception& e) {
        core::log::error("matching: malformed candidates", {{"street", street}, {"error", e.what()}});
        co_return 0;
    }
    std::vector<std::string> worker_ids;
    for (const auto& w : workers) {
        worker_ids.push_back(w.id);
    }
    const double day_start =
        std::chrono::duration<double>(
            c.service_settings.local.at(c.today(), std::chrono::minutes(0)).time_since_epoch())
            .count();
    std::function<store::worker_facts(pqxx::work&)> read_facts = [&](pqxx::work& tx) {
        return store::facts(tx, orders, worker_ids, day_start);
    };
    auto facts = co_await c.pool.transact(std::move(read_facts));
    // A crew's seats already offered or held: the rest are solved for, with other workers.
    auto open_seats = [&](const store::open_order& o) {
        auto it = facts.seats.find(o.id);
        return std::max(1, o.crew) - (it == facts.seats.end() ? 0 : static_cast<int>(it->second.size()));
    };
    std::erase_if(orders, [&](const store::open_order& o) { return open_seats(o) <= 0; });
    if (orders.empty()) {
        co_return 0;
    }

    // Meals: an order's canteen must serve its slot, deliver to it, and have meals left for that slot of the
    // order's local day (held: offers in flight and assignments).
    const double offset_s = 60.0 * static_cast<double>(c.service_settings.local.utc_offset().count());
    auto meal_day = [&](const store::open_order& o) {
        return std::floor((o.window_start + offset_s) / 86400.0) * 86400.0 - offset_s;
    };
    std::map<std::tuple<std::string, std::string, double>, int> meals_left;
    for (const auto& o : orders) {
        if (o.kind != "meal") {
            continue;
        }
        for (const auto& [org, k] : canteens) {
            if (auto m = k.meals.find(o.sub_type); m != k.meals.end()) {
                meals_left.emplace(std::tuple{org, o.sub_type, meal_day(o)}, m->second);
            }
        }
    }
    if (!meals_left.empty()) {
        std::function<void(pqxx::work&)> read_meals = [&](pqxx::work& tx) {
            for (auto& [key, left] : meals_left) {
                left = canteens.at(std::get<0>(key)).meals.at(std::get<1>(key)) -
                       store::meals_held(tx, std::get<0>(key), std::get<1>(key), std::get<2>(key));
            }
        };
        co_await c.pool.transact(std::move(read_meals));
    }
    auto can_deliver = [&](const store::open_order& o, const candidate& w) {
        auto k = canteens.find(w.org_id);
        if (k == canteens.end() || !o.lat || !o.lon) {
            return false;
        }
        auto left = meals_left.find(std::tuple{w.org_id, o.sub_type, meal_day(o)});
        return left != meals_left.end() && left->second > 0 &&
               match::haversine_km({k->second.lat, k->second.lon}, {*o.lat, *o.lon}) <= k->second.radius_km;
    };

    // The instance libs/match solves.
    match::instance in;
    in.now = minute_floor(now);
    ids kind_ids;
    ids skill_ids;
    ids credential_ids;
    ids language_ids;
    std::map<std::string, std::uint32_t> worker_index;
    std::vector<const candidate*> used;
    for (const auto& w : workers) {
        if (facts.open_offers[w.id] >= c.cfg.max_live_offers || (w.available && w.available->empty())) {
            continue;  // busy answering, or not working within the span
        }
        match::worker mw;
        mw.id = static_cast<std::uint32_t>(used.size());
        mw.location = {w.lat, w.lon};
        for (const auto& k : w.kinds) {
            for (const auto& e : c.catalog) {
                if (e.kind == k) {
                    mw.skills.push_back(skill_ids.of(e.kind + "/" + e.sub_type));
                }
            }
        }
        for (const auto& [type, until] : w.credentials) {
            mw.credentials.push_back({credential_ids.of(type), minute_floor(until)});
        }
        mw.sex = w.gender == "female" ? match::gender::female
                 : w.gender == "male" ? match::gender::male
                                      : match::gender::unspecified;
        for (const auto& l : w.languages) {
            mw.languages.push_back(language_ids.of(l));
        }
        if (w.available) {
            for (const auto& [from, to] : *w.available) {
                mw.available.push_back({minute_ceil(from), minute_floor(to)});
            }
        }
        for (const auto& [from, to] : facts.busy[w.id]) {
            if (to <= now) {
                continue;  // over (a job done sooner than planned ends when it was done): nothing can collide
            }
            mw.busy.push_back({minute_floor(from), minute_ceil(to)});
        }
        if (auto it = facts.score.find(w.id); it != facts.score.end()) {
            mw.rating = it->second;
        }
        mw.jobs_today = facts.jobs_today[w.id];
        worker_index[w.id] = mw.id;
        used.push_back(&w);
        in.workers.push_back(std::move(mw));
    }
    for (std::size_t i = 0; i < orders.size(); ++i) {
        const auto& o = orders[i];
        const auto* entry = c.find(o.kind, o.sub_type);
        match::order mo;
        mo.id = static_cast<std::uint32_t>(i);
        mo.kind = kind_ids.of(o.kind);
        mo.skill = skill_ids.of(o.kind + "/" + o.sub_type);
        mo.location = {*o.lat, *o.lon};
        mo.window = {minute_ceil(std::max(o.window_start, now)), minute_floor(o.window_end)};
        mo.duration = entry->duration_min;
        for (const auto& cr : entry->credentials) {
            mo.credentials.push_back(credential_ids.of(cr));
        }
        if (o.gender_preference == "female") {
            mo.wants_gender = match::gender::female;
        } else if (o.gender_preference == "male") {
            mo.wants_gender = match::gender::male;
        }
        mo.crew = open_seats(o);
        for (const auto& [seat, w] : facts.seats[o.id]) {
            if (auto it = worker_index.find(w); it != worker_index.end()) {
                mo.excluded.push_back(it->second);  // one worker, one seat
            }
        }
        mo.ability_level = o.ability_level;
        mo.priority_categories = o.priority_categories;
        mo.waited = std::max<match::minutes>(0, minute_floor(now - o.created_at));
        for (const auto& w : facts.excluded[o.id]) {
            if (auto it = worker_index.find(w); it != worker_index.end()) {
                mo.excluded.push_back(it->second);
            }
        }
        if (o.kind == "meal") {
            for (std::uint32_t k = 0; k < used.size(); ++k) {
                if (!can_deliver(o, *used[k])) {
                    mo.excluded.push_back(k);
                }
            }
        }
        for (const auto& w : facts.preferred[o.recipient_id]) {
            if (auto it = worker_index.find(w); it != worker_index.end()) {
                mo.preferred.push_back(it->second);
            }
        }
        in.orders.push_back(std::move(mo));
    }
    const auto started = std::chrono::steady_clock::now();
    const auto g = match::build_graph(in);
    const auto result = match::solve_optimal(in, g);
    c.count.last_solve_ms.store(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
    c.count.ticks.fetch_add(1);

    // Orders left unassigned while a worker who could have served them stayed free.
    std::set<std::uint32_t> taken;
    for (const auto& a : result.assignments) {
        taken.insert(a.worker_ids.begin(), a.worker_ids.end());
    }
    for (auto oi : result.unassigned) {
        for (const auto& w : in.workers) {
            if (!taken.contains(w.id) && match::feasible(in, in.orders[oi], w)) {
                c.count.unassigned_with_free_worker.fetch_add(1);
                break;
            }
        }
    }

    // Every offer of the street in one transaction (each statement fenced by the lease), then every one told
    // to orders at once.
    std::vector<store::offer> pendings;
    // The offer of the solved instance's worker `wi` for its order `oi`, in seat `seat`.
    auto offer_of = [&](std::uint32_t oi, std::uint32_t wi, int seat) {
        const auto& o = orders[oi];
        const candidate& w = *used[wi];
        store::new_offer n;
        n.id = core::new_uuid();
        n.order_id = o.id;
        n.worker_id = w.id;
        n.org_id = w.org_id;
        n.street = street;
        n.travel_min =
            match::travel_minutes(in.w, in.orders[oi].kind, in.workers[wi].location, in.orders[oi].location);
        n.now = now;
        n.expires_at = now + static_cast<double>(c.offer_expiry(o.kind).count());
        n.seat = seat;
        return n;
    };
    std::function<void(pqxx::work&)> write = [&](pqxx::work& tx) {
        pendings.clear();
        for (const auto& a : result.assignments) {
            const auto& o = orders[a.order_id];
            if (a.worker_ids.size() > 1 || o.crew > 1) {
                // A crew: an offer per open seat, all or none (a savepoint takes back the seats written when
                // one is refused).
                std::vector<int> seats;
                for (int seat = 0; seat < o.crew; ++seat) {
                    const auto& taken = facts.seats[o.id];
                    if (std::none_of(
                            taken.begin(), taken.end(), [&](const auto& t) { return t.first == seat; })) {
                        seats.push_back(seat);
                    }
                }
                if (seats.size() != a.worker_ids.size()) {
                    continue;
                }
                db::savepoint crew(tx, "crew");  // sent now: libpqxx 6.4 sends a subtransaction's lazily
                std::vector<std::string> written;
                for (std::size_t k = 0; k < seats.size(); ++k) {
                    const store::new_offer n = offer_of(a.order_id, a.worker_ids[k], seats[k]);
                    if (!store::insert_offer(crew, n, c.owner, token, c.cfg.max_live_offers)) {
                        break;
                    }
                    written.push_back(n.id);
                }
                if (written.size() != seats.size()) {
                    crew.abort();
                    continue;
                }
                crew.commit();
                for (const auto& id : written) {
                    if (auto pending = store::find_offer(tx, id)) {  // with the other seat's worker
                        pendings.push_back(std::move(*pending));
                    }
                }
                continue;
            }
            const candidate& w = *used[a.worker_ids.front()];
            const store::new_offer n = offer_of(a.order_id, a.worker_ids.front(), 0);
            if (o.kind == "meal" &&
                !store::hold_meal(
                    tx, w.org_id, o.sub_type, meal_day(o), canteens.at(w.org_id).meals.at(o.sub_type))) {
                continue;  // the canteen's last meals of the slot went to other orders meanwhile
            }
            if (!store::insert_offer(tx, n, c.owner, token, c.cfg.max_live_offers)) {
                continue;  // the lease moved on, or the order or worker changed meanwhile
            }
            store::offer pending;
            pending.id = n.id;
            pending.order_id = n.order_id;
            pending.worker_id = n.worker_id;
            pending.org_id = n.org_id;
            pending.street = street;
            pending.attempt = o.attempt;
            pending.state = "pending";
            pending.travel_min = n.travel_min;
            pending.created_at = now;
            pending.expires_at = n.expires_at;
            pendings.push_back(std::move(pending));
        }
    };
    co_await c.pool.transact(std::move(write));
    c.count.refused_by_fence.fetch_add(result.assignments.size() - pendings.size());
    // Told to orders in one call, recorded in one transaction.
    std::size_t live = 0;
    const auto states = co_await apply_all(c, pendings);  // named: GCC 12 and co_await in a range-for
    for (const auto& state : states) {
        live += state && *state == "live" ? 1 : 0;
    }
    co_return live;
}

}  // namespace

namespace {

boost::asio::awaitable<void> sync_leases(context& c) {
    const auto lease_ms = static_cast<std::int64_t>(c.cfg.lease.count());
    std::function<std::vector<store::lease>(pqxx::work&)> sync = [&](pqxx::work& tx) {
        return store::sync_leases(tx, c.owner, c.streets, lease_ms);
    };
    auto leases = co_await c.pool.transact(std::move(sync));
    std::vector<std::pair<std::int64_t, std::int64_t>> owned;
    for (const auto& l : leases) {
        owned.emplace_back(l.street, l.token);
    }
    c.set_owned(owned);
}

// Solves these streets at once: one street's peer calls do not wait for another's.
boost::asio::awaitable<std::size_t> solve_streets(
    context& c, std::vector<std::pair<std::int64_t, std::int64_t>> streets) {
    auto offered = std::make_shared<std::atomic<std::size_t>>(0);
    std::vector<std::function<boost::asio::awaitable<void>()>> jobs;
    for (const auto& [street, token] : streets) {
        jobs.emplace_back([&c, street = street, token = token, offered]() -> boost::asio::awaitable<void> {
            try {
                offered->fetch_add(co_await solve_street(c, street, token));
            } catch (const std::exception& e) {
                core::log::error("matching: a street's tick failed",
                                 {{"street", street}, {"error", e.what()}});
            }
        });
    }
    co_await run_all(std::move(jobs));
    co_return offered->load();
}

}  // namespace

boost::asio::awaitable<pass_stats> app::tick() {
    auto& c = ctx();
    co_await sync_leases(c);
    auto owned = c.owned_streets();
    pass_stats s;
    s.streets = owned.size();
    s.offered = co_await solve_streets(c, std::move(owned));
    co_return s;
}

boost::asio::awaitable<void> app::run_ticks() {
    auto& c = ctx();
    auto ex = co_await boost::asio::this_coro::executor;
    boost::asio::steady_timer timer(ex);
    const auto slots = static_cast<std::size_t>(c.cfg.tick_slots);
    const auto step = std::chrono::duration_cast<std::chrono::steady_clock::duration>(c.cfg.tick) /
                      static_cast<long>(slots);
    auto running = std::make_shared<std::atomic<std::size_t>>(0);
    auto next = std::chrono::steady_clock::now();
    for (std::size_t slot = 0; !c.stopping; slot = (slot + 1) % slots) {
        try {
            if (slot == 0) {
                co_await sync_leases(c);
            }
            const auto owned = c.owned_streets();
            for (std::size_t i = slot; i < owned.size(); i += slots) {
                const std::int64_t street = owned[i].first;  // no structured bindings in coroutines (GCC 12)
                const std::int64_t token = owned[i].second;
                if (!c.begin_solving(street)) {
                    continue;  // its last solve has not finished: the next slot of this street will see
                }
                running->fetch_add(1);
                boost::asio::co_spawn(
                    ex,
                    [&c, street = street, token = token]() -> boost::asio::awaitable<void> {
                        (void)co_await solve_street(c, street, token);
                    },
                    [&c, street = street, running](std::exception_ptr e) {
                        if (e) {
                            try {
                                std::rethrow_exception(e);
                            } catch (const std::exception& x) {
                                core::log::error("matching: a street's tick failed",
                                                 {{"street", street}, {"error", x.what()}});
                            }
                        }
                        c.end_solving(street);
                        running->fetch_sub(1);
                    });
            }
        } catch (const std::exception& e) {
            core::log::warn("matching: a tick slot failed", {{"error", e.what()}});
        }
        // Slot after slot at a fixed rate; behind (a slow lease sync), the next slot starts at once and the
        // schedule moves on from there: no burst of missed slots, as with the runtime's periodic tasks.
        next = std::max(next + step, std::chrono::steady_clock::now());
        timer.expires_at(next);
        co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    // Stopping: the streets' solves still running hold references to the context; wait them out.
    while (running->load() > 0) {
        timer.expires_after(std::chrono::milliseconds(10));
        co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
}

boost::asio::awaitable<pass_stats> app::expire() {
    auto& c = ctx();
    pass_stats s;
    std::vector<std::int64_t> streets;
    for (const auto& [street, _] : c.owned_streets()) {
        streets.push_back(street);
    }
    if (streets.empty()) {
        co_return s;
    }
    const double now = now_s(c);
    std::vector<std::string> settled;
    std::function<std::vector<store::offer>(pqxx::work&)> claim = [&](pqxx::work& tx) {
        settled.clear();
        auto claimed = store::claim_expired(tx, streets, now, 500);
        for (auto& o : claimed) {
            if (auto final_state = settle_claim(tx, c, o, now)) {
                settled.push_back(*final_state);
            }
        }
        return claimed;
    };
    auto claimed = co_await c.pool.transact(std::move(claim));
    for (const auto& state : settled) {
        count_outcome(c, state);
    }
    for (const auto& o : claimed) {
        auto state = co_await apply(c, o);
        if (state && *state == "expired") {
            ++s.expired_offers;
        }
    }
    std::function<std::vector<store::open_order>(pqxx::work&)> due = [&](pqxx::work& tx) {
        return store::overdue(tx, streets, now, 500);
    };
    for (const auto& o : co_await c.pool.transact(std::move(due))) {
        auto reply =
            co_await tell_orders(c, o.id, "expired", o.attempt, "nobody was assigned by the deadline");
        if (reply.outcome == told::unavailable) {
            continue;
        }
        const bool applied = reply.outcome == told::applied;
        std::function<void(pqxx::work&)> record = [&](pqxx::work& tx) {
            if (applied) {
                store::close_order(tx, o.id, false);
            } else {
                store::set_state(tx, o.id, "stale", std::nullopt);
            }
        };
        co_await c.pool.transact(std::move(record));
        if (applied) {
            c.count.deadline_expiries.fetch_add(1);
            ++s.expired_orders;
        }
    }
    co_return s;
}

boost::asio::awaitable<pass_stats> app::repair() {
    auto& c = ctx();
    pass_stats s;
    const double now = now_s(c);
    const double after = static_cast<double>(c.cfg.stuck_after.count());
    std::function<std::vector<store::offer>(pqxx::work&)> find = [&](pqxx::work& tx) {
        return store::stuck(tx, now, after, 200);
    };
    for (const auto& o : co_await c.pool.transact(std::move(find))) {
        if (co_await apply(c, o)) {
            ++s.repaired;
        }
    }
    co_return s;
}

boost::asio::awaitable<pass_stats> app::reconcile() {
    auto& c = ctx();
    pass_stats s;
    for (const auto& [street, _] : c.owned_streets()) {
        const double started = now_s(c);
        std::set<std::string> seen;
        std::optional<std::string> after;
        bool complete = false;
        for (int page = 0; page < 1000; ++page) {
            std::string target =
                "/v1/internal/orders/waiting?street=" + std::to_string(street) + "&limit=500";
            if (after) {
                target += "&after=" + *after;
            }
            auto body =
                co_await http::get_json(c.peers, c.cfg.orders, target, c.issuer->issue_service("matching"));
            if (!body) {
                break;
            }
            for (const auto& v : body->at("items").as_array()) {
                const auto& j = v.as_object();
                store::open_order o;
                o.id = std::string(j.at("id").as_string());
                seen.insert(o.id);
                o.community_id = j.at("community_id").to_number<std::int64_t>();
                o.street = street;
                o.recipient_id = std::string(j.at("recipient_id").as_string());
                o.kind = std::string(j.at("kind").as_string());
                o.sub_type = std::string(j.at("sub_type").as_string());
                if (const auto& l = j.at("location"); l.is_object()) {
                    o.lat = l.at("lat").to_number<double>();
                    o.lon = l.at("lon").to_number<double>();
                }
                o.window_start =
                    std::chrono::duration<double>(
                        core::parse_timestamp(std::string(j.at("window").at("start").as_string()))
                            .value_or(core::clock::time_point{})
                            .time_since_epoch())
                        .count();
                o.window_end = std::chrono::duration<double>(
                                   core::parse_timestamp(std::string(j.at("window").at("end").as_string()))
                                       .value_or(core::clock::time_point{})
                                       .time_since_epoch())
                                   .count();
                o.asap = j.at("asap").as_bool();
                o.created_at = std::chrono::duration<double>(
                                   core::parse_timestamp(std::string(j.at("created_at").as_string()))
                                       .value_or(core::clock::time_point{})
                                       .time_since_epoch())
                                   .count();
                o.deadline =
                    o.asap ? o.created_at + std::chrono::duration<double>(c.asap_deadline(o.kind)).count()
                           : o.window_start;
                o.attempt = static_cast<int>(j.at("attempt").to_number<std::int64_t>());
                if (const auto* crew = j.if_contains("crew"); crew != nullptr && crew->is_int64()) {
                    o.crew = static_cast<int>(std::clamp<std::int64_t>(crew->as_int64(), 1, 2));
                }
                const std::string status(j.at("status").as_string());
                // What matching should do about it: nothing (an offer is in flight), take it as waiting, or
                // take an offer back that orders shows but matching has no record of.
                enum class act { none, wait, withdraw };
                std::function<act(pqxx::work&)> look = [&](pqxx::work& tx) -> act {
                    auto local = store::find_order(tx, o.id);
                    const bool in_flight =
                        !tx.exec_params(
                               "SELECT 1 FROM offers WHERE order_id = $1::uuid AND state IN ('pending',"
                               " 'live', 'accepting', 'declining', 'expiring')",
                               o.id)
                             .empty();
                    if (in_flight) {
                        return act::none;
                    }
                    if (!local) {
                        o.state = status == "offered" ? "stale" : "waiting";
                        store::upsert_created(tx, o);
                    } else if (status != "offered" &&
                               (local->state != "waiting" || local->attempt != o.attempt)) {
                        tx.exec_params(
                            "UPDATE open_orders SET state = 'waiting', attempt = $2, updated_at = now()"
                            " WHERE order_id = $1::uuid",
                            o.id,
                            o.attempt);
                        return act::wait;
                    }
                    return status == "offered" ? act::withdraw : (local ? act::none : act::wait);
                };
                const auto todo = co_await c.pool.transact(std::move(look));
                if (todo == act::wait) {
                    ++s.repaired;
                } else if (todo == act::withdraw) {
                    auto reply =
                        co_await tell_orders(c, o.id, "matching", o.attempt, "offer lost; offered again");
                    if (reply.outcome == told::applied) {
                        std::function<void(pqxx::work&)> back = [&](pqxx::work& tx) {
                            tx.exec_params(
                                "UPDATE open_orders SET state = 'waiting', attempt = $2,"
                                " updated_at = now() WHERE order_id = $1::uuid",
                                o.id,
                                reply.attempt);
                        };
                        co_await c.pool.transact(std::move(back));
                        ++s.repaired;
                    }
                }
            }
            if (body->at("next").is_null()) {
                complete = true;
                break;
            }
            after = std::string(body->at("next").as_string());
        }
        if (!complete) {
            continue;
        }
        // What matching still holds open but orders no longer lists as waiting has left matching's hands.
        std::vector<std::string> listed(seen.begin(), seen.end());
        std::function<std::size_t(pqxx::work&)> close = [&](pqxx::work& tx) {
            std::size_t n = 0;
            for (const auto& r : tx.exec_params(
                     "SELECT order_id::text FROM open_orders o WHERE street = $1 AND state IN ('waiting', "
                     "'stale')"
                     " AND created_at < to_timestamp($2) - interval '5 seconds'"
                     " AND NOT (order_id = ANY($3::uuid[]))"
                     " AND NOT EXISTS (SELECT 1 FROM offers f WHERE f.order_id = o.order_id AND f.state IN"
                     " ('pending', 'live', 'accepting', 'declining', 'expiring'))",
                     street,
                     started,
                     db::text_array(listed))) {
                store::close_order(tx, r[0].as<std::string>(), true);
                ++n;
            }
            return n;
        };
        s.repaired += co_await c.pool.transact(std::move(close));
    }
    co_return s;
}

}  // namespace carematch::matching
