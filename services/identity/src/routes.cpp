// identity's endpoint table.
#include "context.hpp"
#include "handlers.hpp"

namespace carematch::identity {

void app::add_routes(http::router& r) {
    context& c = ctx();
    using handler_fn = boost::asio::awaitable<http::response> (*)(context&, http::request&);
    auto bind = [&c](handler_fn f) { return [&c, f](http::request& req) { return f(c, req); }; };
    namespace h = handlers;
    r.add("POST", "/v1/auth/register", bind(&h::register_family));
    r.add("POST", "/v1/auth/register/provider", bind(&h::register_provider));
    r.add("POST", "/v1/auth/login", bind(&h::login));
    r.add("POST", "/v1/auth/refresh", bind(&h::refresh));
    r.add("POST", "/v1/auth/logout", bind(&h::logout));
    r.add("POST", "/v1/auth/password", bind(&h::change_password));
    r.add("GET", "/v1/auth/me", bind(&h::me));
    r.add("POST", "/v1/auth/workers", bind(&h::create_worker));
    r.add("POST", "/v1/admin/users", bind(&h::create_staff_or_admin));
    r.add("GET", "/v1/regions", bind(&h::list_regions));
    r.add("POST", "/v1/regions", bind(&h::create_region));
    r.add("PATCH", "/v1/regions/{id}", bind(&h::update_region));
    r.add("POST", "/v1/recipients", bind(&h::create_recipient));
    r.add("GET", "/v1/recipients", bind(&h::list_recipients));
    r.add("GET", "/v1/recipients/{id}", bind(&h::get_recipient));
    r.add("PATCH", "/v1/recipients/{id}", bind(&h::update_recipient));
    r.add("DELETE", "/v1/recipients/{id}", bind(&h::delete_recipient));
    r.add("POST", "/v1/recipients/{id}/consents", bind(&h::grant_consent));
    r.add("DELETE", "/v1/recipients/{id}/consents/{purpose}", bind(&h::withdraw_consent));
    r.add("GET", "/v1/internal/recipients/{id}", bind(&h::internal_get_recipient));
}

}  // namespace carematch::identity
