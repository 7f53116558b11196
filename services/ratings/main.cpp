// carematch-ratings: the ratings app alone on its listener.
#include <carematch/ratings/app.hpp>
#include <carematch/runtime/main.hpp>

int main(int argc, char** argv) {
    return carematch::runtime::service_main(
        argc, argv, "ratings", "config/ratings.toml", {&carematch::ratings::make_app});
}
