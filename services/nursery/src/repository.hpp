// All SQL of nursery, behind functions that take the caller's transaction.
#pragma once

#include "logic.hpp"

#include <carematch/auth/sealer.hpp>

#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace carematch::nursery::repo {

struct class_row {
    std::string id;
    std::string band;
    int caregivers = 0;
    int places = 0;
};

struct nursery_row {
    std::string id;  // the providers organisation
    std::string name;
    std::string kind;
    std::string registration_number;
    std::int64_t community_id = 0;
    std::string address;
    double lat = 0;
    double lon = 0;
    std::string opens;   // HH:MM
    std::string closes;  // HH:MM
    int licensed_places = 0;
    int affordable_percent = 0;
    prices price;
    std::vector<class_row> classes;
};

/// Writes the profile and its classes (by band; bands left out are removed when no booking names them).
/// Future days already on the calendar take the new places; a day holding more children than that makes the
/// write fail with pqxx::check_violation (the caller answers 409).
void upsert_nursery(pqxx::transaction_base& tx, const nursery_row& n, day today);
std::optional<nursery_row> find_nursery(pqxx::transaction_base& tx, const std::string& id);
/// The nursery that has this class, with its classes.
std::optional<nursery_row> find_by_class(pqxx::transaction_base& tx, const std::string& class_id);

struct vacancy {
    std::string date;
    int places = 0;
};
struct search_hit {
    nursery_row nursery;  // classes: the one of the band
    double distance_m = 0;
    std::vector<vacancy> vacancies;
};
std::vector<search_hit> search(pqxx::transaction_base& tx,
                               double lat,
                               double lon,
                               double radius_m,
                               const std::string& band,
                               const std::string& kind,
                               const std::vector<std::string>& days);

struct booking_row {
    std::string id;
    std::string family_id;
    std::string child_id;
    std::string nursery_id;
    std::string class_id;
    std::string mode;
    std::optional<int> hours;
    std::vector<std::string> days;  // sorted
    std::string status;
    int priority = 0;
    bool affordable = false;
    std::int64_t price_fen = 0;
    std::string created_at;
    std::string updated_at;
};

void insert_booking(pqxx::transaction_base& tx, const booking_row& b);
enum class take_result { taken, full };
/// Takes a place in the class and the nursery on every day of `b` (eligible families from the affordable
/// share first), and records the days. On `full` the caller rolls back its savepoint. Throws
/// pqxx::unique_violation when the child already has a place on one of the days.
take_result take_places(pqxx::transaction_base& tx,
                        const nursery_row& n,
                        const class_row& c,
                        const booking_row& b);
/// Gives back the places a confirmed booking holds.
void release_places(pqxx::transaction_base& tx, const booking_row& b);
void set_status(pqxx::transaction_base& tx, const std::string& id, const std::string& status);
std::optional<booking_row> find_booking(pqxx::transaction_base& tx,
                                        const std::string& id,
                                        bool for_update = false);
/// Waitlisted bookings of the class that ask for one of `days` and start no earlier than `today`: by
/// priority, then time.
std::vector<booking_row> waitlist(pqxx::transaction_base& tx,
                                  const std::string& class_id,
                                  const std::vector<std::string>& days,
                                  const std::string& today);
/// 1 for the head of its class's waitlist: the waitlisted bookings ahead of it (higher priority, or the same
/// and earlier) that ask for one of its days, plus one.
int waitlist_position(pqxx::transaction_base& tx, const booking_row& b);
/// Waitlisted bookings whose first day is before `today` become expired; returns them.
std::vector<booking_row> expire_waitlist(pqxx::transaction_base& tx, const std::string& today);
std::vector<booking_row> list_for_family(pqxx::transaction_base& tx,
                                         const std::string& family_id,
                                         const std::string& after_created,
                                         const std::string& after_id,
                                         int limit);
void add_history(pqxx::transaction_base& tx,
                 const std::string& booking_id,
                 const std::string& action,
                 const std::string& actor_id,
                 const std::string& actor_role,
                 const std::string& detail);

struct attendance_row {
    std::string booking_id;
    std::string child_id;
    std::string day;
    std::optional<std::string> checked_in;
    std::optional<std::string> checked_out;
    bool no_show = false;
};
std::vector<attendance_row> attendance(pqxx::transaction_base& tx,
                                       const std::string& nursery_id,
                                       const std::string& day);
std::optional<attendance_row> find_day(pqxx::transaction_base& tx,
                                       const std::string& booking_id,
                                       const std::string& day);
/// Conditional attendance marks: false when the day is not in the state the mark needs.
bool check_in(pqxx::transaction_base& tx, const std::string& booking_id, const std::string& day);
bool check_out(pqxx::transaction_base& tx, const std::string& booking_id, const std::string& day);
bool no_show(pqxx::transaction_base& tx, const std::string& booking_id, const std::string& day);

struct pickup_row {
    std::string name;
    std::string phone;
    std::string relation;
};
// Pickup persons are sealed whole (auth::sealer) and kept unique per child by the phone's keyed index.
void set_pickups(pqxx::transaction_base& tx,
                 const auth::sealer& s,
                 const std::string& child_id,
                 const std::string& family_id,
                 const std::vector<pickup_row>& people);
/// By phone number.
std::vector<pickup_row> pickups(pqxx::transaction_base& tx,
                                const auth::sealer& s,
                                const std::string& child_id);
/// Seals the pickup persons written before migration 005 in plain text, then validates the check that none is
/// left. Returns how many rows it sealed.
int seal_plain_personal_data(pqxx::transaction_base& tx, const auth::sealer& s);
/// Whether the nursery holds (or held) a booking of the child: it may then read the pickup list.
bool nursery_has_child(pqxx::transaction_base& tx,
                       const std::string& nursery_id,
                       const std::string& child_id);

struct figures_row {
    int nurseries = 0;
    std::int64_t licensed_places = 0;
    std::int64_t place_days = 0;  // licensed places × days of the month
    std::int64_t taken_days = 0;  // children-days booked in the month
};
figures_row figures(pqxx::transaction_base& tx,
                    std::int64_t community_id,
                    const std::string& first,
                    const std::string& last);

}  // namespace carematch::nursery::repo
