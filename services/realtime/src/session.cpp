// One socket's life: token, audiences, replay of what it missed, live frames, expiry.
#include "context.hpp"

#include <carematch/auth/caller.hpp>
#include <carematch/auth/jwt.hpp>
#include <carematch/core/log.hpp>
#include <carematch/http/websocket.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <mutex>

namespace carematch::realtime {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

// Close codes a client acts on.
constexpr std::uint16_t unauthenticated = 4401;  // no, a bad or an expired token: refresh it and reconnect
constexpr std::uint16_t nothing_to_receive = 4403;
constexpr std::uint16_t too_many_sockets = 4429;  // the account holds realtime.max_sockets_per_user already

// One socket as the hub sees it. Frames that arrive while the replay is read are held, then sent after it
// in position order, each once.
class subscription final : public hub::listener {
  public:
    subscription(std::shared_ptr<http::websocket> ws, context& c, std::size_t hold_limit)
        : ws_(std::move(ws)), c_(c), hold_limit_(hold_limit) {}

    void deliver(const position& at, const std::string& frame) override {
        std::lock_guard lock(mutex_);
        if (!live_) {
            if (held_.size() >= hold_limit_) {
                ws_->close(1013, "client too slow; reconnect");
                return;
            }
            held_.emplace_back(at, frame);
            return;
        }
        send(at, frame);
    }

    // The replay, then what was held; from now on frames go straight out.
    void go_live(position from, std::vector<std::pair<position, std::string>> replay) {
        std::lock_guard lock(mutex_);
        sent_ = from;
        for (auto& [at, f] : replay) {
            if (send(at, f)) {
                ++c_.count.resumed;
            }
        }
        for (auto& [at, f] : held_) {
            send(at, f);
        }
        held_.clear();
        live_ = true;
    }

  private:
    bool send(const position& at, const std::string& frame) {
        if (at <= sent_) {
            return false;  // replayed already, or published twice
        }
        sent_ = at;
        if (ws_->send(frame)) {
            ++c_.count.delivered;
        }
        return true;
    }

    std::shared_ptr<http::websocket> ws_;
    context& c_;
    std::size_t hold_limit_;
    std::mutex mutex_;
    bool live_ = false;
    position sent_;
    std::vector<std::pair<position, std::string>> held_;
};

std::string text_member(const json::value& v, const char* key) {
    if (!v.is_object()) {
        return {};
    }
    const auto* m = v.as_object().if_contains(key);
    return m != nullptr && m->is_string() ? std::string(m->as_string()) : std::string();
}

// Waits for {"type":"auth","token":…,"last_event_id":…}; closes the socket when none comes in time.
awaitable<std::optional<auth::caller>> first_message_auth(context& c,
                                                          const std::shared_ptr<http::websocket>& ws,
                                                          std::string& last) {
    boost::asio::steady_timer deadline(co_await boost::asio::this_coro::executor, c.cfg.auth_timeout);
    deadline.async_wait([ws](const boost::system::error_code& ec) {
        if (!ec) {
            ws->close(unauthenticated, "send {\"type\":\"auth\",\"token\":…} first");
        }
    });
    auto m = co_await ws->read();
    deadline.cancel();
    if (!m) {
        co_return std::nullopt;
    }
    boost::system::error_code ec;
    auto doc = json::parse(*m, ec);
    if (ec || text_member(doc, "type") != "auth") {
        ws->close(unauthenticated, "the first message must be {\"type\":\"auth\",\"token\":…}");
        co_return std::nullopt;
    }
    auto who = c.verifier.verify(text_member(doc, "token"), auth::token_type::access);
    if (!who) {
        ws->close(unauthenticated, "the token is not valid: refresh it and reconnect");
        co_return std::nullopt;
    }
    if (auto l = text_member(doc, "last_event_id"); !l.empty()) {
        last = l;
    }
    co_return *who;
}

std::string control(const char* type, const position& at) {
    return json::serialize(json::object{{"type", type}, {"id", at.text()}});
}

}  // namespace

awaitable<void> serve(context& c,
                      std::shared_ptr<http::websocket> ws,
                      std::optional<auth::caller> who,
                      std::string last) {
    if (!who) {
        who = co_await first_message_auth(c, ws, last);
        if (!who) {
            ++c.count.refused;
            co_return;
        }
    }
    const auto audiences = audiences_of(*who);
    if (audiences.empty()) {
        ws->close(nothing_to_receive, "this role receives no live updates");
        co_return;
    }
    if (!c.hub.enter(who->id, c.cfg.max_sockets_per_user)) {
        ++c.count.refused;
        ws->close(too_many_sockets, "too many live sockets for this account: close one first");
        co_return;
    }
    struct leave {
        context& c;
        const std::string& user;
        ~leave() { c.hub.leave(user); }
    } counted{c, who->id};
    // The token's end ends the socket: the client refreshes and reconnects with its last id.
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(c.clock.now().time_since_epoch()).count();
    boost::asio::steady_timer expiry(co_await boost::asio::this_coro::executor,
                                     std::chrono::seconds(std::max<std::int64_t>(0, who->expires_at - now)));
    expiry.async_wait([ws, &c](const boost::system::error_code& ec) {
        if (!ec) {
            ++c.count.refused;
            ws->close(unauthenticated, "token expired: refresh it and reconnect");
        }
    });

    // Where to start: the client's last position when the retention still covers it, else now (resync).
    const position head = co_await c.feed.head();
    position from = head;
    bool resync = false;
    if (!last.empty()) {
        const auto at = position::parse(last);
        const auto now_ms = static_cast<std::uint64_t>(now) * 1000;
        const auto window = static_cast<std::uint64_t>(c.cfg.retention.count()) * 1000;
        if (at && *at <= head && at->ms + window > now_ms) {
            from = *at;
        } else {
            resync = true;
        }
    }
    auto sub = std::make_shared<subscription>(ws, c, c.cfg.send_queue);
    c.hub.add(audiences, sub);
    struct unregister {
        context& c;
        const std::vector<std::string>& audiences;
        const subscription* s;
        ~unregister() { c.hub.remove(audiences, s); }
    } guard{c, audiences, sub.get()};

    // What was published since `from` (and, without a last id, in the moment before registering).
    std::vector<std::pair<position, std::string>> replay;
    for (const auto& a : audiences) {
        auto part = co_await c.feed.since(a, from, c.cfg.send_queue + 1);
        std::move(part.begin(), part.end(), std::back_inserter(replay));
    }
    if (replay.size() > c.cfg.send_queue) {
        replay.clear();  // more than the client could take in: it refetches instead
        resync = true;
        from = co_await c.feed.head();
    }
    std::sort(replay.begin(), replay.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    if (resync) {
        ++c.count.resyncs;
    }
    ws->send(control(resync ? "resync" : "ready", from));
    sub->go_live(from, std::move(replay));

    while (auto m = co_await ws->read()) {
        boost::system::error_code ec;
        auto doc = json::parse(*m, ec);
        if (!ec && text_member(doc, "type") == "ping") {
            ws->send(R"({"type":"pong"})");
        }
    }
    expiry.cancel();
}

}  // namespace carematch::realtime
