-- The generator's observable risk score (data/gen riskScore, before its
-- intercept and scale, which do not change a ranking) recomputed from the
-- A-card feature snapshot, one row per application: the best ranking any
-- model of these features can reach. TestTrainDemoBookNearTruePD compares
-- its out-of-time AUC with the true PD's: the features carry the drivers of
-- the true PD (a lossy or point-in-time-wrong feature lowers it), and what
-- is left between the card and the true PD is modelling. It must follow
-- riskScore in data/gen/book.go; the differences are the declared gender
-- (the generator uses the ID's) and the rows ingest quarantined.
-- The test puts a read_parquet of the snapshot in place of the FROM table.
SELECT
    application_id,
    -- age at application: young and over-50 applicants riskier
    (CASE WHEN age < 22 THEN 0.55 WHEN age < 25 THEN 0.35 WHEN age < 30 THEN 0.12 WHEN age >= 50 THEN 0.2 ELSE 0 END)
    -- education
    + (CASE education WHEN '初中及以下' THEN 0.45 WHEN '高中' THEN 0.25 WHEN '本科' THEN -0.3 WHEN '研究生' THEN -0.55 ELSE 0 END)
    -- income: missing or zero counts as 5,000 and adds 0.2; log, clipped
    + (CASE WHEN coalesce(monthly_income, 0) = 0 THEN 0.2 ELSE 0 END)
    - 0.5 * greatest(-1.5, least(1.8, ln(coalesce(nullif(monthly_income, 0), 5000)::DOUBLE / 6000)))
    -- years in employment (missing: 0.15)
    + (CASE WHEN employment_years IS NULL THEN 0.15 WHEN employment_years < 1 THEN 0.35 WHEN employment_years < 3 THEN 0.12
            WHEN employment_years >= 10 THEN -0.2 ELSE 0 END)
    -- city tier 1..4
    + (CASE city_tier WHEN 1 THEN -0.1 WHEN 3 THEN 0.08 WHEN 4 THEN 0.18 ELSE 0 END)
    -- channel
    + (CASE channel WHEN 'H5' THEN 0.18 WHEN '线下' THEN -0.25 WHEN '合作方' THEN 0.35 ELSE 0 END)
    -- requested amount against income
    + 0.3 * ln(1 + requested_amount::DOUBLE / coalesce(nullif(monthly_income, 0), 5000)::DOUBLE / 3)
    -- term
    + (CASE term_months WHEN 3 THEN -0.2 WHEN 6 THEN -0.1 WHEN 24 THEN 0.1 WHEN 36 THEN 0.2 ELSE 0 END)
    -- product, and a loan above 90% of the collateral's value
    + (CASE product WHEN '车贷' THEN -0.35 WHEN '房抵贷' THEN -0.7 ELSE 0 END)
    + (CASE WHEN collateral_value > 0 AND requested_amount::DOUBLE / collateral_value::DOUBLE > 0.9 THEN 0.3 ELSE 0 END)
    -- multi-lending: bureau inquiries before the apply date
    + 0.35 * ln(1 + inq_7d_total) + 0.25 * ln(1 + inq_30d_total) + 0.2 * ln(1 + inq_90d_total)
    + 0.1 * ln(1 + inq_180d_total) + 0.25 * ln(1 + inq_90d_nonbank)
    -- the bureau report
    + 0.4 * least(coalesce(bureau_overdue_accounts, 0), 4) + 0.15 * coalesce(bureau_worst_status_24m, 0)
    + 0.04 * least(coalesce(bureau_open_accounts, 0), 15)
    + 0.1 * ln(1 + coalesce(bureau_total_outstanding, 0)::DOUBLE / coalesce(nullif(monthly_income, 0), 5000)::DOUBLE / 12)
    -- marital status and gender
    + (CASE marital_status WHEN '已婚' THEN -0.15 WHEN '离异' THEN 0.15 WHEN '丧偶' THEN 0.05 ELSE 0 END)
    + (CASE WHEN gender = 'male' THEN 0.1 ELSE 0 END)
    AS observable_score
FROM FEATURES
