// carematch-providers: the providers app alone on its listener.
#include <carematch/providers/app.hpp>
#include <carematch/runtime/main.hpp>

int main(int argc, char** argv) {
    return carematch::runtime::service_main(
        argc, argv, "providers", "config/providers.toml", {&carematch::providers::make_app});
}
