// Who is told of a domain event, and what: the rules that keep a family's events with that family. Pure.
#pragma once

#include <carematch/auth/caller.hpp>
#include <carematch/events/consumer.hpp>

#include <string>
#include <vector>

namespace carematch::realtime {

/// One message for one audience: "u:<user id>" (a family or a worker), "o:<organisation id>" (a provider's
/// staff), "c:<community id>" (community staff).
struct delivery {
    std::string audience;
    std::string message;  // JSON: {"type": "...", "data": {...}}
};

/// The messages `e` becomes. Unknown types and events without the ids they need become none.
std::vector<delivery> fan_out(const events::event& e);

/// The audiences a caller listens to: its own user id, its organisation (provider), its communities (staff).
/// Empty for a role that receives nothing (admin, service).
std::vector<std::string> audiences_of(const auth::caller& who);

}  // namespace carematch::realtime
