-- Link events for the borrower graph, in time order (apply_time, then
-- application_id): one row per A-card
-- application with dense node numbers for its borrower, device and phone
-- (-1 when missing). Nodes 0..B-1 are borrowers; devices and phones
-- follow, numbered here from the spine's device and phone keys in no
-- particular order (no sort of the keys): the union-find's groups, their
-- sizes and outcome counts do not depend on the numbering, so the
-- features are the same whatever numbers a run hands out.
-- The time is microseconds since the epoch of the local time.
-- reads: (none)
-- uses: graph_borrowers, spine_acard
WITH dev AS (
    SELECT device_key, row_number() OVER () - 1 AS node
    FROM (SELECT DISTINCT device_key FROM spine_acard WHERE device_key IS NOT NULL)
),
ph AS (
    SELECT phone_key, row_number() OVER () - 1 AS node
    FROM (SELECT DISTINCT phone_key FROM spine_acard WHERE phone_key IS NOT NULL)
),
n AS (
    SELECT (SELECT count(*) FROM graph_borrowers) AS borrowers,
           (SELECT count(*) FROM dev) AS devices
)
SELECT s.app_idx,
       epoch_us(s.apply_time) AS t,
       b.node AS borrower_node,
       coalesce(CAST(n.borrowers + d.node AS INTEGER), -1) AS device_node,
       coalesce(CAST(n.borrowers + n.devices + p.node AS INTEGER), -1) AS phone_node
FROM spine_acard s
JOIN graph_borrowers b ON b.borrower_id = s.borrower_id
LEFT JOIN dev d USING (device_key)
LEFT JOIN ph p USING (phone_key)
CROSS JOIN n
ORDER BY s.apply_time, s.app_idx
