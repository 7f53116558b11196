// carematch-nursery: the nursery app alone on its listener.
#include "src/app.hpp"

#include <carematch/observability/service_main.hpp>

int main(int argc, char** argv) {
    return carematch::observability::service_main<carematch::nursery::app>(
        "nursery", "config/nursery.toml", &carematch::nursery::read_config, argc, argv);
}
