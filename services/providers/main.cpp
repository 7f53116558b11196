// carematch-providers: the providers app alone on its listener.
#include "src/app.hpp"

#include <carematch/observability/service_main.hpp>

int main(int argc, char** argv) {
    return carematch::observability::service_main<carematch::providers::app>(
        "providers", "config/providers.toml", &carematch::providers::read_config, argc, argv);
}
