// providers' routes: every endpoint in one list (the table in README.md follows it).
#include "context.hpp"
#include "handlers.hpp"

namespace carematch::providers {

void app::add_routes(http::router& r) {
    context& c = ctx();
    using handler_fn = boost::asio::awaitable<http::response> (*)(context&, http::request&);
    auto bind = [&c](handler_fn f) { return [&c, f](http::request& req) { return f(c, req); }; };
    namespace h = handlers;
    r.add("PUT", "/v1/providers/me/organisation", bind(&h::submit_organisation));
    r.add("GET", "/v1/providers/me/organisation", bind(&h::my_organisation));
    r.add("PUT", "/v1/providers/me/canteen", bind(&h::put_canteen));
    r.add("GET", "/v1/providers/organisations", bind(&h::list_organisations));
    r.add("GET", "/v1/providers/organisations/{id}", bind(&h::get_organisation));
    r.add("GET", "/v1/providers/organisations/{id}/canteen", bind(&h::get_canteen));
    r.add("POST", "/v1/providers/organisations/{id}/approve", bind(&h::approve_organisation));
    r.add("POST", "/v1/providers/organisations/{id}/reject", bind(&h::reject_organisation));
    r.add("POST", "/v1/providers/organisations/{id}/suspend", bind(&h::suspend_organisation));
    r.add("GET", "/v1/providers/canteens", bind(&h::canteens));
    r.add("PUT", "/v1/providers/workers/{id}", bind(&h::put_worker));
    r.add("GET", "/v1/providers/workers/{id}", bind(&h::get_worker));
    r.add("POST", "/v1/providers/workers/{id}/suspend", bind(&h::suspend_worker));
    r.add("PUT", "/v1/providers/workers/{id}/availability", bind(&h::put_availability));
    r.add("GET", "/v1/providers/workers/{id}/availability", bind(&h::get_availability));
    r.add("POST", "/v1/providers/me/online", bind(&h::go_online));
    r.add("POST", "/v1/providers/me/heartbeat", bind(&h::go_online));
    r.add("POST", "/v1/providers/me/offline", bind(&h::go_offline));
    r.add("GET", "/v1/internal/providers/candidates", bind(&h::candidates));
    r.add("GET", "/v1/internal/providers/streets/{street}/workers", bind(&h::street_workers));
}

}  // namespace carematch::providers
