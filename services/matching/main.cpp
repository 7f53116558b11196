// carematch-matching: the matching app alone on its listener.
#include <carematch/matching/app.hpp>
#include <carematch/runtime/main.hpp>

int main(int argc, char** argv) {
    return carematch::runtime::service_main(
        argc, argv, "matching", "config/matching.toml", {&carematch::matching::make_app});
}
