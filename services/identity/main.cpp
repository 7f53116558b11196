// carematch-identity: the identity app alone on its listener.
#include "src/app.hpp"

#include <carematch/observability/service_main.hpp>

int main(int argc, char** argv) {
    return carematch::observability::service_main<carematch::identity::app>(
        "identity", "config/identity.toml", &carematch::identity::read_config, argc, argv);
}
