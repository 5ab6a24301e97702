-- A-card group: the borrower link graph. Borrowers are linked when they
-- applied with the same device or the same phone (token). graph_links is
-- filled by package graph: an incremental union-find over the link events
-- of earlier applications and the outcome events of borrowers, in time
-- order (see prep_graph_links.sql and prep_borrower_outcomes.sql). For an
-- application at time t the group is the union of the groups of its
-- borrower, device and phone as they stood after every application
-- strictly before t. Counts of known outcomes exclude the applicant.
-- reads: (none)
-- uses: graph_links
SELECT
    app_idx,
    -- feature: link_group_size | int | Borrowers in the connected group linked through shared devices and phones, including the applicant | links of applications strictly before apply_time plus this application's own device and phone
    group_size AS link_group_size,
    -- feature: link_known_bad | int | Other borrowers in the group known bad before apply_time (a loan 90+ DPD before t) | outcomes known strictly before apply_time
    known_bad AS link_known_bad,
    -- feature: link_known_good | int | Other borrowers in the group known good before apply_time (a loan past 12 months on book never over 30 DPD, and not known bad) | outcomes known strictly before apply_time
    known_good AS link_known_good,
    -- feature: link_bad_rate | double | link_known_bad / (link_known_bad + link_known_good); NULL when no outcome is known | outcomes known strictly before apply_time
    CASE WHEN known_bad + known_good > 0
         THEN CAST(known_bad AS DOUBLE) / (known_bad + known_good) END AS link_bad_rate
FROM graph_links
