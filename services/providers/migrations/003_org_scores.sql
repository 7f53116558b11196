-- Organisations' public rating scores, from ratings' rating.score_changed events: shown with search results.
CREATE TABLE org_scores (
    org_id     uuid PRIMARY KEY,
    score      double precision NOT NULL CHECK (score BETWEEN 1 AND 5),
    count      int NOT NULL CHECK (count >= 0),
    updated_at timestamptz NOT NULL
);
