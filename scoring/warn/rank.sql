-- The early-warning ranking: each loan of the table signals (signals.sql)
-- with the enabled rules that fire, its priority, primary reason, action,
-- queue and rank. The rules come from the warn config as the table
-- warn_rules (one row per enabled rule: name, its evaluation order ord,
-- priority, action, queue), written by warn.go before this runs.
-- reads: (none)
-- uses: signals, warn_rules
--
-- Output: every column of signals, then
--   reasons         the names of the enabled rules that fire, in evaluation
--                   order, joined with ';' ('' when none fires)
--   priority        the smallest priority among them (the variable
--                   no_priority, warn.go's NoPriority, when none fires)
--   primary_reason  the first rule in evaluation order with that priority
--   action, queue   the primary rule's action and work queue
--   rank            1 = act first: by priority, then PD descending, then
--                   loan_id (reproducible whatever the input order)
WITH fired AS (
    -- one row per (loan, enabled rule that fires)
    SELECT u.loan_id, r.name, r.ord, r.priority, r.action, r.queue
    FROM (UNPIVOT (SELECT loan_id, COLUMNS('^s_') FROM signals)
          ON COLUMNS('^s_') INTO NAME sig_name VALUE sig_fires) u
    JOIN warn_rules r ON u.sig_name = 's_' || r.name
    WHERE u.sig_fires
),
per_loan AS (
    SELECT loan_id,
           string_agg(name, ';' ORDER BY ord) AS reasons,
           min(priority) AS priority,
           arg_min(name, CAST(priority AS BIGINT) * 1000 + ord) AS primary_reason,
           arg_min(action, CAST(priority AS BIGINT) * 1000 + ord) AS action,
           arg_min(queue, CAST(priority AS BIGINT) * 1000 + ord) AS queue
    FROM fired
    GROUP BY loan_id
)
SELECT s.*,
       coalesce(p.reasons, '') AS reasons,
       CAST(coalesce(p.priority, getvariable('no_priority')) AS INTEGER) AS priority,
       CAST(p.primary_reason AS VARCHAR) AS primary_reason,
       CAST(p.action AS VARCHAR) AS action,
       CAST(p.queue AS VARCHAR) AS queue,
       CAST(row_number() OVER (ORDER BY coalesce(p.priority, getvariable('no_priority')), s.pd DESC, s.loan_id) AS INTEGER) AS rank
FROM signals s
LEFT JOIN per_loan p ON p.loan_id = s.loan_id
