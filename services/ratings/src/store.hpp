// ratings' SQL: the services a family may rate, reviews with their history, replies, appeals and scores.
#pragma once

#include <pqxx/pqxx>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace carematch::ratings::store {

// What a family was served: runtime::served (the `served` table of this schema).
/// Seconds since the service was completed, at the database's now.
double age_s(pqxx::work& tx, const std::string& order_id, double now);

struct review {
    std::string id;
    std::string order_id;
    std::string family_id;
    std::optional<std::string> org_id;
    std::optional<std::string> worker_id;
    std::string kind;
    std::int64_t community_id = 0;
    int level = 0;
    std::string dimensions;  // JSON object text
    std::vector<std::string> tags;
    std::string comment;
    bool anonymous = false;
    std::string created_at;
    std::string updated_at;
    std::string editable_until;
    bool editable = false;  // at the time of the read
    bool bad_reported = false;
    std::optional<std::string> reply;
    std::optional<std::string> replied_at;
    std::string appeal_state;
    std::optional<std::string> appeal_reason;
    std::optional<std::string> decision_note;
    std::string followup_state;
    std::optional<std::string> second_worker_id;  // a crew's second worker: rated with the first
};

struct new_review {
    std::string id;
    std::string order_id;
    int level = 0;
    std::string dimensions;
    std::vector<std::string> tags;
    std::string comment;
    bool anonymous = false;
    double now = 0;
    double editable_s = 0;
};
/// Inserts the review of a served order and its first history row; nullopt when the order was rated already
/// (the unique constraint decides, also under concurrent tries).
std::optional<review> insert_review(pqxx::work& tx, const new_review& r);
/// Replaces an editable review's content (at `now`) and adds a history row; nullopt when not editable.
std::optional<review> edit_review(pqxx::work& tx, const std::string& id, const new_review& r);
std::optional<review> find_review(pqxx::work& tx, const std::string& id, double now);
void mark_bad_reported(pqxx::work& tx, const std::string& id);

/// Sets the reply once; false when there is one already.
bool set_reply(pqxx::work& tx, const std::string& id, const std::string& text, double now);
/// Files an appeal once; false when there is one already.
bool set_appeal(pqxx::work& tx, const std::string& id, const std::string& reason, double now);
/// Decides a pending appeal; false when none is pending.
bool decide_appeal(pqxx::work& tx,
                   const std::string& id,
                   bool overturn,
                   const std::string& note,
                   const std::string& staff,
                   double now);

struct filter {
    std::optional<std::string> family_id;
    std::optional<std::string> org_id;
    std::optional<std::vector<std::int64_t>> communities;
    std::optional<int> level;
    std::optional<std::string> kind;
    std::optional<std::string> from;  // ISO 8601 or a date
    std::optional<std::string> to;
    std::optional<std::pair<std::string, std::string>> after;  // cursor: created_at, id
    int limit = 20;
};
std::vector<review> list_reviews(pqxx::work& tx, const filter& f, double now);

struct score {
    double value = 0;
    int count = 0;
    std::array<int, 5> counts{};
};
/// Recomputes a subject's score (reviews of the last `window_days` that an appeal did not overturn) as a
/// Bayesian average; returns the new score and whether it changed.
std::pair<score, bool> refresh_score(pqxx::work& tx,
                                     const std::string& subject_type,
                                     const std::string& subject_id,
                                     double prior_mean,
                                     double prior_weight,
                                     int window_days,
                                     double now);
std::optional<score> find_score(pqxx::work& tx,
                                const std::string& subject_type,
                                const std::string& subject_id);

struct ranking_row {
    std::string org_id;
    int count = 0;
    double mean = 0;
    double score = 0;
    double bad_share = 0;
    double followed_up = 0;  // share of bad reviews whose follow-up is done
};
/// Organisations of a community by their Bayesian score over one local month: reviews from the instant its
/// first local day starts (`from_s`, epoch seconds) to the instant the next month's does (`to_s`).
std::vector<ranking_row> ranking(pqxx::work& tx,
                                 std::int64_t community,
                                 double from_s,
                                 double to_s,
                                 double prior_mean,
                                 double prior_weight);

}  // namespace carematch::ratings::store
