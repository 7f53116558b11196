// nursery's routes: every endpoint in one list (the table in README.md follows it).
#include "context.hpp"
#include "handlers.hpp"

namespace carematch::nursery {

void app::add_routes(http::router& r) {
    context& c = ctx();
    using handler_fn = boost::asio::awaitable<http::response> (*)(context&, http::request&);
    auto bind = [&c](handler_fn f) { return [&c, f](http::request& req) { return f(c, req); }; };
    namespace h = handlers;
    r.add("PUT", "/v1/nursery/me", bind(&h::put_nursery));
    r.add("GET", "/v1/nursery/nurseries/{id}", bind(&h::get_nursery));
    r.add("GET", "/v1/nursery/search", bind(&h::search));
    r.add("GET", "/v1/nursery/figures", bind(&h::figures));
    r.add("PUT", "/v1/nursery/children/{id}/pickup-persons", bind(&h::put_pickups));
    r.add("GET", "/v1/nursery/children/{id}/pickup-persons", bind(&h::get_pickups));
    r.add("POST", "/v1/nursery/bookings", bind(&h::book));
    r.add("GET", "/v1/nursery/bookings", bind(&h::list_bookings));
    r.add("GET", "/v1/nursery/bookings/{id}", bind(&h::get_booking));
    r.add("POST", "/v1/nursery/bookings/{id}/cancel", bind(&h::cancel_booking));
    r.add("GET", "/v1/nursery/attendance", bind(&h::attendance));
    r.add("POST", "/v1/nursery/bookings/{id}/days/{day}/check-in", bind(&h::check_in));
    r.add("POST", "/v1/nursery/bookings/{id}/days/{day}/check-out", bind(&h::check_out));
    r.add("POST", "/v1/nursery/bookings/{id}/days/{day}/no-show", bind(&h::no_show));
}

}  // namespace carematch::nursery
