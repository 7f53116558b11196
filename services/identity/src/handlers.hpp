// identity's endpoint handlers: parse → validate → authorise → call the repository → respond.
#pragma once

#include "context.hpp"

#include <carematch/http/message.hpp>

namespace carematch::identity::handlers {

using boost::asio::awaitable;

awaitable<http::response> register_family(context& c, http::request& req);
awaitable<http::response> register_provider(context& c, http::request& req);
awaitable<http::response> login(context& c, http::request& req);
awaitable<http::response> refresh(context& c, http::request& req);
awaitable<http::response> logout(context& c, http::request& req);
awaitable<http::response> change_password(context& c, http::request& req);
awaitable<http::response> me(context& c, http::request& req);
awaitable<http::response> create_worker(context& c, http::request& req);
awaitable<http::response> create_staff_or_admin(context& c, http::request& req);

awaitable<http::response> list_regions(context& c, http::request& req);
awaitable<http::response> create_region(context& c, http::request& req);
awaitable<http::response> update_region(context& c, http::request& req);

awaitable<http::response> create_recipient(context& c, http::request& req);
awaitable<http::response> list_recipients(context& c, http::request& req);
awaitable<http::response> get_recipient(context& c, http::request& req);
awaitable<http::response> update_recipient(context& c, http::request& req);
awaitable<http::response> delete_recipient(context& c, http::request& req);
awaitable<http::response> grant_consent(context& c, http::request& req);
awaitable<http::response> withdraw_consent(context& c, http::request& req);
awaitable<http::response> internal_get_recipient(context& c, http::request& req);

}  // namespace carematch::identity::handlers
