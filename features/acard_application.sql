-- A-card group: application attributes, as declared on the application
-- (known at apply_time by construction).
--
-- Installment-to-income uses an annuity over the requested amount and
-- term at rate r/12, where r is the product-typical rate: the mean
-- annual_rate of the product's loans issued before the apply date (a
-- running mean, so nothing after apply time is used), else 24% (the
-- judicial ceiling). The application's own loan rate is deliberately not
-- used: it is set by the decision this score informs, and a new
-- application being scored has no loan yet, so using it would make the
-- feature differ between training and scoring.
WITH product_day AS (
    SELECT product, issue_date, sum(annual_rate) AS rate_sum, count(*) AS n
    FROM loans
    GROUP BY product, issue_date
),
product_rate AS (
    SELECT product, issue_date,
           sum(rate_sum) OVER w / sum(n) OVER w AS annual_rate
    FROM product_day
    WINDOW w AS (PARTITION BY product ORDER BY issue_date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
base AS (
    SELECT s.*,
           CAST(coalesce(pr.annual_rate, 0.24) AS DOUBLE) AS rate
    FROM spine_acard s
    ASOF LEFT JOIN product_rate pr ON pr.product = s.product AND s.apply_date > pr.issue_date
),
inst AS (
    SELECT *,
           CASE
               WHEN term_months IS NULL OR term_months <= 0 THEN NULL
               WHEN rate <= 0 THEN CAST(requested_amount AS DOUBLE) / term_months
               ELSE CAST(requested_amount AS DOUBLE) * (rate / 12) / (1 - pow(1 + rate / 12, -term_months))
           END AS installment
    FROM base
)
SELECT
    app_idx,
    -- feature: age | int | Age in whole years at apply time, from the ID number's birth date | derived from the ID at apply_time
    age,
    -- feature: monthly_income | money | Declared monthly income, CNY | declared on the application
    monthly_income,
    -- feature: employment_years | double | Declared years in current employment | declared on the application
    CAST(employment_years AS DOUBLE) AS employment_years,
    -- feature: education | category | Declared education (free text) | declared on the application
    education,
    -- feature: marital_status | category | Declared marital status (free text) | declared on the application
    marital_status,
    -- feature: channel | category | Acquisition channel of the application | declared on the application
    channel,
    -- feature: product | category | Product applied for | declared on the application
    product,
    -- feature: requested_amount | money | Requested amount, CNY | declared on the application
    requested_amount,
    -- feature: term_months | int | Requested term in months | declared on the application
    term_months,
    -- feature: assumed_annual_rate | double | Product-typical annual rate of the installment estimate: mean rate of the product's loans issued before the apply date, else 0.24 | loans issued before the apply date
    rate AS assumed_annual_rate,
    -- feature: installment_estimate | money | Annuity installment of the requested amount and term at assumed_annual_rate, CNY | application and assumed rate
    CAST(round(installment, 2) AS DECIMAL(18,2)) AS installment_estimate,
    -- feature: installment_to_income | double | installment_estimate / monthly_income (NULL when income is missing or zero) | application and assumed rate
    CASE WHEN monthly_income > 0 THEN installment / CAST(monthly_income AS DOUBLE) END AS installment_to_income,
    -- feature: amount_to_income | double | requested_amount / monthly_income: months of income asked for (NULL when income is missing or zero) | declared on the application
    CASE WHEN monthly_income > 0 THEN CAST(requested_amount AS DOUBLE) / CAST(monthly_income AS DOUBLE) END AS amount_to_income,
    -- feature: gender | category | Declared gender (male/female) | declared on the application
    gender,
    -- feature: city | category | Declared city (free text) | declared on the application
    city
FROM inst
