// nursery's SQL, as named constants with bound parameters.
#include "repository.hpp"

#include <carematch/db/pool.hpp>

#include <boost/json.hpp>

#include <algorithm>

namespace carematch::nursery::repo {
namespace {

constexpr const char* sql_upsert_nursery =
    "INSERT INTO nurseries (id, name, kind, registration_number, community_id, address, lat, lon, opens, "
    "closes,"
    " licensed_places, affordable_percent, price_full_day_fen, price_half_day_fen, price_hour_fen)"
    " VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9::time, $10::time, $11, $12, $13, $14, $15)"
    " ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind,"
    " registration_number = excluded.registration_number, community_id = excluded.community_id,"
    " address = excluded.address, lat = excluded.lat, lon = excluded.lon, opens = excluded.opens,"
    " closes = excluded.closes, licensed_places = excluded.licensed_places,"
    " affordable_percent = excluded.affordable_percent, price_full_day_fen = excluded.price_full_day_fen,"
    " price_half_day_fen = excluded.price_half_day_fen, price_hour_fen = excluded.price_hour_fen,"
    " updated_at = now()";
constexpr const char* sql_upsert_class =
    "INSERT INTO classes (id, nursery_id, band, caregivers, places) VALUES ($1::uuid, $2::uuid, $3, $4, $5)"
    " ON CONFLICT (nursery_id, band) DO UPDATE SET caregivers = excluded.caregivers, places = excluded.places"
    " RETURNING id::text";
constexpr const char* sql_drop_classes =
    "DELETE FROM classes c WHERE c.nursery_id = $1::uuid AND NOT (c.band = ANY($2::text[]))"
    " AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.class_id = c.id)";
// Future days take the new places (the CHECKs refuse a day that holds more children than that).
constexpr const char* sql_resize_class_days =
    "UPDATE class_days d SET capacity = c.places,"
    " affordable = c.places * $3 / 100"
    " FROM classes c WHERE c.id = d.class_id AND c.nursery_id = $1::uuid AND d.day >= $2::date";
constexpr const char* sql_resize_nursery_days =
    "UPDATE nursery_days SET capacity = $3 WHERE nursery_id = $1::uuid AND day >= $2::date";
const std::string nursery_fields =
    "n.id::text, n.name, n.kind, n.registration_number, n.community_id, n.address, n.lat, n.lon,"
    " to_char(n.opens, 'HH24:MI'), to_char(n.closes, 'HH24:MI'), n.licensed_places, n.affordable_percent,"
    " n.price_full_day_fen, n.price_half_day_fen, n.price_hour_fen";
const std::string sql_nursery_columns = "SELECT " + nursery_fields + " FROM nurseries n";
constexpr const char* sql_classes =
    "SELECT id::text, band, caregivers, places FROM classes WHERE nursery_id = $1::uuid ORDER BY band";

nursery_row read_nursery(const pqxx::row& r) {
    nursery_row n;
    n.id = r[0].as<std::string>();
    n.name = r[1].as<std::string>();
    n.kind = r[2].as<std::string>();
    n.registration_number = r[3].as<std::string>();
    n.community_id = r[4].as<std::int64_t>();
    n.address = r[5].as<std::string>();
    n.lat = r[6].as<double>();
    n.lon = r[7].as<double>();
    n.opens = r[8].as<std::string>();
    n.closes = r[9].as<std::string>();
    n.licensed_places = r[10].as<int>();
    n.affordable_percent = r[11].as<int>();
    n.price = prices{r[12].as<std::int64_t>(), r[13].as<std::int64_t>(), r[14].as<std::int64_t>()};
    return n;
}

void load_classes(pqxx::transaction_base& tx, nursery_row& n) {
    for (const auto& r : tx.exec_params(sql_classes, n.id)) {
        n.classes.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<int>(), r[3].as<int>()});
    }
}

}  // namespace

void upsert_nursery(pqxx::transaction_base& tx, const nursery_row& n, day today) {
    tx.exec_params(sql_upsert_nursery,
                   n.id,
                   n.name,
                   n.kind,
                   n.registration_number,
                   n.community_id,
                   n.address,
                   n.lat,
                   n.lon,
                   n.opens,
                   n.closes,
                   n.licensed_places,
                   n.affordable_percent,
                   n.price.full_day_fen,
                   n.price.half_day_fen,
                   n.price.hour_fen);
    std::vector<std::string> bands;
    for (const auto& c : n.classes) {
        tx.exec_params(sql_upsert_class, c.id, n.id, c.band, c.caregivers, c.places);
        bands.push_back(c.band);
    }
    tx.exec_params(sql_drop_classes, n.id, db::text_array(bands));
    tx.exec_params(sql_resize_class_days, n.id, format_day(today), n.affordable_percent);
    tx.exec_params(sql_resize_nursery_days, n.id, format_day(today), n.licensed_places);
}

std::optional<nursery_row> find_nursery(pqxx::transaction_base& tx, const std::string& id) {
    auto r = tx.exec_params(sql_nursery_columns + " WHERE n.id = $1::uuid", id);
    if (r.empty()) {
        return std::nullopt;
    }
    auto n = read_nursery(r[0]);
    load_classes(tx, n);
    return n;
}

std::optional<nursery_row> find_by_class(pqxx::transaction_base& tx, const std::string& class_id) {
    auto r = tx.exec_params(
        sql_nursery_columns + " JOIN classes c ON c.nursery_id = n.id WHERE c.id = $1::uuid", class_id);
    if (r.empty()) {
        return std::nullopt;
    }
    auto n = read_nursery(r[0]);
    load_classes(tx, n);
    return n;
}

std::vector<search_hit> search(pqxx::transaction_base& tx,
                               double lat,
                               double lon,
                               double radius_m,
                               const std::string& band,
                               const std::string& kind,
                               const std::vector<std::string>& days) {
    // Vacancies per day: the class's free places, bounded by the nursery's free licensed places.
    const std::string sql =
        "SELECT * FROM (SELECT " + nursery_fields +
        ", c.id::text, c.band, c.caregivers, c.places,"
        " 2 * 6371000 * asin(sqrt(power(sin(radians(n.lat - $1) / 2), 2) +"
        "   cos(radians($1)) * cos(radians(n.lat)) * power(sin(radians(n.lon - $2) / 2), 2))) AS dist,"
        " (SELECT json_agg(json_build_object('date', x.day::text, 'places',"
        "     greatest(0, least(coalesce(cd.capacity - cd.taken, c.places),"
        "                       coalesce(nd.capacity - nd.taken, n.licensed_places)))) ORDER BY x.day)::text"
        "   FROM unnest($5::date[]) AS x(day)"
        "   LEFT JOIN class_days cd ON cd.class_id = c.id AND cd.day = x.day"
        "   LEFT JOIN nursery_days nd ON nd.nursery_id = n.id AND nd.day = x.day)"
        " FROM nurseries n JOIN classes c ON c.nursery_id = n.id AND c.band = $4"
        " WHERE ($6 = '' OR n.kind = $6)) s WHERE dist <= $3 ORDER BY dist LIMIT 50";
    std::vector<search_hit> out;
    for (const auto& r : tx.exec_params(sql, lat, lon, radius_m, band, db::text_array(days), kind)) {
        search_hit h;
        h.nursery = read_nursery(r);
        h.nursery.classes.push_back(
            {r[15].as<std::string>(), r[16].as<std::string>(), r[17].as<int>(), r[18].as<int>()});
        h.distance_m = r[19].as<double>();
        if (!r[20].is_null()) {
            const auto doc = boost::json::parse(r[20].as<std::string>());  // kept alive for the loop
            for (const auto& v : doc.as_array()) {
                h.vacancies.push_back(
                    {std::string(v.at("date").as_string()), static_cast<int>(v.at("places").as_int64())});
            }
        }
        out.push_back(std::move(h));
    }
    return out;
}

// ---- bookings ----

namespace {

constexpr const char* sql_booking_columns =
    "SELECT id::text, family_id::text, child_id::text, nursery_id::text, class_id::text, mode, hours,"
    " array_to_json(days)::text, status, priority, affordable, price_fen,"
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
    " to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM bookings";
constexpr const char* sql_insert_booking =
    "INSERT INTO bookings (id, family_id, child_id, nursery_id, class_id, mode, hours, days, status, "
    "priority,"
    " affordable, price_fen) VALUES ($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5::uuid, $6, $7, $8::date[], "
    "$9,"
    " $10, $11, $12)";
constexpr const char* sql_ensure_nursery_days =
    "INSERT INTO nursery_days (nursery_id, day, capacity) SELECT $1::uuid, d, $3 FROM unnest($2::date[]) d"
    " ON CONFLICT DO NOTHING";
constexpr const char* sql_ensure_class_days =
    "INSERT INTO class_days (class_id, day, capacity, affordable) SELECT $1::uuid, d, $3, $4"
    " FROM unnest($2::date[]) d ON CONFLICT DO NOTHING";
constexpr const char* sql_take_affordable =
    "UPDATE class_days SET taken = taken + 1, taken_affordable = taken_affordable + 1"
    " WHERE class_id = $1::uuid AND day = $2::date AND taken_affordable < affordable AND taken < capacity";
constexpr const char* sql_take_regular =
    "UPDATE class_days SET taken = taken + 1"
    " WHERE class_id = $1::uuid AND day = $2::date AND taken - taken_affordable < capacity - affordable";
constexpr const char* sql_take_nursery =
    "UPDATE nursery_days SET taken = taken + 1 WHERE nursery_id = $1::uuid AND day = $2::date AND taken < "
    "capacity";
constexpr const char* sql_booking_day =
    "INSERT INTO booking_days (booking_id, class_id, child_id, day, affordable)"
    " VALUES ($1::uuid, $2::uuid, $3::uuid, $4::date, $5)";
constexpr const char* sql_release_class =
    "UPDATE class_days c SET taken = c.taken - 1, taken_affordable = c.taken_affordable - d.affordable::int"
    " FROM booking_days d WHERE d.booking_id = $1::uuid AND c.class_id = d.class_id AND c.day = d.day";
constexpr const char* sql_release_nursery =
    "UPDATE nursery_days n SET taken = n.taken - 1 FROM booking_days d"
    " WHERE d.booking_id = $1::uuid AND n.nursery_id = $2::uuid AND n.day = d.day";
constexpr const char* sql_drop_booking_days = "DELETE FROM booking_days WHERE booking_id = $1::uuid";
constexpr const char* sql_set_status =
    "UPDATE bookings SET status = $2, updated_at = now() WHERE id = $1::uuid";
constexpr const char* sql_history =
    "INSERT INTO booking_history (booking_id, action, actor_id, actor_role, detail)"
    " VALUES ($1::uuid, $2, $3, $4, $5)";

booking_row read_booking(const pqxx::row& r) {
    booking_row b;
    b.id = r[0].as<std::string>();
    b.family_id = r[1].as<std::string>();
    b.child_id = r[2].as<std::string>();
    b.nursery_id = r[3].as<std::string>();
    b.class_id = r[4].as<std::string>();
    b.mode = r[5].as<std::string>();
    if (!r[6].is_null()) {
        b.hours = r[6].as<int>();
    }
    b.days = db::json_strings(r[7].as<std::string>());
    b.status = r[8].as<std::string>();
    b.priority = r[9].as<int>();
    b.affordable = r[10].as<bool>();
    b.price_fen = r[11].as<std::int64_t>();
    b.created_at = r[12].as<std::string>();
    b.updated_at = r[13].as<std::string>();
    return b;
}

}  // namespace

void insert_booking(pqxx::transaction_base& tx, const booking_row& b) {
    tx.exec_params(sql_insert_booking,
                   b.id,
                   b.family_id,
                   b.child_id,
                   b.nursery_id,
                   b.class_id,
                   b.mode,
                   b.hours,
                   db::text_array(b.days),
                   b.status,
                   b.priority,
                   b.affordable,
                   b.price_fen);
}

take_result take_places(pqxx::transaction_base& tx,
                        const nursery_row& n,
                        const class_row& c,
                        const booking_row& b) {
    const std::string days = db::text_array(b.days);
    tx.exec_params(sql_ensure_nursery_days, n.id, days, n.licensed_places);
    tx.exec_params(
        sql_ensure_class_days, c.id, days, c.places, affordable_places(c.places, n.affordable_percent));
    // Day by day in date order: every booking locks the calendar rows in the same order.
    for (const auto& d : b.days) {
        bool from_affordable = false;
        if (b.affordable && tx.exec_params(sql_take_affordable, c.id, d).affected_rows() == 1) {
            from_affordable = true;
        } else if (tx.exec_params(sql_take_regular, c.id, d).affected_rows() != 1) {
            return take_result::full;
        }
        if (tx.exec_params(sql_take_nursery, n.id, d).affected_rows() != 1) {
            return take_result::full;
        }
        tx.exec_params(sql_booking_day, b.id, c.id, b.child_id, d, from_affordable);
    }
    return take_result::taken;
}

void release_places(pqxx::transaction_base& tx, const booking_row& b) {
    tx.exec_params(sql_release_class, b.id);
    tx.exec_params(sql_release_nursery, b.id, b.nursery_id);
    tx.exec_params(sql_drop_booking_days, b.id);
}

void set_status(pqxx::transaction_base& tx, const std::string& id, const std::string& status) {
    tx.exec_params(sql_set_status, id, status);
}

std::optional<booking_row> find_booking(pqxx::transaction_base& tx, const std::string& id, bool for_update) {
    auto r = tx.exec_params(
        std::string(sql_booking_columns) + " WHERE id = $1::uuid" + (for_update ? " FOR UPDATE" : ""), id);
    if (r.empty()) {
        return std::nullopt;
    }
    return read_booking(r[0]);
}

std::vector<booking_row> waitlist(pqxx::transaction_base& tx,
                                  const std::string& class_id,
                                  const std::vector<std::string>& days,
                                  const std::string& today) {
    std::vector<booking_row> out;
    for (const auto& r : tx.exec_params(std::string(sql_booking_columns) +
                                            " WHERE class_id = $1::uuid AND status = 'waitlisted'"
                                            " AND days && $2::date[] AND days[1] >= $3::date"
                                            " ORDER BY priority DESC, created_at, id LIMIT 100 FOR UPDATE",
                                        class_id,
                                        db::text_array(days),
                                        today)) {
        out.push_back(read_booking(r));
    }
    return out;
}

int waitlist_position(pqxx::transaction_base& tx, const booking_row& b) {
    return 1 +
           tx.exec_params(
                 "SELECT count(*) FROM bookings o WHERE o.class_id = $1::uuid AND o.status = 'waitlisted'"
                 " AND o.days && $2::date[] AND o.id <> $3::uuid AND (o.priority > $4 OR (o.priority = $4"
                 " AND (o.created_at, o.id) < (SELECT created_at, id FROM bookings WHERE id = $3::uuid)))",
                 b.class_id,
                 db::text_array(b.days),
                 b.id,
                 b.priority)[0][0]
               .as<int>();
}

std::vector<booking_row> expire_waitlist(pqxx::transaction_base& tx, const std::string& today) {
    std::vector<booking_row> out;
    for (const auto& r :
         tx.exec_params("WITH x AS (UPDATE bookings SET status = 'expired', updated_at = now()"
                        " WHERE status = 'waitlisted' AND days[1] < $1::date RETURNING id)"
                        " SELECT id::text FROM x",
                        today)) {
        out.push_back(*find_booking(tx, r[0].as<std::string>()));
    }
    return out;
}

std::vector<booking_row> list_for_family(pqxx::transaction_base& tx,
                                         const std::string& family_id,
                                         const std::string& after_created,
                                         const std::string& after_id,
                                         int limit) {
    std::vector<booking_row> out;
    for (const auto& r :
         tx.exec_params(std::string(sql_booking_columns) + " WHERE family_id = $1::uuid AND ($2 = '' OR"
                                                           " (created_at, id) < ($2::timestamptz, $3::uuid))"
                                                           " ORDER BY created_at DESC, id DESC LIMIT $4",
                        family_id,
                        after_created,
                        after_id.empty() ? std::string("00000000-0000-0000-0000-000000000000") : after_id,
                        limit)) {
        out.push_back(read_booking(r));
    }
    return out;
}

void add_history(pqxx::transaction_base& tx,
                 const std::string& booking_id,
                 const std::string& action,
                 const std::string& actor_id,
                 const std::string& actor_role,
                 const std::string& detail) {
    tx.exec_params(sql_history, booking_id, action, actor_id, actor_role, detail);
}

// ---- attendance and pickup ----

namespace {

constexpr const char* sql_attendance_columns =
    "SELECT d.booking_id::text, d.child_id::text, d.day::text,"
    " to_char(d.checked_in AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " to_char(d.checked_out AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), d.no_show FROM "
    "booking_days d";

attendance_row read_attendance(const pqxx::row& r) {
    attendance_row a;
    a.booking_id = r[0].as<std::string>();
    a.child_id = r[1].as<std::string>();
    a.day = r[2].as<std::string>();
    if (!r[3].is_null()) {
        a.checked_in = r[3].as<std::string>();
    }
    if (!r[4].is_null()) {
        a.checked_out = r[4].as<std::string>();
    }
    a.no_show = r[5].as<bool>();
    return a;
}

}  // namespace

std::vector<attendance_row> attendance(pqxx::transaction_base& tx,
                                       const std::string& nursery_id,
                                       const std::string& day) {
    std::vector<attendance_row> out;
    for (const auto& r :
         tx.exec_params(std::string(sql_attendance_columns) +
                            " JOIN bookings b ON b.id = d.booking_id"
                            " WHERE b.nursery_id = $1::uuid AND d.day = $2::date ORDER BY d.child_id",
                        nursery_id,
                        day)) {
        out.push_back(read_attendance(r));
    }
    return out;
}

std::optional<attendance_row> find_day(pqxx::transaction_base& tx,
                                       const std::string& booking_id,
                                       const std::string& day) {
    auto r = tx.exec_params(
        std::string(sql_attendance_columns) + " WHERE d.booking_id = $1::uuid AND d.day = $2::date",
        booking_id,
        day);
    if (r.empty()) {
        return std::nullopt;
    }
    return read_attendance(r[0]);
}

bool check_in(pqxx::transaction_base& tx, const std::string& booking_id, const std::string& day) {
    return tx.exec_params(
                 "UPDATE booking_days SET checked_in = now() WHERE booking_id = $1::uuid AND day = $2::date"
                 " AND checked_in IS NULL AND NOT no_show",
                 booking_id,
                 day)
               .affected_rows() == 1;
}

bool check_out(pqxx::transaction_base& tx, const std::string& booking_id, const std::string& day) {
    return tx.exec_params(
                 "UPDATE booking_days SET checked_out = now() WHERE booking_id = $1::uuid AND day = $2::date"
                 " AND checked_in IS NOT NULL AND checked_out IS NULL",
                 booking_id,
                 day)
               .affected_rows() == 1;
}

bool no_show(pqxx::transaction_base& tx, const std::string& booking_id, const std::string& day) {
    return tx.exec_params(
                 "UPDATE booking_days SET no_show = true WHERE booking_id = $1::uuid AND day = $2::date"
                 " AND checked_in IS NULL AND NOT no_show",
                 booking_id,
                 day)
               .affected_rows() == 1;
}

namespace {

std::string seal_person(const auth::sealer& s, const pickup_row& p) {
    return s.seal_text(boost::json::serialize(
        boost::json::object{{"name", p.name}, {"phone", p.phone}, {"relation", p.relation}}));
}

}  // namespace

void set_pickups(pqxx::transaction_base& tx,
                 const auth::sealer& s,
                 const std::string& child_id,
                 const std::string& family_id,
                 const std::vector<pickup_row>& people) {
    tx.exec_params("DELETE FROM pickup_persons WHERE child_id = $1::uuid", child_id);
    for (const auto& p : people) {
        tx.exec_params(
            "INSERT INTO pickup_persons (child_id, family_id, phone_index, person_sealed)"
            " VALUES ($1::uuid, $2::uuid, $3, $4)",
            child_id,
            family_id,
            s.index(p.phone),
            seal_person(s, p));
    }
}

std::vector<pickup_row> pickups(pqxx::transaction_base& tx,
                                const auth::sealer& s,
                                const std::string& child_id) {
    std::vector<pickup_row> out;
    for (const auto& r :
         tx.exec_params("SELECT person_sealed FROM pickup_persons WHERE child_id = $1::uuid", child_id)) {
        const auto person = boost::json::parse(s.open_text(r[0].as<std::string>())).as_object();
        out.push_back({std::string(person.at("name").as_string()),
                       std::string(person.at("phone").as_string()),
                       std::string(person.at("relation").as_string())});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.phone < b.phone; });
    return out;
}

int seal_plain_personal_data(pqxx::transaction_base& tx, const auth::sealer& s) {
    int n = 0;
    for (const auto& r : tx.exec("SELECT child_id::text, name, phone, relation FROM pickup_persons"
                                 " WHERE phone IS NOT NULL FOR UPDATE")) {
        const pickup_row p{r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>()};
        tx.exec_params(
            "UPDATE pickup_persons SET name = NULL, phone = NULL, relation = NULL, phone_index = $3,"
            " person_sealed = $4 WHERE child_id = $1::uuid AND phone = $2",
            r[0].as<std::string>(),
            p.phone,
            s.index(p.phone),
            seal_person(s, p));
        ++n;
    }
    tx.exec("ALTER TABLE pickup_persons VALIDATE CONSTRAINT pickup_persons_no_plain_personal_data");
    return n;
}

bool nursery_has_child(pqxx::transaction_base& tx,
                       const std::string& nursery_id,
                       const std::string& child_id) {
    return !tx.exec_params(
                  "SELECT 1 FROM bookings WHERE nursery_id = $1::uuid AND child_id = $2::uuid"
                  " AND status = 'confirmed' LIMIT 1",
                  nursery_id,
                  child_id)
                .empty();
}

figures_row figures(pqxx::transaction_base& tx,
                    std::int64_t community_id,
                    const std::string& first,
                    const std::string& last) {
    auto r = tx.exec_params(
        "SELECT count(*), coalesce(sum(n.licensed_places), 0),"
        " coalesce(sum(n.licensed_places), 0) * ($3::date - $2::date + 1),"
        " coalesce((SELECT sum(d.taken) FROM nursery_days d JOIN nurseries m ON m.id = d.nursery_id"
        "   WHERE m.community_id = $1 AND d.day BETWEEN $2::date AND $3::date), 0)"
        " FROM nurseries n WHERE n.community_id = $1",
        community_id,
        first,
        last);
    return figures_row{r[0][0].as<int>(),
                       r[0][1].as<std::int64_t>(),
                       r[0][2].as<std::int64_t>(),
                       r[0][3].as<std::int64_t>()};
}

}  // namespace carematch::nursery::repo
