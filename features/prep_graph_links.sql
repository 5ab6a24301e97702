-- Link events for the borrower graph, in time order (apply_time, then
-- application_id): one row per A-card
-- application with dense node numbers for its borrower, device and phone
-- (the spine's device_node and phone_node, offset)
-- (-1 when missing). Nodes 0..B-1 are borrowers; devices and phones
-- follow. The time is microseconds since the epoch of the local time.
-- The spine numbers devices and phones in no particular order (no sort of
-- the 64-character tokens): the union-find's groups, their sizes and
-- outcome counts do not depend on the numbering, so the features are the
-- same whatever numbers a run hands out.
-- reads: (none)
-- uses: graph_borrowers, spine_acard
WITH n AS (
    SELECT (SELECT count(*) FROM graph_borrowers) AS borrowers,
           (SELECT coalesce(max(device_node) + 1, 0) FROM spine_acard) AS devices
)
SELECT s.app_idx,
       epoch_us(s.apply_time) AS t,
       b.node AS borrower_node,
       coalesce(CAST(n.borrowers + s.device_node AS INTEGER), -1) AS device_node,
       coalesce(CAST(n.borrowers + n.devices + s.phone_node AS INTEGER), -1) AS phone_node
FROM spine_acard s
JOIN graph_borrowers b ON b.borrower_id = s.borrower_id
CROSS JOIN n
ORDER BY s.apply_time, s.app_idx
