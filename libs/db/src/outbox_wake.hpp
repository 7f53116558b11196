// Between the pool and the outbox relays of this process: a transaction that enqueued events wakes the relays
// of their schemas when it commits (outbox.cpp).
#pragma once

namespace carematch::db::detail {

/// A transaction begins on this thread: forget what an earlier one enqueued.
void transaction_began() noexcept;
/// The transaction on this thread committed: wake the relays of the schemas it enqueued events for.
void transaction_committed() noexcept;

}  // namespace carematch::db::detail
