// carematch-nursery: the nursery app alone on its listener.
#include <carematch/nursery/app.hpp>
#include <carematch/runtime/main.hpp>

int main(int argc, char** argv) {
    return carematch::runtime::service_main(
        argc, argv, "nursery", "config/nursery.toml", {&carematch::nursery::make_app});
}
