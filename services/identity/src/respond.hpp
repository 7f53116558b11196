// Shorthands for identity's problem answers.
#pragma once

#include <carematch/core/error.hpp>
#include <carematch/http/message.hpp>

#include <string>

namespace carematch::identity::handlers {

inline http::response problem(const http::request& req, const core::problem& p) {
    return http::problem_response(p, req.request_id);
}

inline http::response problem(const http::request& req,
                              core::errc e,
                              std::string detail = {},
                              std::string field = {}) {
    return problem(req, core::make_problem(e, std::move(detail), std::move(field)));
}

inline http::response no_content() {
    http::response r;
    r.status = 204;
    return r;
}

}  // namespace carematch::identity::handlers
