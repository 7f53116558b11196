// carematch-orders: the orders app alone on its listener.
#include "src/app.hpp"

#include <carematch/observability/service_main.hpp>

int main(int argc, char** argv) {
    return carematch::observability::service_main<carematch::orders::app>(
        "orders", "config/orders.toml", &carematch::orders::read_config, argc, argv);
}
