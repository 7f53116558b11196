// carematch-complaints: the complaints app alone on its listener.
#include <carematch/complaints/app.hpp>
#include <carematch/runtime/main.hpp>

int main(int argc, char** argv) {
    return carematch::runtime::service_main(
        argc, argv, "complaints", "config/complaints.toml", {&carematch::complaints::make_app});
}
