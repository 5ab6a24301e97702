-- Link events for the borrower graph, in time order (apply_time, then
-- application_id): one row per A-card
-- application with dense node numbers for its borrower, device and phone
-- (devices and phones by their tokens)
-- (-1 when missing). Nodes 0..B-1 are borrowers; devices and phones
-- follow. The time is microseconds since the epoch of the local time.
-- Devices and phones are numbered in no particular order (row_number()
-- OVER (), no sort of the 64-character tokens): the union-find's groups,
-- their sizes and outcome counts do not depend on the numbering, so the
-- features are the same whatever numbers a run hands out.
-- reads: (none)
-- uses: graph_borrowers, spine_acard
WITH b AS (SELECT * FROM graph_borrowers),
nb AS (SELECT count(*) AS n FROM b),
dev AS (
    SELECT device_id_token, CAST((SELECT n FROM nb) + row_number() OVER () - 1 AS INTEGER) AS node
    FROM (SELECT DISTINCT device_id_token FROM spine_acard WHERE device_id_token IS NOT NULL AND device_id_token <> '')
),
nd AS (SELECT (SELECT n FROM nb) + count(*) AS n FROM dev),
ph AS (
    SELECT phone_token, CAST((SELECT n FROM nd) + row_number() OVER () - 1 AS INTEGER) AS node
    FROM (SELECT DISTINCT phone_token FROM spine_acard WHERE phone_token IS NOT NULL AND phone_token <> '')
)
SELECT s.app_idx,
       epoch_us(s.apply_time) AS t,
       b.node AS borrower_node,
       coalesce(dev.node, -1) AS device_node,
       coalesce(ph.node, -1) AS phone_node
FROM spine_acard s
JOIN b ON b.borrower_id = s.borrower_id
LEFT JOIN dev ON dev.device_id_token = s.device_id_token
LEFT JOIN ph ON ph.phone_token = s.phone_token
ORDER BY s.apply_time, s.app_idx
