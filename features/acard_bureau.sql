-- A-card group: bureau and multi-lending. Inquiries and reports carry a
-- date only, so for an application they count when dated strictly before
-- its apply date (an inquiry on the apply date may be this application's
-- own). "Last N days" means the N days before the apply date:
-- apply_date - N <= query_date < apply_date.
-- reads: bureau_inquiries, bureau_reports
-- uses: spine_acard
WITH inq AS (
    SELECT s.app_idx,
           CAST(s.apply_date - q.query_date AS INTEGER) AS days_before,
           -- one inquiry, as a count of 1 in its institution type's
           -- 12-bit field: bank, consumer_finance, p2p, microloan, other
           1::BIGINT << CASE q.institution_type WHEN 'bank' THEN 0 WHEN 'consumer_finance' THEN 12
                                                WHEN 'p2p' THEN 24 WHEN 'microloan' THEN 36 ELSE 48 END AS unit
    FROM spine_acard s
    JOIN bureau_inquiries q
      ON q.borrower_id = s.borrower_id
     AND q.query_date < s.apply_date
     AND q.query_date >= s.apply_date - 180
),
-- Per application and window, the five counts by institution type are
-- summed as one packed integer: four sums and a count per application
-- instead of twenty filtered counts, for the aggregate of every joined
-- inquiry (20M rows at 3M loans) that is this file's largest cost. Each
-- field holds up to 4095; inq_180d_total, whose fields are the largest,
-- checks them all against the plain count and fails the step rather than
-- carry one into the next.
inq_packed AS (
    SELECT app_idx,
           count(*) AS n,
           CAST(coalesce(sum(unit) FILTER (WHERE days_before <= 7), 0) AS BIGINT) AS w7,
           CAST(coalesce(sum(unit) FILTER (WHERE days_before <= 30), 0) AS BIGINT) AS w30,
           CAST(coalesce(sum(unit) FILTER (WHERE days_before <= 90), 0) AS BIGINT) AS w90,
           CAST(sum(unit) AS BIGINT) AS w180
    FROM inq
    GROUP BY app_idx
),
inq_agg AS (
    SELECT
        app_idx,
        -- feature: inq_7d_total | int | Bureau inquiries in the 7 days before the apply date, any institution | query_date in [apply_date - 7, apply_date)
        (w7 & 4095) + ((w7 >> 12) & 4095) + ((w7 >> 24) & 4095) + ((w7 >> 36) & 4095) + (w7 >> 48) AS inq_7d_total,
        -- feature: inq_7d_bank | int | Bureau inquiries in the 7 days before the apply date by bank institutions | query_date in [apply_date - 7, apply_date)
        w7 & 4095 AS inq_7d_bank,
        -- feature: inq_7d_consumer_finance | int | Bureau inquiries in the 7 days before the apply date by consumer_finance institutions | query_date in [apply_date - 7, apply_date)
        (w7 >> 12) & 4095 AS inq_7d_consumer_finance,
        -- feature: inq_7d_p2p | int | Bureau inquiries in the 7 days before the apply date by p2p institutions | query_date in [apply_date - 7, apply_date)
        (w7 >> 24) & 4095 AS inq_7d_p2p,
        -- feature: inq_7d_microloan | int | Bureau inquiries in the 7 days before the apply date by microloan institutions | query_date in [apply_date - 7, apply_date)
        (w7 >> 36) & 4095 AS inq_7d_microloan,
        -- feature: inq_30d_total | int | Bureau inquiries in the 30 days before the apply date, any institution | query_date in [apply_date - 30, apply_date)
        (w30 & 4095) + ((w30 >> 12) & 4095) + ((w30 >> 24) & 4095) + ((w30 >> 36) & 4095) + (w30 >> 48) AS inq_30d_total,
        -- feature: inq_30d_bank | int | Bureau inquiries in the 30 days before the apply date by bank institutions | query_date in [apply_date - 30, apply_date)
        w30 & 4095 AS inq_30d_bank,
        -- feature: inq_30d_consumer_finance | int | Bureau inquiries in the 30 days before the apply date by consumer_finance institutions | query_date in [apply_date - 30, apply_date)
        (w30 >> 12) & 4095 AS inq_30d_consumer_finance,
        -- feature: inq_30d_p2p | int | Bureau inquiries in the 30 days before the apply date by p2p institutions | query_date in [apply_date - 30, apply_date)
        (w30 >> 24) & 4095 AS inq_30d_p2p,
        -- feature: inq_30d_microloan | int | Bureau inquiries in the 30 days before the apply date by microloan institutions | query_date in [apply_date - 30, apply_date)
        (w30 >> 36) & 4095 AS inq_30d_microloan,
        -- feature: inq_90d_total | int | Bureau inquiries in the 90 days before the apply date, any institution | query_date in [apply_date - 90, apply_date)
        (w90 & 4095) + ((w90 >> 12) & 4095) + ((w90 >> 24) & 4095) + ((w90 >> 36) & 4095) + (w90 >> 48) AS inq_90d_total,
        -- feature: inq_90d_bank | int | Bureau inquiries in the 90 days before the apply date by bank institutions | query_date in [apply_date - 90, apply_date)
        w90 & 4095 AS inq_90d_bank,
        -- feature: inq_90d_consumer_finance | int | Bureau inquiries in the 90 days before the apply date by consumer_finance institutions | query_date in [apply_date - 90, apply_date)
        (w90 >> 12) & 4095 AS inq_90d_consumer_finance,
        -- feature: inq_90d_p2p | int | Bureau inquiries in the 90 days before the apply date by p2p institutions | query_date in [apply_date - 90, apply_date)
        (w90 >> 24) & 4095 AS inq_90d_p2p,
        -- feature: inq_90d_microloan | int | Bureau inquiries in the 90 days before the apply date by microloan institutions | query_date in [apply_date - 90, apply_date)
        (w90 >> 36) & 4095 AS inq_90d_microloan,
        -- feature: inq_180d_total | int | Bureau inquiries in the 180 days before the apply date, any institution | query_date in [apply_date - 180, apply_date)
        CASE WHEN (w180 & 4095) + ((w180 >> 12) & 4095) + ((w180 >> 24) & 4095) + ((w180 >> 36) & 4095) + (w180 >> 48) = n THEN n
            ELSE error('acard_bureau.sql: an application has 4096 or more bureau inquiries of one institution type in the 180 days before it; the packed counts hold at most 4095') END AS inq_180d_total,
        -- feature: inq_180d_bank | int | Bureau inquiries in the 180 days before the apply date by bank institutions | query_date in [apply_date - 180, apply_date)
        w180 & 4095 AS inq_180d_bank,
        -- feature: inq_180d_consumer_finance | int | Bureau inquiries in the 180 days before the apply date by consumer_finance institutions | query_date in [apply_date - 180, apply_date)
        (w180 >> 12) & 4095 AS inq_180d_consumer_finance,
        -- feature: inq_180d_p2p | int | Bureau inquiries in the 180 days before the apply date by p2p institutions | query_date in [apply_date - 180, apply_date)
        (w180 >> 24) & 4095 AS inq_180d_p2p,
        -- feature: inq_180d_microloan | int | Bureau inquiries in the 180 days before the apply date by microloan institutions | query_date in [apply_date - 180, apply_date)
        (w180 >> 36) & 4095 AS inq_180d_microloan
    FROM inq_packed
),
report AS (
    -- the latest bureau report dated before the apply date
    SELECT s.app_idx, r.report_date, r.open_accounts, r.total_outstanding,
           r.overdue_accounts, r.worst_overdue_band, s.apply_date, s.monthly_income
    FROM spine_acard s
    ASOF LEFT JOIN bureau_reports r
      ON r.borrower_id = s.borrower_id
     AND s.apply_date > r.report_date
)
SELECT
    r.app_idx,
    coalesce(q.inq_7d_total, 0) AS inq_7d_total,
    coalesce(q.inq_7d_bank, 0) AS inq_7d_bank,
    coalesce(q.inq_7d_consumer_finance, 0) AS inq_7d_consumer_finance,
    coalesce(q.inq_7d_p2p, 0) AS inq_7d_p2p,
    coalesce(q.inq_7d_microloan, 0) AS inq_7d_microloan,
    coalesce(q.inq_30d_total, 0) AS inq_30d_total,
    coalesce(q.inq_30d_bank, 0) AS inq_30d_bank,
    coalesce(q.inq_30d_consumer_finance, 0) AS inq_30d_consumer_finance,
    coalesce(q.inq_30d_p2p, 0) AS inq_30d_p2p,
    coalesce(q.inq_30d_microloan, 0) AS inq_30d_microloan,
    coalesce(q.inq_90d_total, 0) AS inq_90d_total,
    coalesce(q.inq_90d_bank, 0) AS inq_90d_bank,
    coalesce(q.inq_90d_consumer_finance, 0) AS inq_90d_consumer_finance,
    coalesce(q.inq_90d_p2p, 0) AS inq_90d_p2p,
    coalesce(q.inq_90d_microloan, 0) AS inq_90d_microloan,
    coalesce(q.inq_180d_total, 0) AS inq_180d_total,
    coalesce(q.inq_180d_bank, 0) AS inq_180d_bank,
    coalesce(q.inq_180d_consumer_finance, 0) AS inq_180d_consumer_finance,
    coalesce(q.inq_180d_p2p, 0) AS inq_180d_p2p,
    coalesce(q.inq_180d_microloan, 0) AS inq_180d_microloan,
    -- feature: inq_90d_institution_types | int | Distinct institution types (of the four) with an inquiry in the 90 days before the apply date | query_date in [apply_date - 90, apply_date)
    CAST(coalesce(q.inq_90d_bank > 0, false) AS INTEGER) + CAST(coalesce(q.inq_90d_consumer_finance > 0, false) AS INTEGER)
      + CAST(coalesce(q.inq_90d_p2p > 0, false) AS INTEGER) + CAST(coalesce(q.inq_90d_microloan > 0, false) AS INTEGER)
      AS inq_90d_institution_types,
    -- feature: inq_90d_nonbank | int | Bureau inquiries in the 90 days before the apply date by non-bank lenders of last resort (p2p and microloan) | query_date in [apply_date - 90, apply_date)
    coalesce(q.inq_90d_p2p, 0) + coalesce(q.inq_90d_microloan, 0) AS inq_90d_nonbank,
    -- feature: bureau_open_accounts | int | Open credit accounts on the latest bureau report (NULL without a report) | latest report dated before the apply date
    r.open_accounts AS bureau_open_accounts,
    -- feature: bureau_total_outstanding | money | Total outstanding balance on the latest bureau report, CNY | latest report dated before the apply date
    r.total_outstanding AS bureau_total_outstanding,
    -- feature: bureau_outstanding_to_income | double | Bureau total outstanding / declared monthly income (NULL without a report or income) | latest report dated before the apply date
    CASE WHEN r.monthly_income > 0 THEN CAST(r.total_outstanding AS DOUBLE) / CAST(r.monthly_income AS DOUBLE) END AS bureau_outstanding_to_income,
    -- feature: bureau_overdue_accounts | int | Overdue accounts on the latest bureau report | latest report dated before the apply date
    r.overdue_accounts AS bureau_overdue_accounts,
    -- feature: bureau_worst_status_24m | int | Worst overdue band in 24 months on the latest bureau report: 0 normal (code N), 1..7 overdue 1-30 .. over 180 days (codes 1..7); NULL without a report or when the bureau's code is not an overdue band (*, #, /, C, B, ...) | latest report dated before the apply date
    r.worst_overdue_band AS bureau_worst_status_24m,
    -- feature: bureau_report_age_days | int | Days from the latest bureau report to the apply date | latest report dated before the apply date
    CAST(r.apply_date - r.report_date AS INTEGER) AS bureau_report_age_days
FROM report r
LEFT JOIN inq_agg q USING (app_idx)
