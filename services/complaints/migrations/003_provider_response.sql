-- The provider's own clock: staff ask the organisation a complaint is about for its response, due within
-- complaints.provider_response_working_days.
ALTER TABLE tickets
    ADD COLUMN provider_asked_at    timestamptz,
    ADD COLUMN provider_question    text CHECK (char_length(provider_question) BETWEEN 1 AND 2000),
    ADD COLUMN provider_due         timestamptz,
    ADD COLUMN provider_answered_at timestamptz,
    ADD COLUMN provider_response    text CHECK (char_length(provider_response) BETWEEN 1 AND 2000),
    ADD COLUMN provider_breached    boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT provider_asked_first CHECK (provider_answered_at IS NULL OR provider_asked_at IS NOT NULL),
    ADD CONSTRAINT provider_asked_whole CHECK ((provider_asked_at IS NULL) = (provider_due IS NULL)),
    ADD CONSTRAINT provider_answer_whole CHECK ((provider_answered_at IS NULL) = (provider_response IS NULL));
