// carematch-supervision: the supervision app alone on its listener.
#include <carematch/runtime/main.hpp>
#include <carematch/supervision/app.hpp>

int main(int argc, char** argv) {
    return carematch::runtime::service_main(
        argc, argv, "supervision", "config/supervision.toml", {&carematch::supervision::make_app});
}
