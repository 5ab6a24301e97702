-- Lost-contact loans at the as-of date d = getvariable('as_of') (a DATE;
-- events strictly before d count). A loan is lost when, of its collection
-- events before d whose outcome says whether the borrower can be reached
-- (lost_contact, contact_repaired, paid), the latest is lost_contact: the
-- same state as warn's lost_contact rule. (The latest event of any kind
-- is usually a no_answer call after the loss, so "latest outcome" is
-- read as the latest contact state.) On a tie in time, lost_contact
-- loses to contact_repaired and paid.
-- One row per lost loan, with the identity tokens of the loan's own
-- application (the phone that no longer answers among them).
WITH ev AS (
    SELECT loan_id,
           arg_max(outcome, epoch_us(event_time) * 4 + CASE outcome WHEN 'lost_contact' THEN 0 ELSE 1 END) AS state,
           max(event_time) FILTER (WHERE outcome = 'lost_contact') AS lost_at
    FROM collection_events
    WHERE event_time < CAST(getvariable('as_of') AS TIMESTAMP)
      AND outcome IN ('lost_contact', 'contact_repaired', 'paid')
    GROUP BY loan_id
)
SELECT
    -- loan_id: the lost loan
    l.loan_id,
    -- borrower_id: its borrower
    l.borrower_id,
    -- application_id: the loan's application
    l.application_id,
    -- lost_at: the latest lost_contact event before d
    ev.lost_at,
    -- id_number_token, phone_token, device_id_token, ip_token: tokens of
    -- the loan's application (phone_token is the lost phone)
    a.id_number_token,
    a.phone_token,
    a.device_id_token,
    a.ip_token
FROM ev
JOIN loans l USING (loan_id)
LEFT JOIN applications a ON a.application_id = l.application_id
WHERE ev.state = 'lost_contact'
