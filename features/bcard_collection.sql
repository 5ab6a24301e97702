-- B-card group: collection activity in the months before the month end
-- d, events strictly before d. A promise to pay at time p is broken when
-- no repayment of the loan was made in [p, p + 7 days) and p + 7 days is
-- before d (so the outcome is known at d); promises younger than 7 days
-- are not counted either way.
-- reads: collection_events, repayments
-- uses: spine_bcard
WITH ev AS (
    SELECT c.loan_id, c.event_time, c.outcome, s.as_of,
           c.event_time >= s.as_of - INTERVAL 3 MONTH AS in_3m,
           c.event_time >= s.as_of - INTERVAL 6 MONTH AS in_6m
    FROM collection_events c
    JOIN spine_bcard s USING (loan_id)
    WHERE c.event_time < s.as_of
),
promise AS (
    SELECT e.loan_id, e.event_time, e.in_3m, e.in_6m,
           EXISTS (SELECT 1 FROM repayments r
                   WHERE r.loan_id = e.loan_id
                     AND r.paid_at >= e.event_time
                     AND r.paid_at < e.event_time + INTERVAL 7 DAY) AS kept
    FROM ev e
    WHERE e.outcome = 'promise_to_pay'
      AND e.event_time + INTERVAL 7 DAY <= e.as_of
),
agg AS (
    SELECT loan_id,
           count(*) FILTER (WHERE in_3m) AS contacts_3m,
           count(*) FILTER (WHERE in_6m) AS contacts_6m,
           count(*) FILTER (WHERE in_3m AND outcome = 'lost_contact') AS lost_3m,
           count(*) FILTER (WHERE in_6m AND outcome = 'lost_contact') AS lost_6m,
           arg_max(outcome, event_time) FILTER (WHERE outcome IN ('lost_contact', 'contact_repaired')) AS last_contact_state
    FROM ev
    GROUP BY loan_id
),
broken AS (
    SELECT loan_id,
           count(*) FILTER (WHERE in_3m AND NOT kept) AS broken_3m,
           count(*) FILTER (WHERE in_6m AND NOT kept) AS broken_6m
    FROM promise
    GROUP BY loan_id
)
SELECT
    s.loan_id,
    -- feature: coll_contacts_3m | int | Collection events (any channel and outcome) in the 3 months before as-of | event_time in [as_of - 3 months, as_of)
    coalesce(a.contacts_3m, 0) AS coll_contacts_3m,
    -- feature: coll_contacts_6m | int | Collection events (any channel and outcome) in the 6 months before as-of | event_time in [as_of - 6 months, as_of)
    coalesce(a.contacts_6m, 0) AS coll_contacts_6m,
    -- feature: coll_broken_promises_3m | int | Promises to pay in the 3 months before as-of with no repayment within 7 days | promise time in [as_of - 3 months, as_of - 7 days]
    coalesce(b.broken_3m, 0) AS coll_broken_promises_3m,
    -- feature: coll_broken_promises_6m | int | Promises to pay in the 6 months before as-of with no repayment within 7 days | promise time in [as_of - 6 months, as_of - 7 days]
    coalesce(b.broken_6m, 0) AS coll_broken_promises_6m,
    -- feature: coll_lost_contact_3m | int | Lost-contact outcomes in the 3 months before as-of | event_time in [as_of - 3 months, as_of)
    coalesce(a.lost_3m, 0) AS coll_lost_contact_3m,
    -- feature: coll_lost_contact_6m | int | Lost-contact outcomes in the 6 months before as-of | event_time in [as_of - 6 months, as_of)
    coalesce(a.lost_6m, 0) AS coll_lost_contact_6m,
    -- feature: coll_lost_contact_open | int | 1 when the latest lost_contact / contact_repaired event before as-of is lost_contact | events strictly before as_of
    CASE WHEN a.last_contact_state = 'lost_contact' THEN 1 ELSE 0 END AS coll_lost_contact_open
FROM spine_bcard s
LEFT JOIN agg a USING (loan_id)
LEFT JOIN broken b USING (loan_id)
