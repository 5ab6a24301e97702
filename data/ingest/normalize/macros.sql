-- macros.sql: the value normalisers of package normalize, as DuckDB macros.
-- Each returns NULL when the value does not parse. Keep in step with
-- normalize.go: the tests compare the two on a corpus and under fuzzing.

-- qd_trim: spaces and tabs removed; empty means missing (NULL).
CREATE OR REPLACE TEMP MACRO qd_trim(s) AS NULLIF(trim(s, ' ' || chr(9)), '');

-- Each parser of money, dates, timestamps and integers has a fast path
-- for the canonical form: a TRY_CAST whose result, printed back, is the
-- input itself. Such an input always matches the first pattern of the
-- full (regular-expression) parser, which would return the same value, so
-- the fast path changes no result; the full parser runs only on the rows
-- where it fails (COALESCE evaluates its second argument only there).

-- Money: -?digits[.d[d]] or with thousands separators; at most 16 integer digits.
-- (A DECIMAL(18,2) prints as -?[0-9]{1,16}.[0-9]{2}.)
CREATE OR REPLACE TEMP MACRO qd_money_re(s) AS CASE
  WHEN regexp_full_match(s, '-?[0-9]{1,16}(\.[0-9]{1,2})?') THEN TRY_CAST(s AS DECIMAL(18,2))
  WHEN regexp_full_match(s, '-?[0-9]{1,3}(,[0-9]{3}){1,5}(\.[0-9]{1,2})?')
       AND length(regexp_replace(s, '[^0-9]', '', 'g')) - coalesce(length(regexp_extract(s, '\.([0-9]*)$', 1)), 0) <= 16
    THEN TRY_CAST(replace(s, ',', '') AS DECIMAL(18,2))
END;
CREATE OR REPLACE TEMP MACRO qd_money(s) AS coalesce(
  CASE WHEN CAST(TRY_CAST(s AS DECIMAL(18,2)) AS VARCHAR) = s THEN TRY_CAST(s AS DECIMAL(18,2)) END,
  qd_money_re(s));
CREATE OR REPLACE TEMP MACRO qd_money_thousands(s) AS (s LIKE '%,%' AND qd_money(s) IS NOT NULL);

-- Dates: 2018-05-01 canonical; 2018-5-1, 2018/5/1, 20180501 also; years 1900..2099.
CREATE OR REPLACE TEMP MACRO qd_date_range(d) AS CASE WHEN CAST(d AS DATE) BETWEEN DATE '1900-01-01' AND DATE '2099-12-31' THEN d END;
CREATE OR REPLACE TEMP MACRO qd_date_dash(t) AS
  TRY_CAST(split_part(t, '-', 1) || '-' || lpad(split_part(t, '-', 2), 2, '0') || '-' || lpad(split_part(t, '-', 3), 2, '0') AS DATE);
CREATE OR REPLACE TEMP MACRO qd_date_re(s) AS (CASE
  WHEN regexp_full_match(s, '[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN TRY_CAST(s AS DATE)
  WHEN regexp_full_match(s, '[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}|[0-9]{4}/[0-9]{1,2}/[0-9]{1,2}') THEN qd_date_dash(replace(s, '/', '-'))
  WHEN regexp_full_match(s, '[0-9]{8}') THEN TRY_CAST(substr(s, 1, 4) || '-' || substr(s, 5, 2) || '-' || substr(s, 7, 2) AS DATE)
END);
CREATE OR REPLACE TEMP MACRO qd_date(s) AS qd_date_range(coalesce(
  CASE WHEN length(s) = 10 AND CAST(TRY_CAST(s AS DATE) AS VARCHAR) = s THEN TRY_CAST(s AS DATE) END,
  qd_date_re(s)));
CREATE OR REPLACE TEMP MACRO qd_date_other(s) AS (NOT regexp_full_match(s, '[0-9]{4}-[0-9]{2}-[0-9]{2}') AND qd_date(s) IS NOT NULL);

-- Timestamps: a date in any form, optionally [ T]H[H]:MM[:SS]. Canonical: YYYY-MM-DD HH:MM:SS.
CREATE OR REPLACE TEMP MACRO qd_hms(t) AS CASE
  WHEN t IS NULL OR t = '' THEN INTERVAL 0 SECOND
  WHEN regexp_full_match(t, '[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?')
       AND TRY_CAST(split_part(t, ':', 1) AS INTEGER) < 24 AND TRY_CAST(split_part(t, ':', 2) AS INTEGER) < 60
       AND coalesce(TRY_CAST(NULLIF(split_part(t, ':', 3), '') AS INTEGER), 0) < 60
    THEN to_seconds(CAST(split_part(t, ':', 1) AS INTEGER) * 3600 + CAST(split_part(t, ':', 2) AS INTEGER) * 60
                    + coalesce(TRY_CAST(NULLIF(split_part(t, ':', 3), '') AS INTEGER), 0))
END;
CREATE OR REPLACE TEMP MACRO qd_ts_parts(d, t) AS CAST(d AS TIMESTAMP) + qd_hms(t);
CREATE OR REPLACE TEMP MACRO qd_ts_re(s) AS CASE
  WHEN regexp_full_match(s, '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}')
    THEN CASE WHEN substr(s, 12, 2) < '24' AND substr(s, 15, 2) < '60' AND substr(s, 18, 2) < '60'
      THEN qd_date_range(TRY_CAST(s AS TIMESTAMP)) END
  WHEN regexp_full_match(s, '[0-9/-]+([ T][0-9:]*)?')
    THEN qd_ts_parts(qd_date(regexp_extract(s, '^[^ T]*')), CASE WHEN regexp_matches(s, '[ T]') THEN coalesce(NULLIF(regexp_extract(s, '[ T](.*)$', 1), ''), 'x') END)
END;
-- (A TIMESTAMP without fractional seconds prints as 19 characters.)
CREATE OR REPLACE TEMP MACRO qd_ts(s) AS coalesce(
  CASE WHEN length(s) = 19 AND CAST(TRY_CAST(s AS TIMESTAMP) AS VARCHAR) = s THEN qd_date_range(TRY_CAST(s AS TIMESTAMP)) END,
  qd_ts_re(s));
CREATE OR REPLACE TEMP MACRO qd_ts_other(s) AS
  (NOT regexp_full_match(s, '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}') AND qd_ts(s) IS NOT NULL);

-- Integers: -?[0-9]{1,9}.  Rates: -?[0-9]{1,3}(.[0-9]{1,6})?
CREATE OR REPLACE TEMP MACRO qd_int_re(s) AS CASE WHEN regexp_full_match(s, '-?[0-9]{1,9}') THEN CAST(s AS INTEGER) END;
CREATE OR REPLACE TEMP MACRO qd_int(s) AS coalesce(
  CASE WHEN CAST(TRY_CAST(s AS INTEGER) AS VARCHAR) = s AND TRY_CAST(s AS INTEGER) BETWEEN -999999999 AND 999999999
    THEN TRY_CAST(s AS INTEGER) END,
  qd_int_re(s));
CREATE OR REPLACE TEMP MACRO qd_rate(s) AS CASE WHEN regexp_full_match(s, '-?[0-9]{1,3}(\.[0-9]{1,6})?') THEN CAST(s AS DECIMAL(9,6)) END;
