-- A-card group: anti-fraud identity, sharing and velocity checks. Sharing
-- and velocity count other applications strictly before this one's
-- apply_time, within the window; the device, phone and IP are those
-- declared on each application. They are personal information, so the
-- lake holds only their keyed HMAC tokens, and equal tokens are equal
-- values: sharing counts are the same as on the clear values. The spine
-- carries the tokens' 128-bit MD5 numbers (device_key, phone_key,
-- ip_key), so the sharing joins compare integers. Every earlier
-- application is in the spine (it holds all applications before the
-- as-of date).
-- reads: (none)
-- uses: spine_acard
WITH app AS (
    SELECT app_idx, application_id, borrower_id, apply_time,
           device_key, phone_key, ip_key, gender, id_gender, age, id_checksum_ok
    FROM spine_acard
),
device_share AS (
    SELECT x.app_idx, count(DISTINCT y.borrower_id) AS n
    FROM app x
    JOIN spine_acard y
      ON y.device_key = x.device_key
     AND y.borrower_id <> x.borrower_id
     AND y.apply_time < x.apply_time
     AND y.apply_time >= x.apply_time - INTERVAL 30 DAY
    WHERE x.device_key IS NOT NULL
    GROUP BY x.app_idx
),
phone_share AS (
    SELECT x.app_idx, count(DISTINCT y.borrower_id) AS n
    FROM app x
    JOIN spine_acard y
      ON y.phone_key = x.phone_key
     AND y.borrower_id <> x.borrower_id
     AND y.apply_time < x.apply_time
     AND y.apply_time >= x.apply_time - INTERVAL 30 DAY
    WHERE x.phone_key IS NOT NULL
    GROUP BY x.app_idx
),
ip_share AS (
    SELECT x.app_idx, count(DISTINCT y.borrower_id) AS n
    FROM app x
    JOIN spine_acard y
      ON y.ip_key = x.ip_key
     AND y.borrower_id <> x.borrower_id
     AND y.apply_time < x.apply_time
     AND y.apply_time >= x.apply_time - INTERVAL 30 DAY
    WHERE x.ip_key IS NOT NULL
    GROUP BY x.app_idx
),
velocity AS (
    SELECT x.app_idx, count(*) AS n
    FROM app x
    JOIN spine_acard y
      ON y.borrower_id = x.borrower_id
     AND y.apply_time < x.apply_time
     AND y.apply_time >= x.apply_time - INTERVAL 7 DAY
    GROUP BY x.app_idx
)
SELECT
    x.app_idx,
    -- feature: id_checksum_ok | int | 1 when the ID number's GB 11643 check digit is valid, else 0 | ID declared on the application
    CAST(x.id_checksum_ok AS INTEGER) AS id_checksum_ok,
    -- feature: gender_mismatch | int | 1 when the declared gender differs from the ID's gender digit, 0 when equal, NULL when either is missing | declared on the application
    CASE WHEN x.gender IS NULL OR x.id_gender IS NULL THEN NULL
         WHEN x.gender <> x.id_gender THEN 1 ELSE 0 END AS gender_mismatch,
    -- feature: age_out_of_range | int | 1 when the ID-derived age is below 18 or above 60 | derived from the ID at apply_time
    CASE WHEN x.age IS NULL THEN NULL
         WHEN x.age < 18 OR x.age > 60 THEN 1 ELSE 0 END AS age_out_of_range,
    -- feature: device_shared_borrowers_30d | int | Other borrowers who applied from the same device in the 30 days before apply_time | apply_time in [t - 30d, t)
    coalesce(d.n, 0) AS device_shared_borrowers_30d,
    -- feature: phone_shared_borrowers_30d | int | Other borrowers who applied with the same phone (token) in the 30 days before apply_time | apply_time in [t - 30d, t)
    coalesce(p.n, 0) AS phone_shared_borrowers_30d,
    -- feature: ip_shared_borrowers_30d | int | Other borrowers who applied from the same IP in the 30 days before apply_time | apply_time in [t - 30d, t)
    coalesce(i.n, 0) AS ip_shared_borrowers_30d,
    -- feature: apps_same_borrower_7d | int | Earlier applications by the same borrower in the 7 days before apply_time | apply_time in [t - 7d, t)
    coalesce(v.n, 0) AS apps_same_borrower_7d
FROM app x
LEFT JOIN device_share d USING (app_idx)
LEFT JOIN phone_share p USING (app_idx)
LEFT JOIN ip_share i USING (app_idx)
LEFT JOIN velocity v USING (app_idx)
