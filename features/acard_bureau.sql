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
           q.institution_type
    FROM spine_acard s
    JOIN bureau_inquiries q
      ON q.borrower_id = s.borrower_id
     AND q.query_date < s.apply_date
     AND q.query_date >= s.apply_date - 180
),
inq_agg AS (
    SELECT
        app_idx,
        -- feature: inq_7d_total | int | Bureau inquiries in the 7 days before the apply date, any institution | query_date in [apply_date - 7, apply_date)
        count(*) FILTER (WHERE days_before <= 7) AS inq_7d_total,
        -- feature: inq_7d_bank | int | Bureau inquiries in the 7 days before the apply date by bank institutions | query_date in [apply_date - 7, apply_date)
        count(*) FILTER (WHERE days_before <= 7 AND institution_type = 'bank') AS inq_7d_bank,
        -- feature: inq_7d_consumer_finance | int | Bureau inquiries in the 7 days before the apply date by consumer_finance institutions | query_date in [apply_date - 7, apply_date)
        count(*) FILTER (WHERE days_before <= 7 AND institution_type = 'consumer_finance') AS inq_7d_consumer_finance,
        -- feature: inq_7d_p2p | int | Bureau inquiries in the 7 days before the apply date by p2p institutions | query_date in [apply_date - 7, apply_date)
        count(*) FILTER (WHERE days_before <= 7 AND institution_type = 'p2p') AS inq_7d_p2p,
        -- feature: inq_7d_microloan | int | Bureau inquiries in the 7 days before the apply date by microloan institutions | query_date in [apply_date - 7, apply_date)
        count(*) FILTER (WHERE days_before <= 7 AND institution_type = 'microloan') AS inq_7d_microloan,
        -- feature: inq_30d_total | int | Bureau inquiries in the 30 days before the apply date, any institution | query_date in [apply_date - 30, apply_date)
        count(*) FILTER (WHERE days_before <= 30) AS inq_30d_total,
        -- feature: inq_30d_bank | int | Bureau inquiries in the 30 days before the apply date by bank institutions | query_date in [apply_date - 30, apply_date)
        count(*) FILTER (WHERE days_before <= 30 AND institution_type = 'bank') AS inq_30d_bank,
        -- feature: inq_30d_consumer_finance | int | Bureau inquiries in the 30 days before the apply date by consumer_finance institutions | query_date in [apply_date - 30, apply_date)
        count(*) FILTER (WHERE days_before <= 30 AND institution_type = 'consumer_finance') AS inq_30d_consumer_finance,
        -- feature: inq_30d_p2p | int | Bureau inquiries in the 30 days before the apply date by p2p institutions | query_date in [apply_date - 30, apply_date)
        count(*) FILTER (WHERE days_before <= 30 AND institution_type = 'p2p') AS inq_30d_p2p,
        -- feature: inq_30d_microloan | int | Bureau inquiries in the 30 days before the apply date by microloan institutions | query_date in [apply_date - 30, apply_date)
        count(*) FILTER (WHERE days_before <= 30 AND institution_type = 'microloan') AS inq_30d_microloan,
        -- feature: inq_90d_total | int | Bureau inquiries in the 90 days before the apply date, any institution | query_date in [apply_date - 90, apply_date)
        count(*) FILTER (WHERE days_before <= 90) AS inq_90d_total,
        -- feature: inq_90d_bank | int | Bureau inquiries in the 90 days before the apply date by bank institutions | query_date in [apply_date - 90, apply_date)
        count(*) FILTER (WHERE days_before <= 90 AND institution_type = 'bank') AS inq_90d_bank,
        -- feature: inq_90d_consumer_finance | int | Bureau inquiries in the 90 days before the apply date by consumer_finance institutions | query_date in [apply_date - 90, apply_date)
        count(*) FILTER (WHERE days_before <= 90 AND institution_type = 'consumer_finance') AS inq_90d_consumer_finance,
        -- feature: inq_90d_p2p | int | Bureau inquiries in the 90 days before the apply date by p2p institutions | query_date in [apply_date - 90, apply_date)
        count(*) FILTER (WHERE days_before <= 90 AND institution_type = 'p2p') AS inq_90d_p2p,
        -- feature: inq_90d_microloan | int | Bureau inquiries in the 90 days before the apply date by microloan institutions | query_date in [apply_date - 90, apply_date)
        count(*) FILTER (WHERE days_before <= 90 AND institution_type = 'microloan') AS inq_90d_microloan,
        -- feature: inq_180d_total | int | Bureau inquiries in the 180 days before the apply date, any institution | query_date in [apply_date - 180, apply_date)
        count(*) FILTER (WHERE days_before <= 180) AS inq_180d_total,
        -- feature: inq_180d_bank | int | Bureau inquiries in the 180 days before the apply date by bank institutions | query_date in [apply_date - 180, apply_date)
        count(*) FILTER (WHERE days_before <= 180 AND institution_type = 'bank') AS inq_180d_bank,
        -- feature: inq_180d_consumer_finance | int | Bureau inquiries in the 180 days before the apply date by consumer_finance institutions | query_date in [apply_date - 180, apply_date)
        count(*) FILTER (WHERE days_before <= 180 AND institution_type = 'consumer_finance') AS inq_180d_consumer_finance,
        -- feature: inq_180d_p2p | int | Bureau inquiries in the 180 days before the apply date by p2p institutions | query_date in [apply_date - 180, apply_date)
        count(*) FILTER (WHERE days_before <= 180 AND institution_type = 'p2p') AS inq_180d_p2p,
        -- feature: inq_180d_microloan | int | Bureau inquiries in the 180 days before the apply date by microloan institutions | query_date in [apply_date - 180, apply_date)
        count(*) FILTER (WHERE days_before <= 180 AND institution_type = 'microloan') AS inq_180d_microloan
    FROM inq
    GROUP BY app_idx
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
