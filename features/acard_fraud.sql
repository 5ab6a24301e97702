-- A-card group: anti-fraud identity, sharing and velocity checks. Sharing
-- and velocity count other applications strictly before this one's
-- apply_time, within the window; the device, phone and IP are those
-- declared on each application. They are personal information, so the
-- lake holds only their keyed HMAC tokens, and equal tokens are equal
-- values: sharing counts are the same as on the clear values. Every
-- earlier application is in the spine (it holds all applications before
-- the as-of date).
-- The device and phone sharing counts and the velocity come from
-- app_sharing, which package features/sharing fills from the link graph's
-- dense node numbers of each application's borrower, device and phone
-- (prep_graph_links.sql, read once for the union-find and for these): a
-- counting sort by key and one sliding window over each key's
-- applications. The IP, which the graph does not number, is counted
-- here: a self-join of the spine on ip_key. As four such joins (and the
-- spine's columns copied once more for them) the group took 35.8 s of
-- the stage's 343 at 10M loans, against 0.8 s at 1M.
-- reads: (none)
-- uses: spine_acard, app_sharing
WITH ip_share AS (
    SELECT x.app_idx, count(DISTINCT y.borrower_id) AS n
    FROM spine_acard x
    JOIN spine_acard y
      ON y.ip_key = x.ip_key
     AND y.borrower_id <> x.borrower_id
     AND y.apply_time < x.apply_time
     AND y.apply_time >= x.apply_time - INTERVAL 30 DAY
    WHERE x.ip_key IS NOT NULL
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
    s.device_borrowers_30d AS device_shared_borrowers_30d,
    -- feature: phone_shared_borrowers_30d | int | Other borrowers who applied with the same phone (token) in the 30 days before apply_time | apply_time in [t - 30d, t)
    s.phone_borrowers_30d AS phone_shared_borrowers_30d,
    -- feature: ip_shared_borrowers_30d | int | Other borrowers who applied from the same IP in the 30 days before apply_time | apply_time in [t - 30d, t)
    coalesce(i.n, 0) AS ip_shared_borrowers_30d,
    -- feature: apps_same_borrower_7d | int | Earlier applications by the same borrower in the 7 days before apply_time | apply_time in [t - 7d, t)
    s.borrower_apps_7d AS apps_same_borrower_7d
FROM spine_acard x
JOIN app_sharing s USING (app_idx)
LEFT JOIN ip_share i USING (app_idx)
