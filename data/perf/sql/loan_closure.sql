-- perf/loan_closure: one row per loan of the lake: how and when it closed
-- as far as all the payments in the lake say. Computed once by perf from
-- perf/installment_payoff and read by the panel, the B-card spine and the
-- early-warning list.
-- (per hash partition of the loans: the views chunk_loans,
-- chunk_repayments and chunk_payoff)
-- reads: loans, repayments, perf/installment_payoff
--
-- Point in time: the dates only move forward in time (a loan paid off or
-- at 180 DPD stays so), so a reader as of d compares them with d; the
-- exported status is the export's, as it always was for these readers.
--
-- Columns:
--   loan_id           the loan
--   status            the exported status (active / settled / written_off ...)
--   issue_date        the issue date
--   last_paid_at      time of the loan's last payment (any installment,
--                     also one not in the schedule), NULL if none; dates an
--                     early settlement of a loan exported as 'settled'
--   paid_off_at       time its last installment was paid off when every
--                     schedule row is (an installment with nothing due
--                     counts on its due date), else NULL
--   wo180_month_end   for a loan exported as 'written_off': the first month
--                     end at which an installment with something due has
--                     been unpaid 180 days (due_date + 180 falls in that
--                     month and the installment is not paid off by its
--                     end), NULL if none or another status
--   closure_kind      'settled' (exported settled, or every installment
--                     paid off), 'written_off' (exported written off) or
--                     NULL (open)
--   closure_date      the day it closed: the last payment day (issue date
--                     without payments) of an exported settlement, the
--                     paid-off day, wo180_month_end for a write-off; NULL
--                     when not known from the payments
WITH last_pay AS (
    SELECT loan_id, max(paid_at) AS last_paid_at FROM chunk_repayments GROUP BY loan_id
),
inst AS (
    SELECT loan_id,
           CASE WHEN count(paid_off_at) = count(*) THEN max(paid_off_at) END AS paid_off_at
    FROM chunk_payoff
    GROUP BY loan_id
),
wo AS (
    SELECT i.loan_id,
           min(last_day(i.due_date + 180)) AS wo180_month_end
    FROM chunk_payoff i
    SEMI JOIN chunk_loans l ON l.loan_id = i.loan_id AND l.status = 'written_off'
    WHERE i.amount_due > 0
      AND (i.paid_off_at IS NULL OR CAST(i.paid_off_at AS DATE) > last_day(i.due_date + 180))
    GROUP BY i.loan_id
)
SELECT l.loan_id, l.status, l.issue_date, lp.last_paid_at, i.paid_off_at, w.wo180_month_end,
       CASE WHEN l.status = 'written_off' THEN 'written_off'
            WHEN l.status = 'settled' OR i.paid_off_at IS NOT NULL THEN 'settled' END AS closure_kind,
       CASE WHEN l.status = 'written_off' THEN w.wo180_month_end
            WHEN l.status = 'settled' THEN coalesce(CAST(lp.last_paid_at AS DATE), l.issue_date)
            ELSE CAST(i.paid_off_at AS DATE) END AS closure_date
FROM chunk_loans l
LEFT JOIN last_pay lp USING (loan_id)
LEFT JOIN inst i USING (loan_id)
LEFT JOIN wo w USING (loan_id)
ORDER BY l.loan_id
