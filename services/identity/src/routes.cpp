// identity's endpoint table. Accounts, tokens and recipients arrive with their own issue; today the service
// serves only the operational endpoints that main mounts.
#include "app.hpp"

namespace carematch::identity {

void app::add_routes(http::router& r) {
    (void)r;
}

}  // namespace carematch::identity
