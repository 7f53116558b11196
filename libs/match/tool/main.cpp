// carematch-match: solves one matching instance read as JSON (file or stdin), or a generated city, and writes
// the assignments, the unassigned orders and the total cost as JSON.
#include "codec.hpp"

#include <carematch/match/city.hpp>
#include <carematch/match/match.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

namespace {

constexpr const char* usage =
    "usage: carematch-match [--solver optimal|greedy] [--in FILE | --city ORDERS,WORKERS,SEED] "
    "[--emit-instance]\n"
    "  reads the instance from FILE, or stdin when neither --in nor --city is given;\n"
    "  --emit-instance writes the instance instead of solving it.\n";

}  // namespace

int main(int argc, char** argv) {
    namespace m = carematch::match;
    std::string solver = "optimal";
    std::string in_file;
    std::string city;
    bool emit = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--solver" && i + 1 < argc) {
            solver = argv[++i];
        } else if (a == "--in" && i + 1 < argc) {
            in_file = argv[++i];
        } else if (a == "--city" && i + 1 < argc) {
            city = argv[++i];
        } else if (a == "--emit-instance") {
            emit = true;
        } else {
            std::cerr << usage;
            return 2;
        }
    }
    if (solver != "optimal" && solver != "greedy") {
        std::cerr << usage;
        return 2;
    }
    try {
        m::instance in;
        if (!city.empty()) {
            m::city_settings s;
            char c1 = 0;
            char c2 = 0;
            std::istringstream ss(city);
            if (!(ss >> s.orders >> c1 >> s.workers >> c2 >> s.seed) || c1 != ',' || c2 != ',') {
                std::cerr << usage;
                return 2;
            }
            in = m::generate_city(s);
        } else {
            std::stringstream text;
            if (in_file.empty()) {
                text << std::cin.rdbuf();
            } else {
                std::ifstream f(in_file);
                if (!f) {
                    std::cerr << "cannot read " << in_file << "\n";
                    return 2;
                }
                text << f.rdbuf();
            }
            in = m::codec::read_instance(boost::json::parse(text.str()));
        }
        if (emit) {
            std::cout << boost::json::serialize(m::codec::write_instance(in)) << "\n";
            return 0;
        }
        auto start = std::chrono::steady_clock::now();
        auto g = m::build_graph(in);
        auto r = solver == "greedy" ? m::solve_greedy(in, g) : m::solve_optimal(in, g);
        double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        auto out = m::codec::write_result(r).as_object();
        out["solver"] = solver;
        out["solve_ms"] = ms;
        std::cout << boost::json::serialize(out) << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "carematch-match: " << e.what() << "\n";
        return 1;
    }
}
