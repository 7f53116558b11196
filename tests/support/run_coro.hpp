// Test support: run an awaitable to completion on an io_context, and reach the test PostgreSQL and Redis.
#pragma once

#include <carematch/core/config.hpp>
#include <carematch/core/ids.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>

namespace carematch::test {

/// Runs `a` on `io` until it completes (and whatever else is ready meanwhile); rethrows its exception.
template <class T>
T run_coro(boost::asio::io_context& io, boost::asio::awaitable<T> a) {
    std::optional<T> out;
    std::exception_ptr failure;
    bool done = false;
    boost::asio::co_spawn(io, std::move(a), [&](std::exception_ptr e, T v) {
        failure = e;
        if (!e) {
            out.emplace(std::move(v));
        }
        done = true;
        io.stop();
    });
    io.restart();
    io.run();
    if (!done) {
        throw std::runtime_error("run_coro: the io_context ran out of work before the coroutine finished");
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
    return std::move(*out);
}

inline void run_coro(boost::asio::io_context& io, boost::asio::awaitable<void> a) {
    std::exception_ptr failure;
    bool done = false;
    boost::asio::co_spawn(io, std::move(a), [&](std::exception_ptr e) {
        failure = e;
        done = true;
        io.stop();
    });
    io.restart();
    io.run();
    if (!done) {
        throw std::runtime_error("run_coro: the io_context ran out of work before the coroutine finished");
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
}

/// An environment variable that tests/run.sh sets; a missing one fails the test run loudly.
inline std::string required_env(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') {
        throw std::runtime_error(std::string(name) + " is not set: run the tests through tests/run.sh");
    }
    return v;
}

inline std::string db_url() {
    return required_env("CAREMATCH_TEST_DB_URL");
}

inline core::redis_settings redis_settings() {
    return core::parse_redis_url("CAREMATCH_TEST_REDIS_URL", required_env("CAREMATCH_TEST_REDIS_URL"));
}

/// A schema name no other test uses.
inline std::string unique_schema(const std::string& prefix) {
    return prefix + "_" + core::random_hex(6);
}

}  // namespace carematch::test
