// The synthetic city generator.
#include <carematch/match/city.hpp>

#include <algorithm>
#include <cmath>
#include <random>

namespace carematch::match {

instance generate_city(const city_settings& s) {
    using namespace city_catalog;
    std::mt19937_64 rng(s.seed);
    auto uniform = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };
    auto chance = [&](double p) { return uniform(0, 1) < p; };
    auto normal = [&](double sd) { return std::normal_distribution<double>(0, sd)(rng); };

    // Around Beijing's old city: 1 km ≈ 0.009° latitude, ≈ 0.0117° longitude at 40°N.
    const geo origin{39.85, 116.30};
    const double lat_per_km = 1.0 / 111.2;
    const double lon_per_km = 1.0 / (111.2 * std::cos(origin.lat * 3.14159265358979 / 180.0));
    auto at_km = [&](double x, double y) {
        x = std::clamp(x, 0.0, s.size_km);
        y = std::clamp(y, 0.0, s.size_km);
        return geo{origin.lat + y * lat_per_km, origin.lon + x * lon_per_km};
    };

    // Communities: centres and weights (a few dense old neighbourhoods, many sparse ones).
    struct community {
        double x, y, weight, spread_km;
    };
    std::vector<community> communities;
    double total_weight = 0;
    for (std::size_t i = 0; i < s.communities; ++i) {
        double w = chance(0.2) ? uniform(3, 6) : uniform(0.5, 2);
        communities.push_back({uniform(1, s.size_km - 1), uniform(1, s.size_km - 1), w, uniform(0.4, 1.2)});
        total_weight += w;
    }
    auto pick_community = [&]() -> const community& {
        double r = uniform(0, total_weight);
        for (const auto& c : communities) {
            if ((r -= c.weight) <= 0) {
                return c;
            }
        }
        return communities.back();
    };
    auto near_community = [&](double spread_factor) {
        const auto& c = pick_community();
        return at_km(c.x + normal(c.spread_km * spread_factor), c.y + normal(c.spread_km * spread_factor));
    };

    instance in;
    in.now = 8 * 60;
    in.w.kinds = {
        kind_profile{15, 20},  // meal: delivery by e-bike, a wider circle
        kind_profile{15, 15},  // bath
        kind_profile{20, 15},  // medical visit
        kind_profile{15, 15},  // cleaning
    };

    const minutes day_end = 20 * 60;
    for (std::uint32_t i = 0; i < s.workers; ++i) {
        worker w;
        w.id = i + 1;
        w.location = chance(0.6) ? near_community(1.5) : at_km(uniform(0, s.size_km), uniform(0, s.size_km));
        w.rating = std::clamp(4.2 + normal(0.5), 1.0, 5.0);
        w.jobs_today = static_cast<int>(uniform(0, 5));
        w.available = {{in.now - 60, day_end}};
        const double kind_roll = uniform(0, 1);
        if (kind_roll < 0.03) {
            w.meals_left = {static_cast<int>(uniform(10, 60)), static_cast<int>(uniform(10, 40))};
            w.skills = {skill(meal)};
        } else if (kind_roll < 0.25) {
            w.skills = {skill(medical_visit, 0), skill(medical_visit, 1), skill(medical_visit, 2)};
            w.credentials = {{nurse_licence, chance(0.05) ? in.now - 1 : 400 * 24 * 60}};
            w.sex = chance(0.8) ? gender::female : gender::male;
        } else {
            w.skills = {skill(cleaning)};
            if (chance(0.6)) {
                w.skills.push_back(skill(bath));
                w.credentials = {{bathing_certificate, chance(0.05) ? in.now - 1 : 400 * 24 * 60}};
            }
            w.sex = chance(0.7) ? gender::female : gender::male;
        }
        w.languages = {0};
        if (chance(0.3)) {
            w.languages.push_back(static_cast<language_id>(uniform(1, 4)));
        }
        if (w.meals_left.empty() && chance(0.3)) {
            minutes b = in.now + static_cast<minutes>(uniform(0, 360));
            w.busy = {{b, b + 90}};
        }
        in.workers.push_back(std::move(w));
    }

    for (std::uint32_t i = 0; i < s.orders; ++i) {
        order o;
        o.id = i + 1;
        o.location = near_community(1.0);
        const double ability_roll = uniform(0, 1);
        o.ability_level = ability_roll < 0.40   ? 0
                          : ability_roll < 0.65 ? 1
                          : ability_roll < 0.80 ? 2
                          : ability_roll < 0.92 ? 3
                                                : 4;
        const double category_roll = uniform(0, 1);
        o.priority_categories = category_roll < 0.70 ? 0 : category_roll < 0.90 ? 1 : 2;
        o.waited = static_cast<minutes>(uniform(0, 30));
        const bool asap = chance(0.6);
        const minutes start = asap ? in.now : in.now + static_cast<minutes>(uniform(30, 240));
        o.window = {start, start + (asap ? 90 : 60)};
        const double kind_roll = uniform(0, 1);
        if (kind_roll < 0.40) {
            o.kind = meal;
            o.skill = skill(meal);
            o.duration = 10;
            o.meal_slot = static_cast<std::uint32_t>(chance(0.6) ? 0 : 1);
        } else if (kind_roll < 0.60) {
            o.kind = bath;
            o.skill = skill(bath);
            o.duration = static_cast<minutes>(uniform(60, 90));
            o.credentials = {bathing_certificate};
            o.crew = o.ability_level >= 2 ? 2 : 1;
            if (chance(0.2)) {
                o.wants_gender = gender::female;
            }
        } else if (kind_roll < 0.80) {
            o.kind = medical_visit;
            o.skill = skill(medical_visit, static_cast<std::uint32_t>(uniform(0, 3)));
            o.duration = 45;
            o.credentials = {nurse_licence};
        } else {
            o.kind = cleaning;
            o.skill = skill(cleaning);
            o.duration = 120;
        }
        if (chance(0.05)) {
            o.wants_language = static_cast<language_id>(uniform(1, 4));
        }
        if (chance(0.1) && !in.workers.empty()) {
            o.preferred = {static_cast<std::uint32_t>(uniform(1, static_cast<double>(in.workers.size())))};
        }
        if (chance(0.1) && !in.workers.empty()) {
            o.excluded = {static_cast<std::uint32_t>(uniform(1, static_cast<double>(in.workers.size())))};
        }
        in.orders.push_back(std::move(o));
    }
    return in;
}

}  // namespace carematch::match
