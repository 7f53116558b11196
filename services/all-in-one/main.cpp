// carematch-all-in-one: every service app on one listener; each app owns its URL prefixes.
#include <carematch/complaints/app.hpp>
#include <carematch/identity/app.hpp>
#include <carematch/matching/app.hpp>
#include <carematch/nursery/app.hpp>
#include <carematch/orders/app.hpp>
#include <carematch/providers/app.hpp>
#include <carematch/ratings/app.hpp>
#include <carematch/realtime/app.hpp>
#include <carematch/runtime/main.hpp>
#include <carematch/supervision/app.hpp>

int main(int argc, char** argv) {
    namespace cm = carematch;
    return cm::runtime::service_main(argc,
                                     argv,
                                     "all-in-one",
                                     "config/all-in-one.toml",
                                     {&cm::identity::make_app,
                                      &cm::orders::make_app,
                                      &cm::providers::make_app,
                                      &cm::nursery::make_app,
                                      &cm::matching::make_app,
                                      &cm::ratings::make_app,
                                      &cm::complaints::make_app,
                                      &cm::realtime::make_app,
                                      &cm::supervision::make_app});
}
