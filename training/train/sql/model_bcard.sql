-- The B-card modelling table: every B-card feature snapshot row (loan x
-- month end) joined with the B-card label of that loan at that month end.
-- train.go defines the views features_bcard (every snapshot file, with its
-- file name) and labels_bcard before running it.
-- reads: features/bcard, labels/bcard
--
-- Output: the snapshot's feature columns, then
--   __period  the observation month, YYYY-MM (the out-of-time split)
--   __y       the label: 1.0 bad, 0.0 good
-- one row per loan and observation date (train.go orders them so, and
-- samples them when max_rows asks). Only good and bad labels
-- (immature observations are left out).
WITH f AS (
  SELECT * EXCLUDE (filename),
         CAST(regexp_extract(filename, 'as_of=([0-9]{4}-[0-9]{2}-[0-9]{2})', 1) AS DATE) AS __snap
  FROM features_bcard
), l AS (
  SELECT loan_id, obs_date, bad FROM labels_bcard WHERE label IN ('good', 'bad') AND bad IS NOT NULL
)
SELECT f.* EXCLUDE (__snap), CAST(strftime(l.obs_date, '%Y-%m') AS VARCHAR) AS __period, CAST(l.bad AS DOUBLE) AS __y
FROM f JOIN l ON f.loan_id = l.loan_id AND f.__snap = l.obs_date
