// argon2id via libsodium's crypto_pwhash_str_alg, offloaded to a bounded thread pool.
#include <carematch/auth/password.hpp>
#include <carematch/core/error.hpp>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <sodium.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <stdexcept>

namespace carematch::auth {

namespace asio = boost::asio;

struct password_hasher::impl {
    explicit impl(password_settings s) : settings(s), threads(s.threads) {
        if (sodium_init() < 0) {
            throw std::runtime_error("libsodium failed to initialise");
        }
    }
    password_settings settings;
    asio::thread_pool threads;
    std::atomic<int> waiting{0};
};

namespace {

// Runs `work` on the hasher's threads and resumes the caller on its own executor with the result; refuses
// (core::overloaded_error) when too many wait or when it waited too long.
asio::awaitable<std::string> offload(std::shared_ptr<password_hasher::impl> i,
                                     std::function<std::string()> work) {
    auto token = asio::use_awaitable;
    // Captures nothing: GCC 12 may destroy a lambda temporary of a co_await expression twice.
    co_return co_await asio::async_initiate<decltype(token), void(std::exception_ptr, std::string)>(
        [](auto handler, std::shared_ptr<password_hasher::impl> i, std::function<std::string()> fn) {
            auto ex = asio::get_associated_executor(handler);
            auto work_guard = asio::make_work_guard(ex);
            if (i->waiting.load() >= i->settings.queue_limit) {
                asio::post(ex, [handler = std::move(handler)]() mutable {
                    handler(std::make_exception_ptr(core::overloaded_error("password hashing busy")),
                            std::string());
                });
                return;
            }
            ++i->waiting;
            const auto queued_at = std::chrono::steady_clock::now();
            asio::post(
                i->threads,
                [i, queued_at, fn = std::move(fn), handler = std::move(handler), ex, work_guard]() mutable {
                    --i->waiting;
                    std::exception_ptr failure;
                    std::string out;
                    if (std::chrono::steady_clock::now() - queued_at > i->settings.acquire_timeout) {
                        failure = std::make_exception_ptr(
                            core::overloaded_error("password hashing busy: no thread in time"));
                    } else {
                        try {
                            out = fn();
                        } catch (...) {
                            failure = std::current_exception();
                        }
                    }
                    asio::post(ex, [handler = std::move(handler), failure, out = std::move(out)]() mutable {
                        handler(failure, std::move(out));
                    });
                    work_guard.reset();
                });
        },
        token,
        std::move(i),
        std::move(work));
}

}  // namespace

password_hasher::password_hasher(password_settings s) : impl_(std::make_shared<impl>(s)) {}
password_hasher::~password_hasher() {
    impl_->threads.join();
}

namespace {

std::string argon2id(const password_settings& s, const std::string& password) {
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(
            out, password.data(), password.size(), s.opslimit, s.memlimit, crypto_pwhash_ALG_ARGON2ID13) !=
        0) {
        throw std::runtime_error("password hashing ran out of memory");
    }
    return std::string(out);
}

}  // namespace

std::string password_hasher::hash_blocking(const std::string& password) const {
    return argon2id(impl_->settings, password);
}

asio::awaitable<std::string> password_hasher::hash(std::string password) {
    auto i = impl_;
    // A named function object, not a lambda inside the co_await expression: GCC 12 destroys such a closure
    // temporary twice.
    std::function<std::string()> work = [i, password = std::move(password)]() {
        return argon2id(i->settings, password);
    };
    co_return co_await offload(i, std::move(work));
}

asio::awaitable<bool> password_hasher::verify(std::string password, std::string stored) {
    auto i = impl_;
    std::function<std::string()> work = [password = std::move(password), stored = std::move(stored)]() {
        if (stored.size() >= crypto_pwhash_STRBYTES) {
            return std::string("0");
        }
        return std::string(
            crypto_pwhash_str_verify(stored.c_str(), password.data(), password.size()) == 0 ? "1" : "0");
    };
    std::string ok = co_await offload(i, std::move(work));
    co_return ok == "1";
}

}  // namespace carematch::auth
