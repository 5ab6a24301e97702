-- B-card group: what was known at origination. The A-card score of the
-- loan's application is read from the lake table scores_acard
-- (application_id, score) when scoring has written it; until then the
-- column is NULL. The application score was computed at apply time, which
-- is before the loan's issue date and so before as-of.
-- reads: scores_acard
-- uses: spine_bcard
SELECT
    s.loan_id,
    -- feature: acard_score_at_origination | double | A-card score of the loan's application (NULL until <lake>/scores_acard exists) | scored at apply_time, before issue
    sc.score AS acard_score_at_origination
FROM spine_bcard s
LEFT JOIN (SELECT application_id, any_value(score) AS score FROM scores_acard GROUP BY application_id) sc
       USING (application_id)
