// Shorthands for identity's problem answers.
#pragma once

#include <carematch/core/error.hpp>
#include <carematch/http/message.hpp>

#include <string>

namespace carematch::identity::handlers {

using http::problem;

inline http::response no_content() {
    http::response r;
    r.status = 204;
    return r;
}

}  // namespace carematch::identity::handlers
