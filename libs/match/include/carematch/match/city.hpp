// A seeded synthetic city: a district of communities of different density, elders clustered around them
// with realistic priority shares, and workers by kind. Drives the benchmarks (and later the simulator).
#pragma once

#include <carematch/match/model.hpp>

#include <cstddef>
#include <cstdint>

namespace carematch::match {

/// Kinds and credentials the generated city uses.
namespace city_catalog {
inline constexpr kind_id meal = 0, bath = 1, medical_visit = 2, cleaning = 3;
inline constexpr credential_id bathing_certificate = 1, nurse_licence = 2, health_certificate = 3;
inline constexpr skill_id skill(kind_id kind, std::uint32_t sub_type = 0) {
    return kind * 10 + sub_type;
}
}  // namespace city_catalog

struct city_settings {
    std::uint64_t seed = 1;
    std::size_t orders = 1000;
    std::size_t workers = 5000;
    double size_km = 20;  // the district is size_km × size_km
    std::size_t communities = 40;
};

/// The same settings give the same city.
instance generate_city(const city_settings& s);

}  // namespace carematch::match
