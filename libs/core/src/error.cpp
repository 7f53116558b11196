// The carematch error category and the errc → HTTP status mapping.
#include <carematch/core/error.hpp>

namespace carematch::core {
namespace {

class category final : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "carematch"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::ok:
                return "ok";
            case errc::not_found:
                return "not found";
            case errc::conflict:
                return "conflict";
            case errc::invalid_argument:
                return "invalid argument";
            case errc::unauthenticated:
                return "unauthenticated";
            case errc::forbidden:
                return "forbidden";
            case errc::precondition_failed:
                return "precondition failed";
            case errc::unavailable:
                return "unavailable";
            case errc::too_many_requests:
                return "too many requests";
        }
        return "unknown error";
    }
};

}  // namespace

const boost::system::error_category& carematch_category() noexcept {
    static const category instance;
    return instance;
}

int http_status(errc e) noexcept {
    switch (e) {
        case errc::ok:
            return 200;
        case errc::not_found:
            return 404;
        case errc::conflict:
            return 409;
        case errc::invalid_argument:
            return 422;
        case errc::unauthenticated:
            return 401;
        case errc::forbidden:
            return 403;
        case errc::precondition_failed:
            return 412;
        case errc::unavailable:
            return 503;
        case errc::too_many_requests:
            return 429;
    }
    return 500;
}

int http_status(const boost::system::error_code& ec) noexcept {
    if (ec.category() == carematch_category()) {
        return http_status(static_cast<errc>(ec.value()));
    }
    return 500;
}

std::string_view status_title(int status) noexcept {
    switch (status) {
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 409:
            return "Conflict";
        case 412:
            return "Precondition Failed";
        case 413:
            return "Content Too Large";
        case 415:
            return "Unsupported Media Type";
        case 422:
            return "Unprocessable Content";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 503:
            return "Service Unavailable";
        default:
            return "Error";
    }
}

problem make_problem(errc e, std::string detail, std::string field) {
    problem p;
    p.status = http_status(e);
    p.title = std::string(status_title(p.status));
    p.detail = std::move(detail);
    p.field = std::move(field);
    return p;
}

}  // namespace carematch::core
