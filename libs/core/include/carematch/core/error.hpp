// Expected outcomes as error codes (core::errc) and their mapping to HTTP problems.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace carematch::core {

/// The outcomes a handler or repository may return instead of a value.
enum class errc {
    ok = 0,
    not_found,
    conflict,
    invalid_argument,
    unauthenticated,
    forbidden,
    precondition_failed,
    unavailable,
    too_many_requests,
};

const boost::system::error_category& carematch_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), carematch_category()};
}

template <class T>
using result = boost::system::result<T, boost::system::error_code>;

/// The HTTP status code that answers `e` (404, 409, 422, 401, 403, 412, 503, 429; 500 otherwise).
int http_status(errc e) noexcept;

/// The HTTP status for any error code: our own category maps through http_status(errc), others 500.
int http_status(const boost::system::error_code& ec) noexcept;

/// A problem detail (RFC 9457) ready to be answered by the HTTP layer.
struct problem {
    int status = 500;
    std::string title;
    std::string detail;
    std::string field;  // the offending input field, when there is one
};

/// A problem for `e` with a standard title and the given detail and field.
problem make_problem(errc e, std::string detail = {}, std::string field = {});

/// An exception carrying a problem; thrown by code that cannot return a result (e.g. config parsing),
/// and answered as that problem by the HTTP dispatcher.
class problem_error : public std::runtime_error {
  public:
    explicit problem_error(problem p) : std::runtime_error(p.detail), problem_(std::move(p)) {}
    const problem& get() const noexcept { return problem_; }

  private:
    problem problem_;
};

/// An infrastructure dependency (PostgreSQL, Redis, a peer service) cannot be reached: answered 503.
class unavailable_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// Too much work queued: a bounded queue is full or a request waited past its deadline for a connection or a
/// thread. Answered 503 with Retry-After at once, instead of queueing.
class overloaded_error : public unavailable_error {
  public:
    using unavailable_error::unavailable_error;
};

/// The standard reason phrase of an HTTP status, e.g. "Not Found".
std::string_view status_title(int status) noexcept;

}  // namespace carematch::core

template <>
struct boost::system::is_error_code_enum<carematch::core::errc> : std::true_type {};
