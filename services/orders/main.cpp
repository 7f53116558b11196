// carematch-orders: the orders app alone on its listener.
#include <carematch/orders/app.hpp>
#include <carematch/runtime/main.hpp>

int main(int argc, char** argv) {
    return carematch::runtime::service_main(
        argc, argv, "orders", "config/orders.toml", {&carematch::orders::make_app});
}
