-- perf/expected_loss: EL = PD x LGD x EAD for every loan active at the
-- as-of month end.
-- reads: loans, repayments, perf/panel
-- uses: perf_params, lgd_default, scorecard_pd
--
-- EAD: outstanding principal plus interest due and unpaid (overdue
--   interest) at the as-of date.
-- PD: the scorecard PD from --pd-from (view scorecard_pd) when given for the
--   loan; otherwise the bucket's historical roll to write-off: among panel
--   rows of active loans in that bucket whose next pd_horizon months are
--   observed (or that closed within them), the share written off within
--   pd_horizon months. A bucket with no fully observed history falls back to
--   all its rows (partial windows, a lower bound) and says so.
-- LGD: by collateral type (none, car, house): 1 - the type's historical
--   recovery rate (payments booked after the write-off month end up to the
--   as-of date, collateral sales included / exposure at write-off) when at
--   least min_recovery_loans loans of that type have been written off;
--   otherwise the configured default (lgd_default). lgd_source names it.
WITH
p AS (SELECT *, year(as_of) * 12 + month(as_of) - 1 AS as_of_mi FROM perf_params),
closing AS (
    SELECT loan_id,
           min(mob) FILTER (WHERE written_off) AS wo_mob,
           min(mob) FILTER (WHERE settled OR written_off) AS close_mob
    FROM panel GROUP BY loan_id
),
obs AS (
    SELECT pn.bucket,
           coalesce(c.wo_mob > pn.mob AND c.wo_mob <= pn.mob + p.pd_horizon, false) AS wo_h,
           (year(pn.month_end) * 12 + month(pn.month_end) - 1 + p.pd_horizon <= p.as_of_mi
            OR c.close_mob <= pn.mob + p.pd_horizon) AS full_window
    FROM panel pn JOIN closing c USING (loan_id), p
    WHERE pn.status = 'active'
),
pd_bucket AS (
    SELECT bucket,
           count(*) FILTER (WHERE full_window) AS n_full,
           avg(CAST(wo_h AS DOUBLE)) FILTER (WHERE full_window) AS pd_full,
           count(*) AS n_all,
           avg(CAST(wo_h AS DOUBLE)) AS pd_all
    FROM obs GROUP BY bucket
),
wo AS (
    SELECT pn.loan_id, l.collateral_type, pn.month_end AS wo_date,
           pn.outstanding_principal + pn.overdue_interest AS ead_wo
    FROM panel pn JOIN loans l USING (loan_id)
    WHERE pn.written_off
),
recovered AS (
    SELECT w.loan_id, sum(r.principal_paid + r.interest_paid + r.penalty_paid) AS amount
    FROM wo w JOIN repayments r USING (loan_id), p
    WHERE CAST(r.paid_at AS DATE) > w.wo_date AND CAST(r.paid_at AS DATE) <= p.as_of
    GROUP BY w.loan_id
),
rec AS (
    SELECT w.collateral_type, sum(w.ead_wo) AS ead, count(*) AS n,
           coalesce(sum(v.amount), 0) AS recovered
    FROM wo w LEFT JOIN recovered v USING (loan_id)
    GROUP BY w.collateral_type
),
lgd AS (
    SELECT d.collateral_type,
           CASE d.collateral_type WHEN 'none' THEN 'unsecured' ELSE d.collateral_type END AS kind,
           CASE WHEN coalesce(rec.n, 0) >= p.min_recovery_loans AND rec.ead > 0
                THEN greatest(0.0, least(1.0, 1 - CAST(rec.recovered AS DOUBLE) / CAST(rec.ead AS DOUBLE)))
                ELSE d.lgd END AS lgd,
           CASE WHEN coalesce(rec.n, 0) >= p.min_recovery_loans AND rec.ead > 0
                THEN format('historical: 1 - recoveries after write-off / exposure at write-off over {} written-off {} loans', rec.n, kind)
                ELSE format('configured default lgd.{} (history: {} written-off {} loans, {} needed)', d.collateral_type, coalesce(rec.n, 0), kind, p.min_recovery_loans) END AS lgd_source
    FROM lgd_default d LEFT JOIN rec USING (collateral_type), p
),
cur AS (
    SELECT pn.*, l.borrower_id, l.collateral_type,
           pn.outstanding_principal + pn.overdue_interest AS ead
    FROM panel pn JOIN loans l USING (loan_id), p
    WHERE pn.month_end = p.as_of AND pn.status = 'active'
),
scored AS (
    SELECT c.*,
           coalesce(s.pd, CASE WHEN b.n_full > 0 THEN b.pd_full ELSE b.pd_all END) AS pd,
           CASE WHEN s.pd IS NOT NULL THEN 'scorecard (--pd-from)'
                WHEN b.n_full > 0 THEN format('bucket {} roll to write-off within {} months, {} observations', c.bucket, p.pd_horizon, b.n_full)
                ELSE format('bucket {} roll to write-off, partial windows only (lower bound), {} observations', c.bucket, b.n_all) END AS pd_source,
           coalesce(g.lgd, 1.0) AS lgd,
           coalesce(g.lgd_source, format('no LGD configured for collateral {}: 1.0', c.collateral_type)) AS lgd_source
    FROM cur c
    LEFT JOIN scorecard_pd s USING (loan_id)
    LEFT JOIN pd_bucket b USING (bucket)
    LEFT JOIN lgd g USING (collateral_type), p
)
SELECT loan_id, borrower_id, month_end AS as_of, mob, dpd, bucket, collateral_type,
       outstanding_principal, overdue_interest,
       CAST(ead AS DECIMAL(18,2)) AS ead,
       pd, pd_source, lgd, lgd_source,
       CAST(pd * lgd * CAST(ead AS DOUBLE) AS DECIMAL(18,2)) AS el
FROM scored
ORDER BY loan_id
