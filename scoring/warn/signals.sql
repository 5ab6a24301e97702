-- Early-warning signals of every loan in the B-card feature snapshot at
-- the as-of month end (view snap: one row per active loan, features from
-- events strictly before as_of), with its B-score (table bscore:
-- entity_id = loan_id, score, pd). Thresholds are variables set from the
-- warn config. One row per loan; each s_<rule> is true when the rule
-- fires.
--   first_payment_missed  installment 1 is due before as_of and not fully
--                         paid (principal + interest) by payments before as_of
--   entering_m1           1-30 DPD, and the oldest unpaid due date falls in
--                         the as-of month (current at the previous month end)
--   paid_to_due_falling   paid-to-due over the last 3 months below the
--                         6-month ratio by more than ptd_drop
--   multi_lending         bureau inquiries (not post-loan) since issue
--                         >= min_inquiries, or in the last 90 days >= min_inquiries_90d
--   lost_contact          the latest lost_contact / contact_repaired event
--                         before as_of is lost_contact
--   ltv_breach            collateral loan with outstanding principal /
--                         appraised collateral value > max_ltv
--   high_risk_score       B-score PD >= min_pd
--   m2_m3                 31-90 DPD
--   m4_plus               more than 90 DPD
WITH first_inst AS (
    SELECT s.loan_id, s.due_date, s.principal_due + s.interest_due AS due
    FROM repayment_schedule s
    WHERE s.installment_no = 1
),
first_paid AS (
    SELECT r.loan_id, sum(r.principal_paid + r.interest_paid) AS paid
    FROM repayments r
    WHERE r.installment_no = 1 AND r.paid_at < CAST(getvariable('as_of') AS TIMESTAMP)
    GROUP BY r.loan_id
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
    coalesce(fi.due_date < getvariable('as_of') AND coalesce(fp.paid, 0) < fi.due, false) AS s_first_payment_missed,
    coalesce(f.dpd_current BETWEEN 1 AND 30
             AND f.dpd_current < getvariable('as_of') - last_day(getvariable('as_of') - INTERVAL 1 MONTH), false) AS s_entering_m1,
    coalesce(f.paid_to_due_3m < f.paid_to_due_6m - getvariable('ptd_drop'), false) AS s_paid_to_due_falling,
    coalesce(f.b_inq_since_issue >= getvariable('min_inquiries') OR f.b_inq_90d >= getvariable('min_inquiries_90d'), false) AS s_multi_lending,
    coalesce(f.coll_lost_contact_open = 1, false) AS s_lost_contact,
    coalesce(l.collateral_type <> 'none' AND l.collateral_value > 0
             AND CAST(f.outstanding_principal AS DOUBLE) > getvariable('max_ltv') * CAST(l.collateral_value AS DOUBLE), false) AS s_ltv_breach,
    coalesce(b.pd >= getvariable('min_pd'), false) AS s_high_risk_score,
    coalesce(f.dpd_current BETWEEN 31 AND 90, false) AS s_m2_m3,
    coalesce(f.dpd_current > 90, false) AS s_m4_plus
FROM snap f
JOIN bscore b ON b.entity_id = CAST(f.loan_id AS VARCHAR)
JOIN loans l ON l.loan_id = f.loan_id
LEFT JOIN first_inst fi ON fi.loan_id = f.loan_id
LEFT JOIN first_paid fp ON fp.loan_id = f.loan_id
