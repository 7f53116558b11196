// Test support: a region tree of a test's own (a district, its streets, one community each) in a temporary
// file, so that tests running side by side read and write streams of their own.
#pragma once

#include <carematch/core/ids.hpp>

#include <boost/json.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace carematch::test {

struct region_tree {
    std::int64_t street = 0;     // the first street; the others follow it
    std::int64_t community = 0;  // the first street's community
    std::string path;

    /// Streets numbered `block`00 + n for a random block in [block_from, block_to], `streets` of them.
    region_tree(std::int64_t block_from, std::int64_t block_to, int streets = 1) {
        std::random_device rd;
        street = std::uniform_int_distribution<std::int64_t>(block_from, block_to)(rd) * 100 +
                 std::uniform_int_distribution<std::int64_t>(1, 100 - streets)(rd);
        community = street * 1000 + 1;
        path = (std::filesystem::temp_directory_path() / ("carematch-regions-" + core::new_uuid() + ".json"))
                   .string();
        const std::int64_t district = street / 100 * 100;
        boost::json::array tree;
        tree.push_back(boost::json::object{{"id", district},
                                           {"parent_id", nullptr},
                                           {"level", "district"},
                                           {"name", "测试区"},
                                           {"residents", 0}});
        for (std::int64_t s = street; s < street + streets; ++s) {
            tree.push_back(boost::json::object{{"id", s},
                                               {"parent_id", district},
                                               {"level", "street"},
                                               {"name", "测试街道"},
                                               {"residents", 0}});
            tree.push_back(boost::json::object{{"id", s * 1000 + 1},
                                               {"parent_id", s},
                                               {"level", "community"},
                                               {"name", "测试社区"},
                                               {"residents", 5000}});
        }
        std::ofstream(path) << boost::json::serialize(tree);
    }
    ~region_tree() { std::filesystem::remove(path); }
    region_tree(const region_tree&) = delete;
    region_tree& operator=(const region_tree&) = delete;
};

}  // namespace carematch::test
