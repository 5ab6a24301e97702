-- A-card group: application attributes, as declared on the application
-- (known at apply_time by construction).
-- reads: loans
-- uses: spine_application
--
-- Installment-to-income uses an annuity over the requested amount and
-- term at rate r/12, where r is the product-typical rate: the mean
-- annual_rate of the product's loans issued before the apply date (a
-- running mean, so nothing after apply time is used), else 24% (the
-- judicial ceiling). The application's own loan rate is deliberately not
-- used: it is set by the decision this score informs, and a new
-- application being scored has no loan yet, so using it would make the
-- feature differ between training and scoring.
WITH city_tier AS (
    -- The tier lenders use for a city (1 = Beijing/Shanghai/Guangzhou/
    -- Shenzhen/Chengdu .. 4 = small prefecture-level cities), a static
    -- reference table keyed by the bare city name.
    SELECT * FROM (VALUES
        ('北京', 1), ('上海', 1), ('广州', 1), ('深圳', 1), ('成都', 1),
        ('天津', 2), ('沈阳', 2), ('大连', 2), ('哈尔滨', 2), ('南京', 2), ('苏州', 2), ('无锡', 2), ('杭州', 2), ('宁波', 2), ('合肥', 2), ('福州', 2), ('厦门', 2), ('济南', 2), ('青岛', 2), ('郑州', 2), ('武汉', 2), ('长沙', 2), ('东莞', 2), ('佛山', 2), ('重庆', 2), ('西安', 2),
        ('石家庄', 3), ('唐山', 3), ('保定', 3), ('太原', 3), ('呼和浩特', 3), ('长春', 3), ('徐州', 3), ('温州', 3), ('金华', 3), ('芜湖', 3), ('泉州', 3), ('南昌', 3), ('潍坊', 3), ('临沂', 3), ('洛阳', 3), ('宜昌', 3), ('襄阳', 3), ('惠州', 3), ('南宁', 3), ('海口', 3), ('三亚', 3), ('绵阳', 3), ('贵阳', 3), ('昆明', 3), ('兰州', 3), ('乌鲁木齐', 3),
        ('沧州', 4), ('大同', 4), ('运城', 4), ('包头', 4), ('鞍山', 4), ('吉林', 4), ('大庆', 4), ('阜阳', 4), ('赣州', 4), ('宜春', 4), ('南阳', 4), ('周口', 4), ('衡阳', 4), ('常德', 4), ('柳州', 4), ('桂林', 4), ('南充', 4), ('遵义', 4), ('曲靖', 4), ('拉萨', 4), ('咸阳', 4), ('天水', 4), ('西宁', 4), ('银川', 4), ('克拉玛依', 4)
    ) t(city_name, tier)
),
product_day AS (
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
-- The rate and the city's tier are looked up once per product and
-- apply date and once per declared city, not per application (the ASOF
-- join sorted whole spine rows and the regular expressions ran on every
-- row: 45 s of a 10M-loan book's snapshot).
day_rate AS (
    SELECT d.product, d.apply_date, CAST(coalesce(pr.annual_rate, 0.24) AS DOUBLE) AS rate
    FROM (SELECT DISTINCT product, apply_date FROM spine_application) d
    ASOF LEFT JOIN product_rate pr ON pr.product = d.product AND d.apply_date > pr.issue_date
),
city AS (
    SELECT c.city, ct.tier AS city_tier
    FROM (
        -- declared city as free text: '河北省石家庄市', '北京市', '石家庄'
        SELECT city, regexp_replace(regexp_replace(trim(city), '^.*?(省|自治区)', ''), '市$', '') AS city_name
        FROM (SELECT DISTINCT city FROM spine_application WHERE city IS NOT NULL)
    ) c
    LEFT JOIN city_tier ct USING (city_name)
),
base_tier AS (
    SELECT s.*, coalesce(r.rate, 0.24) AS rate, c.city_tier
    FROM spine_application s
    LEFT JOIN day_rate r ON r.product = s.product AND r.apply_date = s.apply_date
    LEFT JOIN city c ON c.city = s.city
),
inst AS (
    SELECT *,
           CASE
               WHEN term_months IS NULL OR term_months <= 0 THEN NULL
               WHEN rate <= 0 THEN CAST(requested_amount AS DOUBLE) / term_months
               ELSE CAST(requested_amount AS DOUBLE) * (rate / 12) / (1 - pow(1 + rate / 12, -term_months))
           END AS installment
    FROM base_tier
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
    city,
    -- feature: city_tier | int | Tier of the declared city (1 = Beijing/Shanghai/Guangzhou/Shenzhen/Chengdu .. 4 = small cities), from a static reference table; NULL when the city is not in it | declared on the application
    city_tier
FROM inst
