// orders' endpoint table.
#include "context.hpp"

namespace carematch::orders {

namespace handlers {
using boost::asio::awaitable;
awaitable<http::response> get_catalog(context& c, http::request& req);
awaitable<http::response> post_quote(context& c, http::request& req);
awaitable<http::response> place_order(context& c, http::request& req);
awaitable<http::response> list_orders(context& c, http::request& req);
awaitable<http::response> get_order(context& c, http::request& req);
awaitable<http::response> cancel_order(context& c, http::request& req);
awaitable<http::response> start_travel(context& c, http::request& req);
awaitable<http::response> check_in(context& c, http::request& req);
awaitable<http::response> complete(context& c, http::request& req);
awaitable<http::response> internal_transition(context& c, http::request& req);
awaitable<http::response> internal_transitions(context& c, http::request& req);
awaitable<http::response> internal_waiting(context& c, http::request& req);
awaitable<http::response> new_service_code(context& c, http::request& req);
}  // namespace handlers

void app::add_routes(http::router& r) {
    context& c = ctx();
    using handler_fn = boost::asio::awaitable<http::response> (*)(context&, http::request&);
    auto bind = [&c](handler_fn f) { return [&c, f](http::request& req) { return f(c, req); }; };
    namespace h = handlers;
    r.add("GET", "/v1/catalog", bind(&h::get_catalog));
    r.add("POST", "/v1/orders/quote", bind(&h::post_quote));
    r.add("POST", "/v1/orders", bind(&h::place_order));
    r.add("GET", "/v1/orders", bind(&h::list_orders));
    r.add("GET", "/v1/orders/{id}", bind(&h::get_order));
    r.add("POST", "/v1/orders/{id}/cancel", bind(&h::cancel_order));
    r.add("POST", "/v1/orders/{id}/en-route", bind(&h::start_travel));
    r.add("POST", "/v1/orders/{id}/check-in", bind(&h::check_in));
    r.add("POST", "/v1/orders/{id}/complete", bind(&h::complete));
    r.add("POST", "/v1/orders/{id}/service-code", bind(&h::new_service_code));
    r.add("POST", "/v1/internal/orders/{id}/transition", bind(&h::internal_transition));
    r.add("POST", "/v1/internal/orders/transitions", bind(&h::internal_transitions));
    r.add("GET", "/v1/internal/orders/waiting", bind(&h::internal_waiting));
}

}  // namespace carematch::orders
