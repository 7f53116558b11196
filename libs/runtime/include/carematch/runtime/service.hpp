// What every service app is to the process that runs it: start-up, routes, probes, gauges, background work
// and peers. A service derives from runtime::service and adds only its own routes, start-up and tasks.
#pragma once

#include <carematch/http/peer.hpp>
#include <carematch/http/router.hpp>
#include <carematch/observability/endpoints.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace carematch::db {
class pool;
struct migration;
}  // namespace carematch::db

namespace carematch::core {
class clock;
}
namespace carematch::events {
class consumer;
}
namespace carematch::auth {
class token_verifier;
}

namespace carematch::runtime {

struct deps;

/// The system's wall clock: what a service runs on unless a test gives it another.
const core::clock& wall_clock();

class service {
  public:
    virtual ~service();
    service(const service&) = delete;
    service& operator=(const service&) = delete;

    /// The service's name ("orders"): its config table, its log field, its metric label.
    const std::string& name() const noexcept;

    /// Fails fast, blocking, before serving: throws when PostgreSQL is unreachable, a migration fails or a
    /// key is malformed; then runs the service's own start-up (on_start).
    void start();

    /// The service's own routes.
    virtual void add_routes(http::router& r) = 0;

    /// The service's API as an OpenAPI 3.1 document (JSON): every route add_routes adds, documented
    /// (services/<name>/openapi.json, embedded at build time).
    virtual std::string_view openapi() const = 0;

    /// Readiness of the service's PostgreSQL and Redis ("postgres", "redis").
    std::vector<observability::probe> probes();

    /// The pool gauges of this service, labelled service="<name>".
    void add_gauges(observability::metrics& m);

    /// The outbox relay and every task added with add_task/add_loop, until stop(). A task that throws is
    /// logged with its name and started again after a backoff (100 ms doubling to 30 s); none is dropped.
    boost::asio::awaitable<void> run();
    void stop();

    db::pool& pool();

    /// The access-token verifier of this service (its auth.* keys).
    const auth::token_verifier& verifier() const;

    /// The peers this service reads from, by service name ("identity", "providers").
    std::vector<std::string> peer_names() const;
    /// Where peer `name` listens (tests and all-in-one learn it after binding); unknown names are ignored.
    void set_peer(std::string_view name, const http::endpoint& where);

  protected:
    /// `d` is the service's context (a runtime::deps); `migrations` are applied to its schema at start.
    service(std::string name, std::unique_ptr<deps> d, const std::vector<db::migration>& migrations);

    deps& base() noexcept { return *deps_; }
    const deps& base() const noexcept { return *deps_; }

    /// The service's own start-up, after the database, migrations and keys are in place.
    virtual void on_start() {}

    /// The service's own part of stop(): wake what waits outside the runtime's tasks (e.g. a subscriber).
    virtual void on_stop() {}

    /// The service's own gauges (called by add_gauges); `label` is `{service="<name>"}`.
    virtual void add_own_gauges(observability::metrics& /*m*/, const std::string& /*label*/) {}

    /// Runs `task` now and then every `interval` (from one run's start to the next's) until stop(); a run
    /// longer than `interval` is followed by the next at once. A failure is logged as `name` and the task
    /// runs again at the next interval.
    void add_task(std::string name,
                  std::chrono::steady_clock::duration interval,
                  std::function<boost::asio::awaitable<void>()> task);

    /// Runs `loop` (which returns only when the service stops) under supervision.
    void add_loop(std::string name, std::function<boost::asio::awaitable<void>()> loop);

    /// Runs `c` (from deps::make_consumer) under supervision until stop(); its lag, handled events and dead
    /// letters become gauges.
    void add_consumer(std::unique_ptr<events::consumer> c);

    /// Declares peer `name`, whose address lives in the service's config at `where`.
    void add_peer(std::string name, http::endpoint& where);

  private:
    struct task {
        std::string name;
        std::function<boost::asio::awaitable<void>()> loop;
    };
    boost::asio::awaitable<void> run_from(std::size_t first);
    boost::asio::awaitable<void> supervise(task& t);

    std::string name_;
    std::unique_ptr<deps> deps_;
    const std::vector<db::migration>& migrations_;
    std::deque<task> tasks_;  // a deque: running loops keep references to their task
    std::vector<std::pair<std::string, http::endpoint*>> peers_;
    std::vector<std::unique_ptr<events::consumer>> consumers_;
};

/// A service whose handlers share `Context`, a runtime::deps of its own (complete where ctx() is used).
template <class Context>
class service_with : public service {
  protected:
    using service::service;
    Context& ctx() noexcept { return static_cast<Context&>(base()); }
    const Context& ctx() const noexcept { return static_cast<const Context&>(base()); }
};

}  // namespace carematch::runtime
