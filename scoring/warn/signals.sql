-- Early-warning signals of every loan on book at the as-of month end d,
-- with its B-score (table bscore: entity_id = loan_id, score, pd). One row
-- per loan; each s_<rule> is true when the rule fires. Thresholds are
-- variables set from the warn config (names in brackets below).
-- reads: loans, perf/installment_payoff, perf/loan_closure, features/bcard
-- uses: bscore
--
-- Population: the loans on book at the close of the as-of month end d.
-- That is the B-card spine's "active at d" (features/prep_bcard_spine.sql:
-- issued before d, not settled and not written off) - the view snap, one
-- row per loan of the B-card feature snapshot at d, features from events
-- strictly before d - with the spine's settlement test applied once more
-- with the payments of day d itself, so that a loan paid off on the
-- month-end day (on book for the features, off book when the list is
-- worked) is not listed:
--   settled      every installment with something due is paid off
--                (principal + interest) by payments up to the end of d; or
--                the loan is exported as 'settled' and its last payment is
--                no later than d
--   written off  exported as 'written_off' and 180+ DPD at d (as the spine;
--                the snapshot already excludes these, repeated here so the
--                population never depends on how the snapshot was cut)
--
-- Payoff and the last payment come from perf's intermediate models
-- perf/installment_payoff and perf/loan_closure (computed once from all
-- payments; only times before the cut-off are used, so the population and
-- rules see what the payments up to then say).
--
-- Rules (dpd = dpd_current, DPD at d from payments before d):
--   first_payment_missed  installment 1 is due before d and not fully paid
--                         (principal + interest) by payments before d
--   entering_m1           1-30 DPD, and the oldest unpaid due date falls in
--                         the as-of month (current at the previous month end)
--   paid_to_due_falling   paid-to-due over the last 3 months at least
--                         [ptd_drop] below the 6-month ratio, from a 6-month
--                         ratio of at least [ptd_base]: a borrower who paid
--                         (nearly) everything due has stopped paying a
--                         meaningful part of it
--   multi_lending         new bureau inquiries (not post-loan, since issue)
--                         in the 30 days before d >= [min_inquiries_30d], or
--                         in the 90 days before d >= [min_inquiries_90d], or
--                         since issue >= [min_inquiries] (0 = that test off)
--   lost_contact          the latest lost_contact / contact_repaired event
--                         before d is lost_contact
--   ltv_breach            collateral loan with outstanding principal /
--                         appraised collateral value > [max_ltv]
--   high_risk_score       B-score PD >= [min_pd]
--   m2_m3                 31-90 DPD
--   m4_plus               more than 90 DPD
WITH open_at_close AS (
    -- installments with something due not paid off by the end of day d
    -- (perf/installment_payoff.paid_off_at before d + 1 day)
    SELECT i.loan_id,
           count(*) FILTER (WHERE i.amount_due > 0
                              AND (i.paid_off_at IS NULL
                                   OR i.paid_off_at >= CAST(getvariable('as_of') + INTERVAL 1 DAY AS TIMESTAMP))) AS n_open
    FROM installment_payoff i
    SEMI JOIN snap f ON f.loan_id = i.loan_id
    GROUP BY i.loan_id
),
on_book AS (
    SELECT f.*
    FROM snap f
    JOIN loans l ON l.loan_id = f.loan_id
    JOIN open_at_close o ON o.loan_id = f.loan_id
    LEFT JOIN loan_closure c ON c.loan_id = f.loan_id
    WHERE o.n_open > 0
      AND NOT coalesce(l.status = 'settled' AND c.last_paid_at < CAST(getvariable('as_of') + INTERVAL 1 DAY AS TIMESTAMP), false)
      AND NOT coalesce(l.status = 'written_off' AND f.dpd_current >= 180, false)
),
-- installment 1 (due date, and whether it was paid off before d)
first_inst AS (
    SELECT i.loan_id, i.due_date,
           coalesce(i.amount_due > 0 AND (i.paid_off_at IS NULL OR i.paid_off_at >= CAST(getvariable('as_of') AS TIMESTAMP)), false) AS unpaid
    FROM installment_payoff i
    SEMI JOIN snap f ON f.loan_id = i.loan_id
    WHERE i.installment_no = 1
)
SELECT
    f.loan_id,
    f.borrower_id,
    b.score,
    b.pd,
    b.grade,
    f.dpd_current AS dpd,
    f.dpd_bucket AS bucket,
    f.outstanding_principal,
    l.collateral_type,
    l.collateral_value,
    CASE WHEN l.collateral_type <> 'none' AND l.collateral_value > 0
         THEN CAST(f.outstanding_principal AS DOUBLE) / CAST(l.collateral_value AS DOUBLE) END AS ltv,
    coalesce(fi.due_date < getvariable('as_of') AND fi.unpaid, false) AS s_first_payment_missed,
    coalesce(f.dpd_current BETWEEN 1 AND 30
             AND f.dpd_current < getvariable('as_of') - last_day(getvariable('as_of') - INTERVAL 1 MONTH), false) AS s_entering_m1,
    coalesce(f.paid_to_due_6m >= getvariable('ptd_base')
             AND f.paid_to_due_3m <= f.paid_to_due_6m - getvariable('ptd_drop'), false) AS s_paid_to_due_falling,
    coalesce(f.b_inq_30d >= getvariable('min_inquiries_30d')
             OR f.b_inq_90d >= getvariable('min_inquiries_90d')
             OR (getvariable('min_inquiries') > 0 AND f.b_inq_since_issue >= getvariable('min_inquiries')), false) AS s_multi_lending,
    coalesce(f.coll_lost_contact_open = 1, false) AS s_lost_contact,
    coalesce(l.collateral_type <> 'none' AND l.collateral_value > 0
             AND CAST(f.outstanding_principal AS DOUBLE) > getvariable('max_ltv') * CAST(l.collateral_value AS DOUBLE), false) AS s_ltv_breach,
    coalesce(b.pd >= getvariable('min_pd'), false) AS s_high_risk_score,
    coalesce(f.dpd_current BETWEEN 31 AND 90, false) AS s_m2_m3,
    coalesce(f.dpd_current > 90, false) AS s_m4_plus
FROM on_book f
JOIN bscore b ON b.entity_id = CAST(f.loan_id AS VARCHAR)
JOIN loans l ON l.loan_id = f.loan_id
LEFT JOIN first_inst fi ON fi.loan_id = f.loan_id
