-- The A-card modelling table: the latest A-card feature snapshot row of
-- each application joined with its A-card label, mature vintages only.
-- train.go defines the views features_acard (every snapshot file, with
-- its file name) and labels_acard before running it.
-- reads: features/acard, labels/acard
--
-- Output: the snapshot's feature columns, then
--   __period  the application's issue month, YYYY-MM (the out-of-time split)
--   __y       the label: 1.0 bad, 0.0 good
-- one row per application (train.go orders them by application_id, and
-- samples them when max_rows asks). Only good and bad labels of issue months in
-- which no loan is immature: an issue month with any immature loan would
-- bring its early bads without the goods that are still running, and bias
-- both the sample's bad rate and its mix (short terms).
WITH f AS (
  SELECT * EXCLUDE (filename),
         CAST(regexp_extract(filename, 'as_of=([0-9]{4}-[0-9]{2}-[0-9]{2})', 1) AS DATE) AS __snap
  FROM features_acard
  QUALIFY row_number() OVER (PARTITION BY application_id ORDER BY CAST(regexp_extract(filename, 'as_of=([0-9]{4}-[0-9]{2}-[0-9]{2})', 1) AS DATE) DESC) = 1
), lab AS (
  SELECT * FROM labels_acard
), l AS (
  -- mature vintages only (see above)
  SELECT application_id, issue_month, bad FROM lab
  WHERE label IN ('good', 'bad') AND bad IS NOT NULL
    AND issue_month IN (SELECT issue_month FROM lab GROUP BY issue_month HAVING bool_and(label <> 'immature'))
)
SELECT f.* EXCLUDE (__snap), CAST(strftime(l.issue_month, '%Y-%m') AS VARCHAR) AS __period, CAST(l.bad AS DOUBLE) AS __y
FROM f JOIN l USING (application_id)
