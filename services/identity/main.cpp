// carematch-identity: the identity app alone on its listener.
#include <carematch/identity/app.hpp>
#include <carematch/runtime/main.hpp>

int main(int argc, char** argv) {
    return carematch::runtime::service_main(
        argc, argv, "identity", "config/identity.toml", {&carematch::identity::make_app});
}
