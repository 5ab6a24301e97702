-- Macros shared by the SQL models of perf, features and warn; every stage
-- that runs one of them creates these first (perf.Macros).
-- reads: (none)
--
-- dpd_bucket(dpd): the delinquency bucket of a DPD figure (DESIGN.md):
-- C (0), M1 (1-30), M2 (31-60), M3 (61-90), M4+ (> 90).
CREATE OR REPLACE MACRO dpd_bucket(dpd) AS
    CASE WHEN dpd = 0 THEN 'C' WHEN dpd <= 30 THEN 'M1' WHEN dpd <= 60 THEN 'M2'
         WHEN dpd <= 90 THEN 'M3' ELSE 'M4+' END
