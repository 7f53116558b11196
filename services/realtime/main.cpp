// carematch-realtime: the realtime app alone on its listener.
#include <carematch/realtime/app.hpp>
#include <carematch/runtime/main.hpp>

int main(int argc, char** argv) {
    return carematch::runtime::service_main(
        argc, argv, "realtime", "config/realtime.toml", {&carematch::realtime::make_app});
}
