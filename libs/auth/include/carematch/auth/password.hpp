// argon2id password hashing on a pool of its own threads, so that hashing never stalls an io thread.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace carematch::auth {

struct password_settings {
    unsigned long long opslimit = 2;          // argon2id passes
    std::size_t memlimit = 19 * 1024 * 1024;  // bytes
    std::size_t threads = 2;                  // hashing threads
    int queue_limit = 64;                     // hashes waiting for a thread; more: core::overloaded_error
    std::chrono::milliseconds acquire_timeout{2'000};  // waited longer for a thread: overloaded, not run
};

class password_hasher {
  public:
    explicit password_hasher(password_settings s = {});
    ~password_hasher();
    password_hasher(const password_hasher&) = delete;
    password_hasher& operator=(const password_hasher&) = delete;

    /// The argon2id string (with salt and parameters) of `password`; runs on the hasher's threads. Like
    /// verify(), throws core::overloaded_error at once while queue_limit hashes wait, or when this one waited
    /// longer than acquire_timeout for a thread: overload is answered, not queued.
    boost::asio::awaitable<std::string> hash(std::string password);

    /// hash() on the calling thread: for start-up work only, never on an io thread.
    std::string hash_blocking(const std::string& password) const;

    /// True when `password` matches `stored`; false also for a malformed `stored`.
    boost::asio::awaitable<bool> verify(std::string password, std::string stored);

    struct impl;  // defined in password.cpp

  private:
    std::shared_ptr<impl> impl_;
};

}  // namespace carematch::auth
