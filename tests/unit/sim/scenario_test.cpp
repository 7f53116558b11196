// The simulator's scenario files: the shipped ones load, and a wrong one is refused naming the field.
#include "sim.hpp"

#include <carematch/core/ids.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace carematch::sim {
namespace {

std::string refusal(const std::string& text) {
    const auto path =
        std::filesystem::temp_directory_path() / ("carematch-scenario-" + core::new_uuid() + ".json");
    std::ofstream(path) << text;
    std::string why;
    try {
        load_scenario(path.string());
    } catch (const std::runtime_error& e) {
        why = e.what();
    }
    std::filesystem::remove(path);
    return why;
}

TEST(sim_scenario, the_shipped_scenarios_load) {
    for (const char* name : {"default", "short", "district"}) {
        const auto s = load_scenario(std::string(CAREMATCH_SOURCE_DIR) + "/config/sim/" + name + ".json");
        EXPECT_EQ(s.name, name);
        EXPECT_FALSE(s.streets.empty());
        EXPECT_FALSE(s.providers.empty());
        EXPECT_FALSE(s.demand.empty());
    }
    const auto d = load_scenario(std::string(CAREMATCH_SOURCE_DIR) + "/config/sim/default.json");
    EXPECT_EQ(d.elders_per_street, 200);
    EXPECT_EQ(d.start_minute, 10 * 60);
    EXPECT_DOUBLE_EQ(d.speed, 60);
    EXPECT_EQ(d.providers[2].meals.at("lunch"), 150);
    EXPECT_DOUBLE_EQ(d.demand[0].per_hour[11], 10);
}

TEST(sim_scenario, a_wrong_scenario_is_refused_naming_the_field) {
    const std::string street = R"("streets": [{"id": 110101, "lat": 39.9, "lon": 116.4}])";
    EXPECT_NE(refusal("{" + street + R"(, "elder": {}})").find("$.elder: unknown key"), std::string::npos);
    EXPECT_NE(
        refusal("{" + street + R"(, "time": {"speed": "fast"}})").find("$.time.speed: must be a number"),
        std::string::npos);
    EXPECT_NE(refusal("{" + street + R"(, "time": {"mode": "slow"}})").find("$.time.mode"),
              std::string::npos);
    EXPECT_NE(refusal("{" + street + R"(, "time": {"start": "25:00"}})").find("$.time.start"),
              std::string::npos);
    EXPECT_NE(refusal(R"({"name": "x"})").find("$.streets: required"), std::string::npos);
    EXPECT_NE(refusal("{" + street + R"(, "demand": [{"kind": "meal", "sub_type": "lunch",
        "per_100_elders_per_hour": [1, 2]}]})")
                  .find("$.demand[0]"),
              std::string::npos);
    EXPECT_NE(refusal("{" + street + R"(, "complaints": {"categories": {"gossip": 1}}})")
                  .find("$.complaints.categories.gossip: unknown category"),
              std::string::npos);
    EXPECT_NE(refusal("{" + street + R"(, "workers": {"accept_probability": 1.5}})").find("between"),
              std::string::npos);
    EXPECT_NE(refusal("not json").find("is not JSON"), std::string::npos);
    // A valid one with only a street loads with the defaults.
    EXPECT_TRUE(refusal("{" + street + "}").empty());
}

}  // namespace
}  // namespace carematch::sim
